package browsertest

import (
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
)

// TestHeaderCountsTheSelection: every page's header links to the
// selection and says how many pack versions it holds, updated as soon as a
// version is added on the page, and on the next page opened.
func TestHeaderCountsTheSelection(t *testing.T) {
	site := demoSite(t)
	root := ServeRoot(t, site.Dir)
	p := Open(t, root, tree.BrowseAllPath()+"index.html")
	p.Do(`localStorage.clear()`)
	p = Open(t, root, tree.BrowseAllPath()+"index.html")
	link := `header a[href$="bundle/selection/index.html"]`
	if got := p.Texts(link); len(got) != 1 || strings.TrimSpace(got[0]) != "Selection" {
		t.Fatalf("header selection link says %q, want \"Selection\" with nothing picked", got)
	}
	p.Click(`button[data-add]`)
	if got := p.Texts(link); len(got) != 1 || got[0] != "Selection (1)" {
		t.Errorf("after one pick on the page the header says %q, want \"Selection (1)\"", got)
	}
	for _, page := range []string{"index.html", "verify/index.html", "search/index.html", "packs/" + site.Catalog.Packs[0].Name + "/index.html"} {
		q := Open(t, root, page)
		if got := q.Texts(link); len(got) != 1 || got[0] != "Selection (1)" {
			t.Errorf("%s: the header says %q, want \"Selection (1)\"", page, got)
		}
	}
}

// TestPackPageAddsToTheSelection: a pack page offers each version's
// "+ selection" toggle, as browse and search pages do.
func TestPackPageAddsToTheSelection(t *testing.T) {
	site := demoSite(t)
	root := ServeRoot(t, site.Dir)
	p := Open(t, root, "packs/cni-calico/index.html")
	p.Do(`localStorage.clear()`)
	p = Open(t, root, "packs/cni-calico/index.html")
	ids := p.Attrs(`button.pick[data-add]`, "data-add")
	if len(ids) == 0 {
		t.Fatal("the pack page has no + selection buttons")
	}
	p.Click(`button.pick[data-add]`)
	if got := Eval[[]string](p, `packstudio.picks.read()`); len(got) != 1 || got[0] != ids[0] {
		t.Errorf("after a click the selection holds %v, want [%s]", got, ids[0])
	}
	if !strings.HasPrefix(ids[0], "cni-calico@") {
		t.Errorf("the button adds %q, want a cni-calico version", ids[0])
	}
}
