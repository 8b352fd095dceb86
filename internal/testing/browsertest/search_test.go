package browsertest

import (
	"cmp"
	"fmt"
	"github.com/packstudio/packstudio/internal/tree"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/packstudio/packstudio/catalog"
)

// searchHit is one result: the pack and the versions it shows.
type searchHit struct {
	name     string
	versions []string
}

func (h searchHit) String() string { return h.name + "@" + strings.Join(h.versions, ",") }

// compactText folds case and keeps only letters and digits, so "PXK-E",
// "pxk e" and "PXKe" are the same word.
func compactText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

var (
	nonFIPSWords = regexp.MustCompile(`\bnon[\s_-]+fips\b`)
	queryWords   = regexp.MustCompile(`[\s,;]+`)
	versionWord  = regexp.MustCompile(`^v?\d+(\.\d+)*\.?$`)
	parenthesis  = regexp.MustCompile(`\(([^)]*)\)`)
)

// expectedSearch is the oracle for search/index.html, from the catalog:
//   - a facet word (fips, non-fips, an arch, product, cloud or layer id; case
//     and punctuation aside) keeps the versions it describes: several of one
//     kind are alternatives, kinds combine;
//   - a version-like word keeps the versions it begins, unless the pack's
//     text holds it;
//   - every other word must appear, compacted, in the compacted name,
//     display name, description, layer id or name, or add-on type;
//   - a pack shows the versions that pass; one with none is no result;
//   - order: an exact name (name, display name, display name without or
//     within its parentheses), then a name that begins with the query's
//     words, then one that holds them, then the rest; A–Z by display name.
func expectedSearch(cat *catalog.Catalog, q string) []searchHit {
	type facet struct{ kind, id string }
	facets := map[string]facet{"fips": {"fips", "fips"}, "nonfips": {"fips", "non-fips"}}
	for _, p := range cat.Products {
		facets[compactText(p.ID)] = facet{"product", p.ID}
	}
	for _, c := range cat.Clouds {
		facets[compactText(c.ID)] = facet{"cloud", c.ID}
	}
	for _, a := range cat.Arches {
		facets[compactText(a.ID)] = facet{"arch", a.ID}
	}
	for _, l := range cat.Layers {
		facets[compactText(l.ID)] = facet{"layer", l.ID}
	}
	want := map[string][]string{}
	var text, versions []string
	for _, raw := range queryWords.Split(nonFIPSWords.ReplaceAllString(strings.ToLower(q), "nonfips"), -1) {
		w := compactText(raw)
		switch f, ok := facets[w]; {
		case w == "":
		case ok:
			want[f.kind] = append(want[f.kind], f.id)
		case versionWord.MatchString(raw):
			versions = append(versions, strings.TrimPrefix(raw, "v"))
		default:
			text = append(text, w)
		}
	}
	holds := func(kind string, values []string) bool {
		return len(want[kind]) == 0 || slices.ContainsFunc(want[kind], func(id string) bool { return slices.Contains(values, id) })
	}
	t := strings.Join(text, "")
	type ranked struct {
		searchHit
		rank    int
		display string
	}
	var hits []ranked
	for _, p := range cat.Packs {
		if !holds("layer", []string{p.Layer}) {
			continue
		}
		fields := []string{p.Name, p.DisplayName, p.Description, p.Layer, cat.Layers[p.LayerOrder].Name, p.AddonType}
		for i := range fields {
			fields[i] = compactText(fields[i])
		}
		all := strings.Join(fields, "\n")
		if slices.ContainsFunc(text, func(w string) bool { return !strings.Contains(all, w) }) {
			continue
		}
		h := ranked{searchHit: searchHit{name: p.Name}, rank: 3, display: strings.ToLower(p.DisplayName)}
		for _, v := range p.Versions {
			var products []string
			for id := range v.Products {
				products = append(products, id)
			}
			fips := "non-fips"
			if v.FIPS {
				fips = "fips"
			}
			ok := holds("product", products) && holds("cloud", v.Clouds) && holds("arch", v.Arch) &&
				(len(want["fips"]) != 1 || want["fips"][0] == fips)
			for _, w := range versions {
				ok = ok && (strings.Contains(all, compactText(w)) || strings.HasPrefix(v.Version.Raw, w))
			}
			if ok {
				h.versions = append(h.versions, v.Version.Raw)
			}
		}
		if len(h.versions) == 0 {
			continue
		}
		names := []string{p.Name, p.DisplayName, parenthesis.ReplaceAllString(p.DisplayName, "")}
		for _, m := range parenthesis.FindAllStringSubmatch(p.DisplayName, -1) {
			names = append(names, m[1])
		}
		for _, n := range names {
			switch n = compactText(n); {
			case t == "" || n == t:
				h.rank = 0
			case strings.HasPrefix(n, t):
				h.rank = min(h.rank, 1)
			case strings.Contains(n, t):
				h.rank = min(h.rank, 2)
			}
		}
		hits = append(hits, h)
	}
	slices.SortFunc(hits, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.display, b.display), cmp.Compare(a.name, b.name))
	})
	out := make([]searchHit, len(hits))
	for i, h := range hits {
		out[i] = h.searchHit
	}
	return out
}

// expectedNames are the packs expectedSearch finds, in order.
func expectedNames(cat *catalog.Catalog, q string) []string {
	var names []string
	for _, h := range expectedSearch(cat, q) {
		names = append(names, h.name)
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

// shownVersion is a version line of a result: the version and its facts
// ("FIPS · amd64 · Palette VerteX").
type shownVersion struct{ Version, Facts string }

// searchShown reads every result with the versions it shows.
func searchShown(t *testing.T, p *Page) ([]searchHit, map[string][]shownVersion) {
	t.Helper()
	rows := Eval[[]struct {
		Href     string
		Versions []shownVersion
	}](p, `Array.from(document.querySelectorAll('#search-results > li'), li => ({
		href: li.querySelector('a').href,
		versions: Array.from(li.querySelectorAll('.hit-versions > li'), v => ({
			version: v.querySelector('.v').textContent, facts: v.querySelector('small').textContent}))}))`)
	var hits []searchHit
	facts := map[string][]shownVersion{}
	for _, r := range rows {
		m := packHref.FindStringSubmatch(r.Href)
		if m == nil || !strings.HasPrefix(r.Href, p.Root()) {
			t.Errorf("search result %s is not a pack page of the site", r.Href)
			continue
		}
		h := searchHit{name: m[1]}
		for _, v := range r.Versions {
			h.versions = append(h.versions, v.Version)
		}
		hits = append(hits, h)
		facts[m[1]] = r.Versions
	}
	return hits, facts
}

func openSearch(t *testing.T, root, q string) *Page {
	t.Helper()
	return Open(t, root, "search/index.html?q="+url.QueryEscape(q))
}

// checkSearch searches for q, opening the page with ?q= when p is nil
// and typing into p's box otherwise, and compares the results, versions
// included, with the oracle.
func checkSearch(t *testing.T, cat *catalog.Catalog, root string, p *Page, q string) ([]searchHit, map[string][]shownVersion, *Page) {
	t.Helper()
	if p == nil {
		p = openSearch(t, root, q)
		if v := p.Value("#search-q"); v != q {
			t.Errorf("%s: the search box holds %q, want the q of the URL %q", root, v, q)
		}
	} else {
		p.SetValue("#search-q", q)
	}
	got, facts := searchShown(t, p)
	want := expectedSearch(cat, q)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s q=%q:\n got %v\nwant %v", root, q, got, want)
	}
	return got, facts, p
}

// The airgap guide's six pack versions, by the words a person types: each
// query finds the right pack first and shows the right version, with its
// FIPS state in words.
func TestSearchFindsTheGuidesPackSet(t *testing.T) {
	site := demoSite(t)
	cases := []struct {
		q, first, version string
		fips              bool
		only              bool // the version is the only one shown
	}{
		{q: "pxke", first: "edge-k8s", version: "1.33.5", fips: true},
		{q: "PXK-E 1.33.5", first: "edge-k8s", version: "1.33.5", fips: true, only: true},
		{q: "cilium fips", first: "cni-cilium-oss", version: "1.17.4", fips: true},
		{q: "local path", first: "csi-local-path-provisioner", version: "0.0.32", fips: true},
		{q: "localpath", first: "csi-local-path-provisioner", version: "0.0.32", fips: true},
		{q: "registry connect", first: "registry-connect", version: "0.1.0"},
		{q: "metallb", first: "lb-metallb-helm", version: "0.15.2"},
		{q: "byoi fips", first: "edge-native-byoi", version: "2.1.0", fips: true},
	}
	for _, root := range roots(t, site) {
		for _, c := range cases {
			got, facts, _ := checkSearch(t, site.Catalog, root, nil, c.q)
			if len(got) == 0 || got[0].name != c.first {
				t.Errorf("%s q=%q: first result %v, want %s", root, c.q, got, c.first)
				continue
			}
			if !slices.Contains(got[0].versions, c.version) || (c.only && len(got[0].versions) != 1) {
				t.Errorf("%s q=%q: %s shows versions %v, want %s", root, c.q, c.first, got[0].versions, c.version)
			}
			for _, v := range facts[c.first] {
				if v.Version != c.version {
					continue
				}
				fips := "non-FIPS"
				if c.fips {
					fips = "FIPS"
				}
				if !strings.HasPrefix(v.Facts, fips+" · amd64") || !strings.Contains(v.Facts, "Palette VerteX") {
					t.Errorf("%s q=%q: %s %s says %q, want %s, amd64 and Palette VerteX", root, c.q, c.first, c.version, v.Facts, fips)
				}
			}
		}
	}
}

// Words and punctuation as people type them, the old cases included.
func TestSearchFindsByNameDisplayNameDescription(t *testing.T) {
	site := demoSite(t)
	cases := []struct {
		q       string
		want    []string // must be among the results
		mustNot []string
	}{
		{q: "cni-calico-azure", want: []string{"cni-calico-azure"}, mustNot: []string{"cni-calico"}},
		{q: "Portworx /w", want: []string{"csi-portworx-generic"}}, // "Portworx /w Operator"
		{q: "eBPF", want: []string{"cni-cilium-oss"}},              // only in its description
		{q: "KUBECOST", want: []string{"cost-analyzer"}},           // display name and description, any case
		{q: "Rook Ceph", want: []string{"csi-rook-ceph"}},          // "Rook-Ceph"
		{q: "rookceph", want: []string{"csi-rook-ceph"}},           // spacing
		{q: "cert manager", want: []string{"cert-manager"}},        // dash as space
		{q: "  ubuntu   aws ", want: []string{"ubuntu-aws"}, mustNot: []string{"ubuntu-azure", "edge-native-ubuntu"}},
	}
	for _, root := range roots(t, site) {
		p := Open(t, root, "search/index.html")
		for _, c := range cases {
			got, _, _ := checkSearch(t, site.Catalog, root, p, c.q)
			names := make([]string, len(got))
			for i, h := range got {
				names[i] = h.name
			}
			for _, w := range c.want {
				if !slices.Contains(names, w) {
					t.Errorf("%s q=%q: %s not found in %v", root, c.q, w, names)
				}
			}
			for _, w := range c.mustNot {
				if slices.Contains(names, w) {
					t.Errorf("%s q=%q: %s found, but it lacks a word", root, c.q, w)
				}
			}
		}
	}
}

// Facet words narrow what is shown instead of being matched as text:
// "fips" finds every pack with a FIPS version (not only "Flannel (FIPS)")
// and shows only those versions.
func TestSearchFacetWordsNarrow(t *testing.T) {
	site := demoSite(t)
	cases := []struct {
		q    string
		fact string // in every shown version's facts
		not  string // in none
	}{
		{q: "fips", fact: "FIPS", not: "non-FIPS"},
		{q: "FIPS arm64", fact: "arm64", not: "non-FIPS"},
		{q: "non-fips", fact: "non-FIPS"},
		{q: "non fips amd64", fact: "amd64", not: " FIPS"},
		{q: "vertex edge-native csi", fact: "Palette VerteX"},
		{q: "cilium vertex", fact: "Palette VerteX"},
	}
	for _, root := range roots(t, site) {
		p := Open(t, root, "search/index.html")
		for _, c := range cases {
			got, facts, _ := checkSearch(t, site.Catalog, root, p, c.q)
			if len(got) == 0 {
				t.Errorf("%s q=%q: no result", root, c.q)
			}
			for name, vs := range facts {
				for _, v := range vs {
					if !strings.Contains(v.Facts, c.fact) || (c.not != "" && strings.Contains(" "+v.Facts, c.not)) {
						t.Errorf("%s q=%q: %s %s shows %q", root, c.q, name, v.Version, v.Facts)
					}
				}
			}
		}
		if got := expectedNames(site.Catalog, "fips"); len(got) < 6 {
			t.Errorf("the oracle finds only %v for fips", got)
		}
		for _, name := range expectedNames(site.Catalog, "vertex edge-native csi") {
			if p := site.Catalog.PackByName(name); p.Layer != "csi" {
				t.Errorf("the layer word csi lets %s (layer %s) through", name, p.Layer)
			}
		}
	}
}

// Exact names first, then names that begin with the query, then names
// that hold it, then the rest.
func TestSearchRanksByRelevance(t *testing.T) {
	site := demoSite(t)
	cases := []struct {
		q     string
		first []string // the results begin with these, in this order
	}{
		{q: "kube", first: []string{"kubernetes-eks", "kubernetes-aks", "cost-analyzer", "kuberay-operator", "kubernetes", "edge-k8s"}},
		{q: "edge", first: []string{"edge-native-opensuse", "edge-native-ubuntu"}},
		{q: "cilium", first: []string{"cni-cilium-oss"}},
		{q: "registry", first: []string{"registry-connect", "zot-registry"}},
	}
	for _, root := range roots(t, site) {
		p := Open(t, root, "search/index.html")
		for _, c := range cases {
			got, _, _ := checkSearch(t, site.Catalog, root, p, c.q)
			var names []string
			for _, h := range got[:min(len(got), len(c.first))] {
				names = append(names, h.name)
			}
			if !slices.Equal(names, c.first) {
				t.Errorf("%s q=%q: results begin %v, want %v", root, c.q, names, c.first)
			}
		}
	}
}

// A search with no result says so and what is near: the closest names,
// and what the facet or text words find alone.
func TestSearchNoResultSaysWhatIsNear(t *testing.T) {
	site := demoSite(t)
	cases := []struct {
		q    string
		near []string // links in #search-nearby, by their text
	}{
		{q: "ciliun", near: []string{"Cilium"}},
		{q: "metalb", near: []string{"MetalLB (Helm)"}},
		{q: "cilium arm64 fips", near: []string{"“arm64 fips” alone", "“cilium” alone"}},
		{q: "no-such-pack-anywhere", near: []string{"list every pack"}},
	}
	for _, root := range roots(t, site) {
		p := Open(t, root, "search/index.html")
		for _, c := range cases {
			got, _, _ := checkSearch(t, site.Catalog, root, p, c.q)
			if len(got) != 0 {
				t.Errorf("%s q=%q: want no result, got %v", root, c.q, got)
			}
			if count := p.Texts("#search-count"); len(count) != 1 || !strings.HasPrefix(count[0], "No pack matches") {
				t.Errorf("%s q=%q: count says %v", root, c.q, count)
			}
			if Eval[bool](p, `document.getElementById('search-nearby').hidden`) {
				t.Errorf("%s q=%q: nothing says what is near", root, c.q)
			}
			links := p.Texts("#search-nearby a")
			for _, n := range c.near {
				if !slices.Contains(links, n) {
					t.Errorf("%s q=%q: near links %v, want %q", root, c.q, links, n)
				}
			}
		}
		// A result hides the message again.
		p.SetValue("#search-q", "cilium")
		if !Eval[bool](p, `document.getElementById('search-nearby').hidden`) {
			t.Errorf("%s: the no-result message stays after a query with results", root)
		}
	}
}

func pickCount(n int) string {
	if n == 1 {
		return "1 pack version"
	}
	return fmt.Sprintf("%d pack versions", n)
}

// The guide's flow: find each of the six by its words, add it, and the
// selection page hands out exactly their URLs.
func TestSearchAddsToTheSelection(t *testing.T) {
	site := demoSite(t)
	cat := site.Catalog
	steps := []struct{ q, id string }{
		{"byoi fips", "edge-native-byoi@2.1.0"},
		{"PXK-E 1.33.5", "edge-k8s@1.33.5"},
		{"cilium fips", "cni-cilium-oss@1.17.4"},
		{"local path", "csi-local-path-provisioner@0.0.32"},
		{"registry connect", "registry-connect@0.1.0"},
		{"metallb", "lb-metallb-helm@0.15.2"},
	}
	for _, root := range roots(t, site) {
		t.Run(root[:4], func(t *testing.T) {
			c := choices{picked: map[int][]*catalog.PackVersion{}}
			Open(t, root, "search/index.html").Do(`localStorage.clear()`)
			p := Open(t, root, "search/index.html")
			for i, s := range steps {
				p.SetValue("#search-q", s.q)
				sel := fmt.Sprintf(`button[data-add=%q]`, s.id)
				p.Click(sel)
				if got := p.Attrs(sel, "aria-pressed"); !slices.Equal(got, []string{"true"}) {
					t.Errorf("q=%q: after a click %s is pressed %v", s.q, s.id, got)
				}
				if got := p.Texts("#pick-summary [data-pick-count]"); !slices.Equal(got, []string{pickCount(i + 1)}) {
					t.Errorf("q=%q: the selection count says %v, want %d", s.q, got, i+1)
				}
				v := versionByID(cat, s.id)
				c.picked[v.Pack.LayerOrder] = append(c.picked[v.Pack.LayerOrder], v)
			}
			// A second click takes it out again.
			p.Click(`button[data-add="lb-metallb-helm@0.15.2"]`)
			if got := p.Attrs(`button[data-add="lb-metallb-helm@0.15.2"]`, "aria-pressed"); !slices.Equal(got, []string{"false"}) {
				t.Errorf("a second click leaves it pressed %v", got)
			}
			p.Click(`button[data-add="lb-metallb-helm@0.15.2"]`)

			review := Open(t, root, "bundle/selection/index.html")
			if got, want := review.Value("#bundle-urls"), bundleURLs(root, c); got != want {
				t.Errorf("the selection's URLs:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// Typing narrows the list as you type; clearing it lists every pack again.
func TestSearchFiltersAsYouType(t *testing.T) {
	site := demoSite(t)
	cat := site.Catalog
	all := expectedNames(cat, "")
	if len(all) != len(cat.Packs) {
		t.Fatalf("oracle lists %d of %d packs for an empty query", len(all), len(cat.Packs))
	}
	for _, root := range roots(t, site) {
		p := Open(t, root, "search/index.html")
		if got := searchResults(t, p); !slices.Equal(got, all) {
			t.Errorf("%s: with no query the page lists %v, want every pack A–Z %v", root, got, all)
		}
		p.Type("#search-q", "longhorn")
		if got, want := searchResults(t, p), expectedNames(cat, "longhorn"); !slices.Equal(got, want) || len(want) == 0 {
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
	pages := []string{"index.html", "packs/cni-calico/index.html", tree.Folder().File("index.html"), "verify/index.html"}
	for _, root := range roots(t, site) {
		for _, page := range pages {
			p := Open(t, root, page)
			p.Type("#site-q", "cilium"+kb.Enter)
			p.Run(chromedp.WaitReady(chromedp.CSS("#search-results li")))
			p.WaitLoaded()
			if u := p.URL(); !strings.HasPrefix(u, root+"search/index.html?q=cilium") {
				t.Errorf("%s%s: the header search went to %s", root, page, u)
			}
			if got, want := searchResults(t, p), expectedNames(site.Catalog, "cilium"); !slices.Equal(got, want) {
				t.Errorf("%s%s: header search lists %v, want %v", root, page, got, want)
			}
		}
	}
}
