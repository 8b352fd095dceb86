// Package catalog loads and validates a pack catalog (catalog.toml and
// packs/*.toml) and defines what it means for a pack version to match a
// filter combination and for two pack versions to be compatible.
package catalog

// Catalog is a loaded, validated catalog. Facets keep the order of
// catalog.toml (layers sorted by their order); Packs and Versions are sorted
// by layer order, then name, then version.
type Catalog struct {
	Dir      string
	Products []*Product
	Clouds   []Facet
	Layers   []Facet
	Arches   []Facet
	Packs    []*Pack
	Versions []*PackVersion // every pack version, in catalog order
	// Registries are the folders of the [[registry]] checkouts read: a
	// build that skips unchanged work watches them.
	Registries []string
}

// Facet is a cloud, layer or architecture.
type Facet struct {
	ID   string
	Name string
	Kind string // clouds only: public, datacenter or edge
	// Multiple marks a multiple-choice layer (layers only): a bundle may
	// hold several of its packs, like add-ons. When catalog.toml marks no
	// layer, the last layer by order is the multiple one.
	Multiple bool
}

// Pos is where something is written in the catalog.
type Pos struct {
	File string
	Line int
}

// Source is a path from the catalog (file or directory), made absolute or
// relative to the working directory, with where it was written.
type Source struct {
	Path string
	Pos  Pos
}

// Product is a product with its releases, sorted by version.
type Product struct {
	ID       string
	Name     string
	Releases []*Release
}

// Release is one version of a product and the sources of its artifacts.
// Any of Bundle, ISO and Helm may be empty.
type Release struct {
	Product *Product
	Version Version
	Date    string // YYYY-MM-DD, or empty
	Bundle  Source
	ISO     Source
	Helm    Source
}

// Pack is one pack of the catalog with its versions, sorted by version.
type Pack struct {
	Name        string
	DisplayName string
	Layer       string
	LayerOrder  int  // index into Catalog.Layers
	Multiple    bool // its layer is a multiple-choice layer
	AddonType   string
	Description string
	Readme      Source // Path empty when the pack has no readme
	DocsURL     string // from a registry's annotations; empty when none
	Group       string // a registry's group, for display
	File        string
	Versions    []*PackVersion
}

// PackVersion is one version of a pack and the facets it is offered for.
type PackVersion struct {
	Pack     *Pack
	Version  Version
	Clouds   []string
	Arch     []string
	FIPS     bool
	Products map[string]Constraint // product id → release constraint
	Requires []Rule
	// UpgradeFrom says which versions may upgrade to this one:
	// informational, no bundle effect.
	UpgradeFrom []Upgrade
	Images      []string // image references the version deploys
	Charts      []Chart  // Helm charts the version deploys
	// Deprecated versions are badged and listed after current ones.
	Deprecated bool
	EOL        string // end of life as the registry writes it, or empty
	Source     Source
	File       string // where the version is declared (a packs/*.toml or a pack.json)
	Line       int
	Index      int // position in Catalog.Versions
}

// Chart is a Helm chart a pack version deploys.
type Chart struct {
	Repo, Name, Version string
}

// Upgrade is a [[version.upgrade_from]] entry: versions of Pack that may
// upgrade to the version holding it.
type Upgrade struct {
	Pack     string
	Versions Constraint
	Line     int
}

// RuleKind is how a requires rule constrains a bundle (SPEC §4).
type RuleKind string

const (
	// Optional holds only when the bundle holds the pack (or layer) named.
	Optional RuleKind = "optional"
	// Required: a bundle holding the version must hold a version within
	// the range (of that pack, or of another pack of that layer).
	Required RuleKind = "required"
	// NotSupported: versions within the range are incompatible.
	NotSupported RuleKind = "not-supported"
)

// RuleKinds lists the kinds in the order messages name them.
var RuleKinds = []RuleKind{Optional, Required, NotSupported}

// ID is "name@version", the way compat files name a pack version.
func (v *PackVersion) ID() string { return v.Pack.Name + "@" + v.Version.Raw }

// Rule is a [[version.requires]] entry: it constrains the pack named Pack,
// or every pack of layer Layer, to Versions.
type Rule struct {
	Pack     string
	Layer    string
	Kind     RuleKind // never empty once loaded: Optional by default
	Versions Constraint
	Line     int
}

// Target describes what the rule constrains, for messages and pages.
func (r Rule) Target() string {
	if r.Pack != "" {
		return r.Pack
	}
	return "layer " + r.Layer
}

// ProductByID returns the product with that id, or nil.
func (c *Catalog) ProductByID(id string) *Product {
	for _, p := range c.Products {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Multiple reports whether the layer with that id is a multiple-choice
// layer, of which a bundle may hold several packs.
func (c *Catalog) Multiple(layer string) bool {
	for _, l := range c.Layers {
		if l.ID == layer {
			return l.Multiple
		}
	}
	return false
}

// PackByName returns the pack with that name, or nil.
func (c *Catalog) PackByName(name string) *Pack {
	for _, p := range c.Packs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Release returns the release of p with that version text, or nil.
func (p *Product) Release(version string) *Release {
	for _, r := range p.Releases {
		if r.Version.Raw == version {
			return r
		}
	}
	return nil
}
