package browsertest

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// expectedSearch is the oracle for search/index.html, from catalog.json:
// the packs where every word of q appears, ignoring case, in the name,
// display name, description, layer (id or name), add-on type or a version;
// A–Z by display name.
func expectedSearch(c *builtCatalog, q string) []string {
	words := strings.Fields(strings.ToLower(q))
	type hit struct{ name, display string }
	var hits []hit
	for _, p := range c.Packs {
		fields := []string{p.Name, p.DisplayName, p.Description, p.Layer, c.layerName(p.Layer), p.AddonType}
		for _, v := range p.Versions {
			fields = append(fields, v.Version)
		}
		text := strings.ToLower(strings.Join(fields, "\n"))
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) }) {
			hits = append(hits, hit{p.Name, p.DisplayName})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.display), strings.ToLower(b.display)), cmp.Compare(a.name, b.name))
	})
	names := make([]string, len(hits))
	for i, h := range hits {
		names[i] = h.name
	}
	return names
}

var packHref = regexp.MustCompile(`/packs/([^/]+)/index\.html$`)

// searchResults are the pack names the page's results link to, in order.
func searchResults(t *testing.T, p *Page) []string {
	t.Helper()
	var names []string
	for _, href := range p.Links("#search-results a") {
		m := packHref.FindStringSubmatch(href)
		if m == nil || !strings.HasPrefix(href, p.Root()) {
			t.Errorf("search result %s is not a pack page of the site", href)
			continue
		}
		names = append(names, m[1])
	}
	return names
}

func TestSearchFindsByNameDisplayNameDescription(t *testing.T) {
	site := demoSite(t)
	cat := loadCatalog(t, site)
	cases := []struct {
		q        string
		want     []string // must be among the results
		mustNot  []string
		wantNone bool
	}{
		{q: "cni-calico-azure", want: []string{"cni-calico-azure"}, mustNot: []string{"cni-calico"}},
		{q: "/w", want: []string{"csi-portworx-generic"}},                                        // only in its display name "Portworx /w Operator"
		{q: "eBPF", want: []string{"cni-cilium-oss"}},                                            // only in its description
		{q: "KUBECOST", want: []string{"cost-analyzer"}},                                         // display name and description, any case
		{q: "calico azure", want: []string{"cni-calico-azure"}, mustNot: []string{"cni-calico"}}, // AND of words
		{q: "  ubuntu   aws ", want: []string{"ubuntu-aws"}, mustNot: []string{"ubuntu-azure", "edge-native-ubuntu"}},
		{q: "no-such-pack-anywhere", wantNone: true},
	}
	for _, root := range roots(t, site) {
		for _, c := range cases {
			p := Open(t, root, "search/index.html?q="+url.QueryEscape(c.q))
			got := searchResults(t, p)
			if want := expectedSearch(cat, c.q); !slices.Equal(got, want) {
				t.Errorf("%s q=%q: results %v, want %v", root, c.q, got, want)
			}
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s q=%q: %s not found in %v", root, c.q, w, got)
				}
			}
			for _, w := range c.mustNot {
				if slices.Contains(got, w) {
					t.Errorf("%s q=%q: %s found, but it lacks a word", root, c.q, w)
				}
			}
			if c.wantNone && len(got) != 0 {
				t.Errorf("%s q=%q: want no result, got %v", root, c.q, got)
			}
			if v := p.Value("#search-q"); v != c.q {
				t.Errorf("%s: the search box holds %q, want the q of the URL %q", root, v, c.q)
			}
		}
	}
}

// Typing narrows the list as you type; clearing it lists every pack again.
func TestSearchFiltersAsYouType(t *testing.T) {
	site := demoSite(t)
	cat := loadCatalog(t, site)
	all := expectedSearch(cat, "")
	if len(all) != len(cat.Packs) {
		t.Fatalf("oracle lists %d of %d packs for an empty query", len(all), len(cat.Packs))
	}
	for _, root := range roots(t, site) {
		p := Open(t, root, "search/index.html")
		if got := searchResults(t, p); !slices.Equal(got, all) {
			t.Errorf("%s: with no query the page lists %v, want every pack A–Z %v", root, got, all)
		}
		p.Type("#search-q", "longhorn")
		if got, want := searchResults(t, p), expectedSearch(cat, "longhorn"); !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: typing longhorn lists %v, want %v", root, got, want)
		}
		if u := p.URL(); !strings.Contains(u, "q=longhorn") {
			t.Errorf("%s: the address %s does not keep the query", root, u)
		}
		p.SetValue("#search-q", "")
		if got := searchResults(t, p); !slices.Equal(got, all) {
			t.Errorf("%s: after clearing, the page lists %d packs, want %d", root, len(got), len(all))
		}
	}
}

// The header search box on any page leads to the search page's results.
func TestHeaderSearchBox(t *testing.T) {
	site := demoSite(t)
	cat := loadCatalog(t, site)
	pages := []string{"index.html", "packs/cni-calico/index.html", "browse/all/all/all/all/all/all/index.html", "verify/index.html"}
	for _, root := range roots(t, site) {
		for _, page := range pages {
			p := Open(t, root, page)
			p.Type("#site-q", "cilium"+kb.Enter)
			p.Run(chromedp.WaitReady(chromedp.CSS("#search-results li")))
			p.WaitLoaded()
			if u := p.URL(); !strings.HasPrefix(u, root+"search/index.html?q=cilium") {
				t.Errorf("%s%s: the header search went to %s", root, page, u)
			}
			if got, want := searchResults(t, p), expectedSearch(cat, "cilium"); !slices.Equal(got, want) {
				t.Errorf("%s%s: header search lists %v, want %v", root, page, got, want)
			}
		}
	}
}
