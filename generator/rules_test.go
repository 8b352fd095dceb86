package generator

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/testing/synth"
)

// TestRulesAboutMatchesScan checks the index behind the pack pages' "rules
// about this pack" against the scan it replaced: every rule of every pack
// version, in catalog order, kept when it names the pack or its layer. On
// a synthetic catalog, whose packs are named by pack rules and layer rules
// at once, and on the demo catalog.
func TestRulesAboutMatchesScan(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "catalog")
	if err := synth.Generate(dir, synth.Options{Packs: 120, Products: 1, ReleasesPerProduct: 2, Clouds: 2}); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{dir, filepath.Join("..", "testdata", "demo", "catalog")} {
		cat, err := catalog.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		byPack, byLayer := rulesAbout(cat.Versions)
		interleaved := 0
		for _, p := range cat.Packs {
			var want []ruleRef
			for i, v := range cat.Versions {
				for j, r := range v.Requires {
					if r.Pack == p.Name || r.Layer == p.Layer {
						want = append(want, ruleRef{i, j})
					}
				}
			}
			if got := mergeRefs(byPack[p.Name], byLayer[p.Layer]); !slices.Equal(got, want) {
				t.Errorf("%s: rules about %s: %v, want %v", dir, p.Name, got, want)
			}
			if !slices.Equal(slices.Concat(byPack[p.Name], byLayer[p.Layer]), want) {
				interleaved++
			}
		}
		if filepath.Base(filepath.Dir(dir)) != "demo" && interleaved == 0 {
			t.Errorf("%s: no pack is named by pack and layer rules in between each other; the order goes unchecked", dir)
		}
	}
}

// rulesByTemplate is the list of rules of other packs about a pack that
// the built-in pack.html made with html/template before the builder wrote
// it itself; a theme's own pack.html may still range over .ConstrainedBy.
const rulesByTemplate = `
{{- range .ConstrainedBy}}
<li><a href="{{.Href}}">{{.Pack}} {{.Version}}</a> {{.Lead}} {{.Target}} <code>{{.Versions}}</code></li>
{{- end}}`

// TestRulesAboutAreWhatTheTemplateMade compares that list on every pack
// page, built-in against the template's, byte for byte (see
// TestSidebarIsWhatTheTemplateMade).
func TestRulesAboutAreWhatTheTemplateMade(t *testing.T) {
	t.Parallel()
	sameAsTemplate(t, "pack.html", "{{.RulesAbout}}", rulesByTemplate, "packs", "<h2>Rules of other packs about", "</ul>", "only with every OS pack <code>&gt;=22.04</code>")
}
