package generator

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/catalog"
)

// TestContextEntriesMatchOracle checks contextEntries, for every release on
// every cloud and on every cloud at once (cloud ""), against the match
// rule and catalog.Compatible evaluated pair by pair, on the test site's
// catalog and the demo catalog (which marks its add-on layer multiple and
// has an add-on requiring another add-on).
func TestContextEntriesMatchOracle(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"", filepath.Join("..", "testdata", "demo", "catalog")} {
		var cat *catalog.Catalog
		if dir == "" {
			cat = newSite(t).catalog()
		} else {
			var err error
			if cat, err = catalog.Load(dir); err != nil {
				t.Fatal(err)
			}
		}
		b := &builder{cat: cat, plan: newPlan(cat), compat: newCompatIndex(cat)}
		addonConflicts := 0
		for _, p := range cat.Products {
			for _, r := range p.Releases {
				clouds := []string{""}
				for _, c := range cat.Clouds {
					clouds = append(clouds, c.ID)
				}
				for _, cloud := range clouds {
					f := catalog.NewFilter().With(catalog.SegProduct, p.ID).With(catalog.SegVersion, r.Version.Raw)
					if cloud != "" {
						f = f.With(catalog.SegCloud, cloud)
					}
					var offered []*catalog.PackVersion
					for _, v := range cat.Versions {
						if v.Matches(cat, f) {
							offered = append(offered, v)
						}
					}
					ctx := p.ID + "/" + r.Version.Raw + "/" + f[catalog.SegCloud]
					entries := b.contextEntries(r, cloud)
					if len(entries) != len(offered) {
						t.Errorf("%s: %d entries, want %d", ctx, len(entries), len(offered))
						continue
					}
					for i, v := range offered {
						var want, got []string
						for _, o := range offered {
							otherPack := o.Pack.Name != v.Pack.Name
							choosable := o.Pack.Layer != v.Pack.Layer || cat.Multiple(v.Pack.Layer)
							if otherPack && choosable && !catalog.Compatible(v, o) {
								want = append(want, o.ID())
								if o.Pack.Layer == v.Pack.Layer {
									addonConflicts++
								}
							}
						}
						for _, c := range entries[i].Conflicts {
							got = append(got, entries[c].Version.ID())
						}
						if entries[i].Version != v || strings.Join(got, " ") != strings.Join(want, " ") {
							t.Errorf("%s: entry %d is %s conflicting with %v, want %s conflicting with %v", ctx, i, entries[i].Version.ID(), got, v.ID(), want)
						}
					}
				}
			}
		}
		if e := b.contextEntries(cat.Products[0].Releases[0], "no-such-cloud"); e != nil {
			t.Errorf("an undeclared cloud has %d entries", len(e))
		}
		if addonConflicts == 0 {
			t.Errorf("catalog %q: no conflict inside a multiple-choice layer, so this test proves nothing about them", dir)
		}
	}
}
