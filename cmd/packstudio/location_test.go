package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/packstudio/packstudio/internal/tree"
)

// TestSegmentsTakeNoFlagName: a browse segment becomes a flag of mirror and
// push (--cloud), so a segment named like any other flag of any command
// (--region, --key, --jobs) would either panic every command at start-up
// or mean two things. Rename the segment, or the flag.
func TestSegmentsTakeNoFlagName(t *testing.T) {
	var root *cobra.Command
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("making the commands panicked (a segment flag redefines another?): %v", r)
			}
		}()
		root = newRoot(&env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }})
	}()
	segment := map[string]bool{}
	for _, s := range tree.BrowseSegments {
		segment[s.Name] = true
	}
	// Flags that take a value of that very facet, in another role (the
	// context a profile is resolved in): the same word, the same meaning.
	sameFacet := map[string]bool{"resolve --product": true, "resolve --version": true, "resolve --cloud": true}
	segmentFlags := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			if !segment[f.Name] {
				return
			}
			if sameFacet[c.Name()+" --"+f.Name] {
				return
			}
			if strings.HasPrefix(f.Usage, "only artifacts ") {
				segmentFlags++
				return
			}
			t.Errorf("%s --%s (%s) has the name of a browse segment", c.CommandPath(), f.Name, f.Usage)
		}
		c.Flags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if want := 2 * len(tree.BrowseSegments); segmentFlags != want { // mirror and push
		t.Errorf("found %d segment flags, want %d (one per segment on mirror and push)", segmentFlags, want)
	}
}
