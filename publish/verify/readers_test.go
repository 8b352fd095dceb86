package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/verify"
)

// faultyFiles is a small tree with one object large enough to stall in.
var faultyFiles = map[string]string{
	"index.html": "<p>home</p>",
	"big.bin":    strings.Repeat("b", 64<<10),
}

// TestRunBoundsEveryRead: a manifest or object body that stalls, or an
// object body that never ends, fails verify within the stall bound: it is
// reported, not waited on until the caller gives up. The context's
// deadline only detects a hang.
func TestRunBoundsEveryRead(t *testing.T) {
	pub := treetest.NewPublisher(t, "bounded")
	tr := pub.Sign(1, faultyFiles)
	cases := []struct {
		name   string
		faults map[string]treetest.Fault
		path   string // the failure expected
		reason string
	}{
		{"stalled manifest", map[string]treetest.Fault{tree.ManifestName: {Stall: 20}}, tree.ManifestName, "manifest.json: no data for 200ms: the connection stalled"},
		{"stalled signature of the manifest", map[string]treetest.Fault{tree.ManifestSigName: {Stall: 5}}, tree.ManifestName, "manifest.json.sig.bin: no data for 200ms"},
		{"endless object", map[string]treetest.Fault{"big.bin": {Endless: true}}, "big.bin", "size 65537, manifest says 65536"},
		{"stalled object", map[string]treetest.Fault{"big.bin": {Stall: 1000}}, "big.bin", "big.bin: no data for 200ms: the connection stalled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			src := treetest.ServeFaulty(t, tr, c.faults)
			rep, err := verify.Run(ctx, src, verify.Job{KeyFile: pub.KeyFile, Options: verify.Options{Stall: 200 * time.Millisecond}})
			if ctx.Err() != nil {
				t.Fatalf("verify hung until the test gave up: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failures) != 1 || rep.Failures[0].Path != c.path || !strings.Contains(rep.Failures[0].Reason, c.reason) {
				t.Errorf("failures %v; want only %s: …%s…", rep.Failures, c.path, c.reason)
			}
		})
	}
}

// TestRunRefusesImpossibleDates: a manifest, signed with the right key,
// that expires before it was generated, or was generated more than the
// clock skew allowance ahead, is refused, naming both dates.
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
		want               []string // in the failure; nil: verifies
	}{
		{"generated after it expires", gen99, exp98, false, []string{"generated 2099-01-01T00:00:00Z is after its expiry 2098-01-01T00:00:00Z"}},
		{"generated after it expires, expiry allowed", gen99, exp98, true, []string{"generated 2099-01-01T00:00:00Z is after its expiry 2098-01-01T00:00:00Z"}},
		{"generated two days ahead", now.Add(48 * time.Hour), now.Add(72 * time.Hour), false,
			[]string{"generated " + rfc(now.Add(48*time.Hour)) + ", more than 24h0m0s after now", "expiry " + rfc(now.Add(72*time.Hour))}},
		{"generated within the clock skew", now.Add(time.Hour), now.Add(72 * time.Hour), false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			pub.SignDated(1, map[string]string{"index.html": "home"}, c.generated, c.expires).Write(t, dir)
			rep, err := verify.Run(context.Background(), openDir(t, dir), verify.Job{KeyFile: pub.KeyFile, Options: verify.Options{AllowExpired: c.allowExpired}})
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if !rep.OK() {
					t.Errorf("refused: %v", rep.Failures)
				}
				return
			}
			if len(rep.Failures) != 1 || rep.Failures[0].Path != tree.ManifestName {
				t.Fatalf("failures %v; want one, of %s", rep.Failures, tree.ManifestName)
			}
			for _, w := range c.want {
				if !strings.Contains(rep.Failures[0].Reason, w) {
					t.Errorf("reason %q lacks %q", rep.Failures[0].Reason, w)
				}
			}
		})
	}
}
