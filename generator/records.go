package generator

import (
	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/tree"
)

// The JSON records of catalog.json, pack and release index.json files.
// url and sig_url are paths relative to the site root, so that JSON stays
// valid on any host and under a rebased mirror; base_url in catalog.json
// makes them absolute.

type versionRecord struct {
	Name     string            `json:"name"`
	Version  string            `json:"version"`
	Layer    string            `json:"layer"`
	Clouds   []string          `json:"clouds"`
	Arch     []string          `json:"arch"`
	FIPS     bool              `json:"fips"`
	Products map[string]string `json:"products"`
	Requires []ruleRecord      `json:"requires"`
	// UpgradeFrom, Images and Charts are omitted when empty, so that a
	// catalog without them keeps its JSON.
	UpgradeFrom []upgradeRecord `json:"upgrade_from,omitempty"`
	Images      []string        `json:"images,omitempty"`
	Charts      []chartRecord   `json:"charts,omitempty"`
	Deprecated  bool            `json:"deprecated,omitempty"`
	EOL         string          `json:"eol,omitempty"`
	URL         string          `json:"url"`
	SigURL      string          `json:"sig_url"`
	SHA256      string          `json:"sha256"`
	Size        int64           `json:"size"`
}

type ruleRecord struct {
	Pack     string `json:"pack,omitempty"`
	Layer    string `json:"layer,omitempty"`
	Versions string `json:"versions"`
	Kind     string `json:"kind"`
}

type upgradeRecord struct {
	Pack     string `json:"pack"`
	Versions string `json:"versions"`
}

type chartRecord struct {
	Repo    string `json:"repo,omitempty"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

type packRecord struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	Layer       string          `json:"layer"`
	AddonType   string          `json:"addon_type,omitempty"`
	Description string          `json:"description,omitempty"`
	DocsURL     string          `json:"docs_url,omitempty"`
	Group       string          `json:"group,omitempty"`
	Page        string          `json:"page"`
	Versions    []versionRecord `json:"versions"`
}

type artifactRecord struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	URL    string `json:"url"`
	SigURL string `json:"sig_url"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

type releaseRecord struct {
	Product   string           `json:"product"`
	Version   string           `json:"version"`
	Date      string           `json:"date,omitempty"`
	Page      string           `json:"page"`
	Browse    string           `json:"browse"`
	Artifacts []artifactRecord `json:"artifacts"`
}

type productRecord struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Releases []releaseRecord `json:"releases"`
}

type facetRecord struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"`
	Order int    `json:"order,omitempty"`
	// Multiple marks a multiple-choice layer (layers only), whether
	// catalog.toml says so or it is the last layer by default.
	Multiple bool `json:"multiple,omitempty"`
}

type catalogRecord struct {
	Title     string          `json:"title"`
	BaseURL   string          `json:"base_url"`
	PublicKey string          `json:"public_key"`
	KeyID     string          `json:"key_id"`
	Products  []productRecord `json:"products"`
	Clouds    []facetRecord   `json:"clouds"`
	Layers    []facetRecord   `json:"layers"`
	Arches    []facetRecord   `json:"arches"`
	Packs     []packRecord    `json:"packs"`
}

func packPage(name string) string { return "packs/" + name + "/index.html" }

// releaseFolder is the browse folder of a release: every pack version
// offered for it.
func releaseFolder(r *catalog.Release) tree.BrowseFolder {
	return tree.AllFolder().With("product", r.Product.ID).With("version", r.Version.Raw)
}

func releaseDir(r *catalog.Release) string {
	return "releases/" + r.Product.ID + "/" + r.Version.Raw
}

func (b *builder) versionRecord(v *catalog.PackVersion) versionRecord {
	a := b.packArtifacts[v.Index]
	rec := versionRecord{
		Name: v.Pack.Name, Version: v.Version.Raw, Layer: v.Pack.Layer,
		Clouds: v.Clouds, Arch: v.Arch, FIPS: v.FIPS, Products: map[string]string{},
		Requires: []ruleRecord{},
		URL:      a.Path, SigURL: a.SigPath, SHA256: a.SHA256, Size: a.Size,
	}
	for id, c := range v.Products {
		rec.Products[id] = c.Raw
	}
	for _, r := range v.Requires {
		rec.Requires = append(rec.Requires, ruleRecord{Pack: r.Pack, Layer: r.Layer, Versions: r.Versions.Raw, Kind: string(r.Kind)})
	}
	for _, u := range v.UpgradeFrom {
		rec.UpgradeFrom = append(rec.UpgradeFrom, upgradeRecord{Pack: u.Pack, Versions: u.Versions.Raw})
	}
	rec.Images = v.Images
	for _, c := range v.Charts {
		rec.Charts = append(rec.Charts, chartRecord(c))
	}
	rec.Deprecated, rec.EOL = v.Deprecated, v.EOL
	return rec
}

func (b *builder) packRecord(p *catalog.Pack) packRecord {
	rec := packRecord{Name: p.Name, DisplayName: p.DisplayName, Layer: p.Layer, AddonType: p.AddonType,
		Description: p.Description, DocsURL: p.DocsURL, Group: p.Group, Page: packPage(p.Name)}
	for _, v := range p.Versions {
		rec.Versions = append(rec.Versions, b.versionRecord(v))
	}
	return rec
}

func (b *builder) releaseRecord(r *catalog.Release) releaseRecord {
	rec := releaseRecord{Product: r.Product.ID, Version: r.Version.Raw, Date: r.Date,
		Page: releaseDir(r) + "/index.html", Browse: releaseFolder(r).File("index.html"),
		Artifacts: []artifactRecord{}}
	for _, a := range b.releaseArtifacts[r] {
		rec.Artifacts = append(rec.Artifacts, artifactRecord{Kind: a.Kind, Name: a.Name(), URL: a.Path, SigURL: a.SigPath, SHA256: a.SHA256, Size: a.Size})
	}
	return rec
}
