package generator

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/testing/synth"
)

// TestContextEntriesWithRuleKinds checks the compat index's conflicts and
// needs against the oracle (catalog.Compatible pair by pair, catalog.Unmet
// for completeness) on the registry fixture and on a synthetic catalog
// with required and not-supported rules in every layer: conflicts come
// from optional and not-supported rules only; each entry's needs list,
// per required rule, exactly the entries of its context that meet it; and
// a bundle of compatible entries is complete by the needs exactly when
// Unmet finds nothing.
func TestContextEntriesWithRuleKinds(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "catalog")
	if err := synth.Generate(dir, synth.Options{Packs: 80, Products: 1, ReleasesPerProduct: 2, Clouds: 2, RuleKinds: true}); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join("..", "catalog", "testdata", "registry", "catalog"), dir} {
		cat, err := catalog.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]map[catalog.RuleKind]int{} // layer → kind → rules
		for _, v := range cat.Versions {
			for _, r := range v.Requires {
				if kinds[v.Pack.Layer] == nil {
					kinds[v.Pack.Layer] = map[catalog.RuleKind]int{}
				}
				kinds[v.Pack.Layer][r.Kind]++
			}
		}
		b := &builder{cat: cat, plan: newPlan(cat), compat: newCompatIndex(cat)}
		rng := rand.New(rand.NewPCG(1, 2))
		var needs, notSupported, complete, incomplete int
		for _, p := range cat.Products {
			for _, r := range p.Releases {
				for _, cloud := range cat.Clouds {
					f := catalog.NewFilter().With(catalog.SegProduct, p.ID).With(catalog.SegVersion, r.Version.Raw).With(catalog.SegCloud, cloud.ID)
					var offered []*catalog.PackVersion
					for _, v := range cat.Versions {
						if v.Matches(cat, f) {
							offered = append(offered, v)
						}
					}
					ctx := p.ID + "/" + r.Version.Raw + "/" + cloud.ID
					entries := b.contextEntries(r, cloud.ID)
					if len(entries) != len(offered) {
						t.Fatalf("%s: %d entries, want %d", ctx, len(entries), len(offered))
					}
					for i, v := range offered {
						e := entries[i]
						var want, got []string
						for _, o := range offered {
							if catalog.MayCombine(v.Pack, o.Pack) && !catalog.Compatible(v, o) {
								want = append(want, o.ID())
								for _, rule := range append(slices.Clone(v.Requires), o.Requires...) {
									if rule.Kind == catalog.NotSupported && (rule.Applies(o) || rule.Applies(v)) {
										notSupported++
										break
									}
								}
							}
						}
						for _, c := range e.Conflicts {
							got = append(got, entries[c].Version.ID())
						}
						if e.Version != v || strings.Join(got, " ") != strings.Join(want, " ") {
							t.Errorf("%s: %s conflicts with %v, want %v", ctx, e.Version.ID(), got, want)
						}
						// Needs: rule k of v is met by o exactly when the
						// two-version bundle {v, o} leaves it unmet no more.
						var required []catalog.Rule
						for _, rule := range v.Requires {
							if rule.Kind == catalog.Required {
								required = append(required, rule)
							}
						}
						if len(required) != len(e.Needs) {
							t.Errorf("%s: %s has %d needs, want %d", ctx, v.ID(), len(e.Needs), len(required))
							continue
						}
						for k, rule := range required {
							var want, got []string
							for _, o := range offered {
								if !slices.ContainsFunc(catalog.Unmet([]*catalog.PackVersion{v, o}), func(n catalog.Need) bool {
									return n.Version == v && n.Rule.Line == rule.Line
								}) {
									want = append(want, o.ID())
								}
							}
							for _, c := range e.Needs[k] {
								got = append(got, entries[c].Version.ID())
							}
							needs++
							if strings.Join(got, " ") != strings.Join(want, " ") {
								t.Errorf("%s: %s needs %s %s: met by %v, want %v", ctx, v.ID(), rule.Target(), rule.Versions, got, want)
							}
						}
					}
					// Random bundles of compatible entries, one per pack.
					for range 200 {
						var chosen []int
						for _, pos := range rng.Perm(len(entries)) {
							if rng.IntN(3) != 0 {
								continue
							}
							ok := true
							for _, c := range chosen {
								if !b.compat.mayCombine(int32(entries[c].Version.Index), int32(entries[pos].Version.Index)) || slices.Contains(entries[pos].Conflicts, int32(c)) {
									ok = false
									break
								}
							}
							if ok {
								chosen = append(chosen, pos)
							}
						}
						byNeeds := true
						var bundle []*catalog.PackVersion
						for _, c := range chosen {
							bundle = append(bundle, entries[c].Version)
							for _, met := range entries[c].Needs {
								if !slices.ContainsFunc(met, func(m int32) bool { return slices.Contains(chosen, int(m)) }) {
									byNeeds = false
								}
							}
						}
						oracle := len(catalog.Unmet(bundle)) == 0
						if byNeeds != oracle {
							t.Fatalf("%s: bundle %v complete by needs %v, by catalog.Unmet %v", ctx, bundle, byNeeds, oracle)
						}
						if oracle {
							complete++
						} else {
							incomplete++
						}
					}
				}
			}
		}
		if needs == 0 || notSupported == 0 || complete == 0 || incomplete == 0 {
			t.Errorf("%s: %d needs, %d not-supported conflicts, %d complete and %d incomplete bundles: the test proves nothing without each", dir, needs, notSupported, complete, incomplete)
		}
		if !strings.Contains(dir, "registry") {
			for _, l := range cat.Layers {
				for _, k := range catalog.RuleKinds {
					if kinds[l.ID][k] == 0 {
						t.Errorf("synthetic catalog: layer %s has no %s rule", l.ID, k)
					}
				}
			}
		}
	}
}
