package generator

import (
	"cmp"
	"encoding/json"
	"html/template"
	"slices"
	"strings"

	"github.com/packstudio/packstudio/catalog"
)

// searchHit is one pack on the search page: listed A–Z without JavaScript,
// and the record search.js filters.
type searchHit struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Description string   `json:"description,omitempty"`
	Layer       string   `json:"layer"`
	LayerName   string   `json:"layer_name"`
	AddonType   string   `json:"addon_type,omitempty"`
	Versions    []string `json:"versions"`
	Page        string   `json:"page"` // relative to the site root
	VersionList string   `json:"-"`
}

// renderSearch writes search/index.html: every pack A–Z, and the same list
// inline as JSON so search.js filters it with no request (it works from
// file:// too).
func (b *builder) renderSearch() error {
	hits := make([]searchHit, 0, len(b.cat.Packs))
	for _, p := range b.cat.Packs {
		hits = append(hits, b.searchHit(p))
	}
	slices.SortFunc(hits, func(a, c searchHit) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(c.DisplayName)), cmp.Compare(a.Name, c.Name))
	})
	// encoding/json escapes <, > and & (and U+2028/9), so the index cannot
	// close its <script> element.
	index, err := json.Marshal(hits)
	if err != nil {
		return err
	}
	data := struct {
		pageData
		Packs []searchHit
		Index template.JS
	}{b.page("search", "Search packs", "search"), hits, template.JS(index)}
	return b.execute("search.html", "search/index.html", data)
}

func (b *builder) searchHit(p *catalog.Pack) searchHit {
	h := searchHit{Name: p.Name, DisplayName: p.DisplayName, Description: p.Description, Layer: p.Layer,
		LayerName: b.cat.Layers[p.LayerOrder].Name, AddonType: p.AddonType, Page: packPage(p.Name)}
	for _, v := range p.Versions {
		h.Versions = append(h.Versions, v.Version.Raw)
	}
	h.VersionList = strings.Join(h.Versions, ", ")
	return h
}
