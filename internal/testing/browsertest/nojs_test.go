package browsertest

import (
	"github.com/packstudio/packstudio/internal/tree"
	"slices"
	"strings"
	"testing"
)

// With JavaScript off, every page kind still shows its packs: the search
// page lists every pack A–Z, a browse page every row of its index.json, a
// pack page every version, the home page every layer's browse link.
func TestWithoutJavaScript(t *testing.T) {
	site := demoSite(t)
	cat := loadCatalog(t, site)
	for _, root := range roots(t, site) {
		p := Open(t, root, "search/index.html?q=calico", NoScript())
		if got, want := searchResults(t, p), expectedNames(site.Catalog, ""); !slices.Equal(got, want) {
			t.Errorf("%s: search without JS lists %d packs, want all %d A–Z", root, len(got), len(want))
		}

		for _, dir := range []string{browseAll, tree.Folder("product=palette", "version=4.7.16", "cloud=aws").Path() + "/"} {
			p := Open(t, root, dir+"index.html", NoScript())
			var want []string
			for _, e := range browseEntries(t, site, dir) {
				want = append(want, e.Name+"@"+e.Version)
			}
			var got []string
			rows := Eval[[][]string](p, `Array.from(document.querySelectorAll('tr[data-pack]'), tr =>
				Array.from(tr.querySelectorAll('a[href$=".zst"]'), a => tr.dataset.pack + '@' + a.textContent))`)
			for _, r := range rows {
				got = append(got, r...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s%s without JS shows %v, want %v", root, dir, got, want)
			}
			if hidden := Eval[bool](p, `document.getElementById('browse-tools').hidden`); !hidden {
				t.Errorf("%s%s: without JS the filter and copy button show, but cannot work", root, dir)
			}
		}

		pk := cat.Packs[0]
		p = Open(t, root, "packs/"+pk.Name+"/index.html", NoScript())
		text := p.Texts("main")[0]
		for _, v := range pk.Versions {
			if !strings.Contains(text, v.Version) {
				t.Errorf("%s: pack page of %s without JS does not show version %s", root, pk.Name, v.Version)
			}
		}

		p = Open(t, root, "index.html", NoScript())
		if n := len(p.Links(`a[href^="browse/"]`)); n < len(cat.Layers) {
			t.Errorf("%s: home page without JS links to %d browse pages, want one per layer (%d)", root, n, len(cat.Layers))
		}
	}
}
