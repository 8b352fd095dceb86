package mirror_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// TestRunBoundsEveryRead: a manifest or object body that stalls, or an
// object body that never ends, fails the mirror within the stall bound
// (times its retries), and leaves no manifest in dest. The context's
// deadline only detects a hang.
func TestRunBoundsEveryRead(t *testing.T) {
	pub := treetest.NewPublisher(t, "bounded")
	tr := pub.Sign(1, map[string]string{"index.html": "<p>home</p>", "big.bin": strings.Repeat("b", 64<<10)})
	cases := []struct {
		name    string
		faults  map[string]treetest.Fault
		err     string // in the error
		failure string // of big.bin, when the mirror got as far
	}{
		{"stalled manifest", map[string]treetest.Fault{tree.ManifestName: {Stall: 20}}, "manifest.json: no data for 200ms: the connection stalled", ""},
		{"endless object", map[string]treetest.Fault{"big.bin": {Endless: true}}, "mirror did not complete", "tampered or corrupt: size 65537"},
		{"stalled object", map[string]treetest.Fault{"big.bin": {Stall: 1000}}, "mirror did not complete", "big.bin: no data for 200ms: the connection stalled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			src := treetest.ServeFaulty(t, tr, c.faults)
			dest := filepath.Join(t.TempDir(), "mirror")
			res, err := mirror.Run(ctx, src, dest, mirror.Job{KeyFile: pub.KeyFile, Mirror: mirror.Options{Stall: 200 * time.Millisecond, Retries: 2}})
			if ctx.Err() != nil {
				t.Fatalf("mirror hung until the test gave up: %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("got %v; want …%s…", err, c.err)
			}
			if c.failure != "" {
				if !errors.Is(err, mirror.ErrFailed) || len(res.Failures) != 1 || res.Failures[0].Path != "big.bin" || !strings.Contains(res.Failures[0].Reason, c.failure) {
					t.Errorf("failures %v; want only big.bin: …%s…", res.Failures, c.failure)
				}
			}
			if treetest.Exists(filepath.Join(dest, tree.ManifestName)) {
				t.Error("a failed mirror wrote its manifest")
			}
		})
	}
}

// TestRunRefusesImpossibleDates: a manifest signed with the pinned key
// that expires before it was generated, or was generated more than the
// clock skew allowance ahead, is refused, naming both dates, and nothing
// is written.
func TestRunRefusesImpossibleDates(t *testing.T) {
	pub := treetest.NewPublisher(t, "dates")
	now := time.Now().UTC().Truncate(time.Second)
	rfc := func(t time.Time) string { return t.Format(time.RFC3339) }
	gen99 := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	exp98 := time.Date(2098, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name               string
		generated, expires time.Time
		allowExpired       bool
		want               []string // in the error; nil: mirrored
	}{
		{"generated after it expires", gen99, exp98, false, []string{"manifest.json: generated 2099-01-01T00:00:00Z is after its expiry 2098-01-01T00:00:00Z"}},
		{"generated after it expires, expiry allowed", gen99, exp98, true, []string{"manifest.json: generated 2099-01-01T00:00:00Z is after its expiry 2098-01-01T00:00:00Z"}},
		{"generated two days ahead", now.Add(48 * time.Hour), now.Add(72 * time.Hour), false,
			[]string{"manifest.json: generated " + rfc(now.Add(48*time.Hour)) + ", more than 24h0m0s after now", "expiry " + rfc(now.Add(72*time.Hour))}},
		{"generated within the clock skew", now.Add(time.Hour), now.Add(72 * time.Hour), false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := treetest.ServeTree(t, pub.SignDated(1, map[string]string{"index.html": "home"}, c.generated, c.expires))
			dest := filepath.Join(t.TempDir(), "mirror")
			_, err := mirror.Run(context.Background(), s.Reader, dest, mirror.Job{KeyFile: pub.KeyFile, Mirror: mirror.Options{AllowExpired: c.allowExpired}})
			if c.want == nil {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("mirrored")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if treetest.Exists(dest) {
				t.Error("a refused manifest wrote to dest")
			}
			if n := s.Count(tree.ManifestName); n != 1 {
				t.Errorf("%d reads of the manifest; a manifest that cannot be right is not asked again", n)
			}
		})
	}
}
