package browsertest

import (
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// The harness must notice what it promises to notice: a console error, an
// uncaught exception and a request that leaves the site.
func TestHarnessReportsProblems(t *testing.T) {
	for _, root := range []string{ServeRoot(t, "testdata/hostile"), FileRoot("testdata/hostile")} {
		p := Open(t, root, "index.html")
		got := strings.Join(p.Problems(), "\n")
		for _, want := range []string{"console.error: boom", "Error: uncaught", "request leaves the site: http://192.0.2.1/tracker.png"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: problems do not report %q:\n%s", root, want, got)
			}
		}
		p.ForgetProblems()
	}
}

// A clean page over HTTP and from file:// passes, and the copy hook and the
// granted clipboard both see what a page copies.
func TestHarnessCleanPageAndClipboard(t *testing.T) {
	site := Shared(t, "demo", BuildDemo)
	for _, root := range []string{ServeRoot(t, site.Dir), FileRoot(site.Dir)} {
		p := Open(t, root, "index.html")
		if len(p.Texts("h1")) == 0 {
			t.Errorf("%s: home page has no heading", root)
		}
		p.Do(`navigator.clipboard.writeText("copied text")`)
		if got := p.Copied(); got != "copied text" {
			t.Errorf("%s: Copied() = %q", root, got)
		}
		if got := p.Clipboard(); got != "copied text" {
			t.Errorf("%s: Clipboard() = %q", root, got)
		}
		for _, u := range p.Requests() {
			if !strings.HasPrefix(u, root) {
				t.Errorf("request outside the site passed unnoticed: %s", u)
			}
		}
	}
}
