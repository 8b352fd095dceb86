package mirror

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/packstudio/packstudio/internal/tree"
)

// Filter selects the artifacts of a partial mirror with the facets of the
// browse pages: values of one facet are alternatives, facets combine. An
// empty facet means all. Pages, lists and JSON are always mirrored.
type Filter struct {
	Products []string `json:"products,omitempty"`
	Versions []string `json:"versions,omitempty"`
	Clouds   []string `json:"clouds,omitempty"`
	Layers   []string `json:"layers,omitempty"`
	Arches   []string `json:"arches,omitempty"`
	FIPS     []string `json:"fips,omitempty"` // "fips" or "non-fips"
	// Bundle, when set, selects exactly its pack versions; it does not
	// combine with the facets above.
	Bundle *Bundle `json:"bundle,omitempty"`
}

// Empty reports whether the filter selects everything.
func (f *Filter) Empty() bool {
	return f == nil || f.Bundle == nil && len(f.Products)+len(f.Versions)+len(f.Clouds)+len(f.Layers)+len(f.Arches)+len(f.FIPS) == 0
}

func (f *Filter) String() string {
	var parts []string
	add := func(flag string, vs []string) {
		for _, v := range vs {
			parts = append(parts, "--"+flag+" "+v)
		}
	}
	add("product", f.Products)
	add("version", f.Versions)
	add("cloud", f.Clouds)
	add("layer", f.Layers)
	add("arch", f.Arches)
	add("fips", f.FIPS)
	if f.Bundle != nil {
		parts = append(parts, "--bundle "+f.Bundle.File)
	}
	return strings.Join(parts, " ")
}

func orAll(vs []string) []string {
	if len(vs) == 0 {
		return []string{"all"}
	}
	return vs
}

// selectArtifacts returns the artifact paths (with signatures) the filter
// keeps. It reads the tree's own browse lists, which the build computed with
// the catalog's match rules, so a partial mirror selects exactly what the
// site shows for the same filters. Each list read is checked against the
// manifest before it is trusted.
func (f *Filter) selectArtifacts(ctx context.Context, src tree.Reader, m *tree.Manifest) (map[string]bool, error) {
	if f.Bundle != nil {
		if len(f.Products)+len(f.Versions)+len(f.Clouds)+len(f.Layers)+len(f.Arches)+len(f.FIPS) > 0 {
			return nil, &tree.TargetError{Target: f.String(),
				Reason: "a bundle is an exact selection already: drop the other filters, or change the bundle in the builder"}
		}
		return f.Bundle.selectArtifacts(ctx, src, m)
	}
	read := manifestReader(ctx, src, m)
	for _, fv := range f.FIPS {
		if fv != "fips" && fv != "non-fips" {
			return nil, &tree.TargetError{Target: "--fips " + fv, Reason: `use "fips" or "non-fips"`}
		}
	}
	if len(f.Versions) > 0 && len(f.Products) == 0 {
		return nil, &tree.TargetError{Target: "--version", Reason: "versions belong to products: add --product"}
	}
	keep := map[string]bool{}
	type pv struct{ product, version string }
	var pvs []pv
	for _, p := range orAll(f.Products) {
		vs := []string{"all"}
		if p != "all" && len(f.Versions) > 0 {
			vs = f.Versions
		}
		for _, v := range vs {
			pvs = append(pvs, pv{p, v})
		}
	}
	found := false
	for _, x := range pvs {
		for _, c := range orAll(f.Clouds) {
			for _, l := range orAll(f.Layers) {
				for _, a := range orAll(f.Arches) {
					for _, fv := range orAll(f.FIPS) {
						p := strings.Join([]string{"browse", x.product, x.version, c, l, a, fv, "index.json"}, "/")
						data, err := read(p)
						if err == tree.ErrNotExist {
							continue // e.g. a version that only one of the products has
						}
						if err != nil {
							return nil, err
						}
						found = true
						var list struct {
							Packs []struct{ Name, Version string } `json:"packs"`
						}
						if err := json.Unmarshal(data, &list); err != nil {
							return nil, fmt.Errorf("%s: %w", p, err)
						}
						for _, pk := range list.Packs {
							base := "artifacts/packs/" + pk.Name + "/" + pk.Name + "-" + pk.Version
							keep[base+".zst"] = true
							keep[base+tree.SigSuffix] = true
						}
					}
				}
			}
		}
	}
	if !found {
		return nil, &tree.TargetError{Target: f.String(), Reason: "matches no browse combination of this site; check the product, version, cloud, layer and arch ids in catalog.json"}
	}
	// Release artifacts go with their product and version, unless the
	// filter asks only for packs of some cloud, layer, arch or FIPS mode.
	if len(f.Clouds)+len(f.Layers)+len(f.Arches)+len(f.FIPS) == 0 {
		for _, x := range pvs {
			prefix := "releases/"
			if x.product != "all" {
				prefix += x.product + "/"
				if x.version != "all" {
					prefix += x.version + "/"
				}
			}
			for _, o := range m.Objects {
				if !strings.HasPrefix(o.Path, prefix) || path.Base(o.Path) != "index.json" {
					continue
				}
				data, err := read(o.Path)
				if err != nil {
					return nil, err
				}
				var rel struct {
					Artifacts []struct {
						URL    string `json:"url"`
						SigURL string `json:"sig_url"`
					} `json:"artifacts"`
				}
				if err := json.Unmarshal(data, &rel); err != nil {
					return nil, fmt.Errorf("%s: %w", o.Path, err)
				}
				for _, a := range rel.Artifacts {
					keep[a.URL], keep[a.SigURL] = true, true
				}
			}
		}
	}
	return keep, nil
}

// manifestReader returns a reader of the tree's lists that trusts a file
// only when the manifest lists it with that digest; tree.ErrNotExist when the
// manifest does not list it.
func manifestReader(ctx context.Context, src tree.Reader, m *tree.Manifest) func(p string) ([]byte, error) {
	idx := m.Index()
	return func(p string) ([]byte, error) {
		obj, ok := idx[p]
		if !ok {
			return nil, tree.ErrNotExist
		}
		data, err := tree.ReadAll(ctx, src, p, 256<<20)
		if err != nil {
			return nil, err
		}
		if tree.Digest(data) != obj.SHA256 {
			return nil, fmt.Errorf("%s: does not match the manifest", p)
		}
		return data, nil
	}
}

// sortedKeys returns the keys of a set, sorted.
func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
