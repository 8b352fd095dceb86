package generator

import (
	"cmp"
	"encoding/json"
	"html/template"
	"slices"
	"strings"

	"github.com/packstudio/packstudio/catalog"
)

// searchIndex is search.json and the index inline in search/index.html:
// what search.js needs to match, narrow, rank and show every pack version.
// It grows with the catalog, so a version's facets are indexes into one
// shared Facets list instead of repeated ids.
type searchIndex struct {
	// Facets are the words that narrow results instead of being matched
	// as text: each [kind, id, name], kind one of product, cloud, arch,
	// fips.
	Facets [][3]string `json:"facets"`
	// Layers are [id, name] in layer order; a pack's layer id is a facet
	// word too.
	Layers [][2]string  `json:"layers"`
	Packs  []searchPack `json:"packs"`
}

// searchPack is one pack; its page is packs/<name>/index.html.
type searchPack struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	Description string          `json:"description,omitempty"`
	Layer       string          `json:"layer"`
	AddonType   string          `json:"addon_type,omitempty"`
	Versions    []searchVersion `json:"versions"`
}

// searchVersion is [version, [facet index, …]] in JSON.
type searchVersion struct {
	Version string
	Facets  []int
}

func (v searchVersion) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{v.Version, v.Facets})
}

// The facet kinds of searchIndex.Facets; fips has the one id "fips" (a
// version without it is not FIPS).
const (
	facetProduct = "product"
	facetCloud   = "cloud"
	facetArch    = "arch"
	facetFIPS    = "fips"
)

// searchIndex builds the index, packs A–Z by display name as the page
// lists them without JavaScript.
func (b *builder) searchIndex() searchIndex {
	var idx searchIndex
	at := map[[2]string]int{}
	add := func(kind, id, name string) {
		at[[2]string{kind, id}] = len(idx.Facets)
		idx.Facets = append(idx.Facets, [3]string{kind, id, name})
	}
	for _, p := range b.cat.Products {
		add(facetProduct, p.ID, p.Name)
	}
	for _, c := range b.cat.Clouds {
		add(facetCloud, c.ID, c.Name)
	}
	for _, a := range b.cat.Arches {
		add(facetArch, a.ID, a.Name)
	}
	add(facetFIPS, catalog.FIPSOnly, "FIPS")
	for _, l := range b.cat.Layers {
		idx.Layers = append(idx.Layers, [2]string{l.ID, l.Name})
	}
	for _, p := range b.cat.Packs {
		sp := searchPack{Name: p.Name, DisplayName: p.DisplayName, Description: p.Description, Layer: p.Layer, AddonType: p.AddonType}
		for _, v := range p.Versions {
			sv := searchVersion{Version: v.Version.Raw, Facets: []int{}}
			for _, pr := range b.cat.Products { // catalog order, not the map's
				if _, ok := v.Products[pr.ID]; ok {
					sv.Facets = append(sv.Facets, at[[2]string{facetProduct, pr.ID}])
				}
			}
			for _, c := range v.Clouds {
				sv.Facets = append(sv.Facets, at[[2]string{facetCloud, c}])
			}
			for _, a := range v.Arch {
				sv.Facets = append(sv.Facets, at[[2]string{facetArch, a}])
			}
			if v.FIPS {
				sv.Facets = append(sv.Facets, at[[2]string{facetFIPS, catalog.FIPSOnly}])
			}
			slices.Sort(sv.Facets)
			sp.Versions = append(sp.Versions, sv)
		}
		idx.Packs = append(idx.Packs, sp)
	}
	slices.SortFunc(idx.Packs, func(a, c searchPack) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(c.DisplayName)), cmp.Compare(a.Name, c.Name))
	})
	return idx
}

// searchHit is one pack as the page lists it without JavaScript: the same
// facts search.js shows for a result.
type searchHit struct {
	Name, DisplayName, Description, LayerName, AddonType, Page string
	Versions                                                   []searchHitVersion
}

type searchHitVersion struct {
	Version, Facts string
}

// versionFacts is how a result shows a version's facets: "FIPS · amd64 ·
// Palette VerteX"; search.js writes the same words.
func versionFacts(idx *searchIndex, v searchVersion) string {
	fips := "non-FIPS"
	var arch, products []string
	for _, i := range v.Facets {
		switch f := idx.Facets[i]; f[0] {
		case facetFIPS:
			fips = "FIPS"
		case facetArch:
			arch = append(arch, f[1])
		case facetProduct:
			products = append(products, f[2])
		}
	}
	facts := []string{fips, strings.Join(arch, ", ")}
	if len(products) > 0 {
		facts = append(facts, strings.Join(products, ", "))
	}
	return strings.Join(facts, " · ")
}

// searchWords are the facet words the search page offers as a hint, in
// the order search.js knows them.
func searchWords(idx *searchIndex) []string {
	words := []string{catalog.FIPSOnly, catalog.NonFIPS}
	for _, kind := range []string{facetArch, facetProduct, facetCloud} {
		for _, f := range idx.Facets {
			if f[0] == kind {
				words = append(words, f[1])
			}
		}
	}
	for _, l := range idx.Layers {
		words = append(words, l[0])
	}
	return words
}

// renderSearch writes search/index.html: every pack A–Z with its versions,
// and the index inline as JSON so search.js filters it with no request (it
// works from file:// too).
func (b *builder) renderSearch() error {
	idx := b.searchIndex()
	layerNames := map[string]string{}
	for _, l := range idx.Layers {
		layerNames[l[0]] = l[1]
	}
	hits := make([]searchHit, 0, len(idx.Packs))
	for _, p := range idx.Packs {
		h := searchHit{Name: p.Name, DisplayName: p.DisplayName, Description: p.Description, LayerName: layerNames[p.Layer],
			AddonType: p.AddonType, Page: packPage(p.Name)}
		for _, v := range p.Versions {
			h.Versions = append(h.Versions, searchHitVersion{Version: v.Version, Facts: versionFacts(&idx, v)})
		}
		hits = append(hits, h)
	}
	// encoding/json escapes <, > and & (and U+2028/9), so the index cannot
	// close its <script> element.
	index, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	data := struct {
		pageData
		Packs []searchHit
		Words []string
		Index template.JS
	}{b.page("search", "Search packs", "search"), hits, searchWords(&idx), template.JS(index)}
	return b.execute("search.html", "search/index.html", data)
}
