package synth

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/packstudio/packstudio/catalog"
)

var small = Options{Packs: 60, VersionsPerPack: 3, Products: 2, ReleasesPerProduct: 4, Clouds: 5}

func generate(t testing.TB, o Options) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "catalog")
	if err := Generate(dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t testing.TB, dir string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load(dir)
	if err != nil {
		t.Fatalf("catalog.Load: %v", err)
	}
	return cat
}

func TestGenerateLoads(t *testing.T) {
	cat := load(t, generate(t, small))

	if got := len(cat.Packs); got != small.Packs {
		t.Errorf("packs = %d, want %d", got, small.Packs)
	}
	if got, want := len(cat.Versions), small.Packs*small.VersionsPerPack; got != want {
		t.Errorf("versions = %d, want %d", got, want)
	}
	if got := len(cat.Products); got != small.Products {
		t.Errorf("products = %d, want %d", got, small.Products)
	}
	for _, p := range cat.Products {
		if len(p.Releases) != small.ReleasesPerProduct {
			t.Errorf("product %s has %d releases, want %d", p.ID, len(p.Releases), small.ReleasesPerProduct)
		}
		for _, r := range p.Releases {
			if r.Bundle.Path == "" || r.ISO.Path == "" || r.Helm.Path == "" {
				t.Errorf("release %s %s lacks a bundle, iso or helm source", p.ID, r.Version)
			}
		}
	}
	if got := len(cat.Clouds); got != small.Clouds {
		t.Errorf("clouds = %d, want %d", got, small.Clouds)
	}

	perLayer := map[string]int{}
	for _, p := range cat.Packs {
		perLayer[p.Layer]++
	}
	for _, l := range cat.Layers {
		if perLayer[l.ID] == 0 {
			t.Errorf("layer %s has no packs", l.ID)
		}
	}

	var fips, nonFIPS, arm, requires int
	for _, v := range cat.Versions {
		if v.FIPS {
			fips++
		} else {
			nonFIPS++
		}
		for _, a := range v.Arch {
			if a == "arm64" {
				arm++
			}
		}
		if len(v.Requires) > 0 {
			requires++
		}
		if len(v.Products) == 0 {
			t.Errorf("%s lists no product", v.ID())
		}
	}
	addonRules := 0
	for _, v := range cat.Versions {
		for _, r := range v.Requires {
			if r.Pack != "" && cat.PackByName(r.Pack).Layer == v.Pack.Layer {
				addonRules++
			}
		}
	}
	if !cat.Multiple("addon") || addonRules == 0 {
		t.Errorf("add-on layer multiple: %v; %d rules on another pack of the own layer, want > 0", cat.Multiple("addon"), addonRules)
	}
	if fips == 0 || nonFIPS == 0 || arm == 0 || requires == 0 {
		t.Errorf("facet spread: fips=%d non-fips=%d arm64=%d requires=%d; want all > 0", fips, nonFIPS, arm, requires)
	}
}

// Edge sizes must still load: too few packs for every layer, one cloud
// (fewer than k8s packs want), one release, and more facets than named ones.
func TestOddSizes(t *testing.T) {
	for _, o := range []Options{
		{Packs: 1, VersionsPerPack: 1, Products: 1, ReleasesPerProduct: 1, Clouds: 1},
		{Packs: 3, VersionsPerPack: 2, Clouds: 2},
		{Packs: 7, VersionsPerPack: 9, Products: 1, ReleasesPerProduct: 2},
		{Packs: 40, VersionsPerPack: 2, Products: 4, ReleasesPerProduct: 12, Clouds: 12, Seed: 7},
	} {
		cat := load(t, generate(t, o))
		o, _ = o.withDefaults()
		if len(cat.Packs) != o.Packs || len(cat.Versions) != o.Packs*o.VersionsPerPack ||
			len(cat.Products) != o.Products || len(cat.Clouds) != o.Clouds {
			t.Errorf("%+v: got %d packs, %d versions, %d products, %d clouds", o,
				len(cat.Packs), len(cat.Versions), len(cat.Products), len(cat.Clouds))
		}
	}
}

// Every version should be offered by some release, or its pages are empty
// in every product context, which a real catalog would not have.
func TestEveryVersionOffered(t *testing.T) {
	cat := load(t, generate(t, small))
	for _, v := range cat.Versions {
		offered := false
		for _, p := range cat.Products {
			for _, r := range p.Releases {
				offered = offered || v.OffersRelease(r)
			}
		}
		if !offered {
			t.Errorf("%s is offered by no release: %v", v.ID(), v.Products)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := tree(t, generate(t, small)), tree(t, generate(t, small))
	if len(a) != len(b) {
		t.Fatalf("runs wrote %d and %d files", len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between runs", name)
		}
	}
	other := small
	other.Seed = 2
	c := tree(t, generate(t, other))
	if equalTrees(a, c) {
		t.Error("seed 2 wrote the same tree as seed 1")
	}
}

func TestGenerateRefusesNonEmptyDir(t *testing.T) {
	dir := generate(t, small)
	if err := Generate(dir, small); err == nil {
		t.Error("Generate into a non-empty dir succeeded")
	}
}

func TestTouch(t *testing.T) {
	dir := generate(t, small)
	before := tree(t, dir)
	name, err := Touch(dir, small)
	if err != nil {
		t.Fatal(err)
	}
	after := tree(t, dir)
	changed := diff(before, after)
	if len(changed) != 1 {
		t.Fatalf("Touch changed %v, want exactly one file", changed)
	}
	o, _ := small.withDefaults()
	pk := newPlan(o).touchTarget()
	if want := pk.versions[0].sourceFile(pk.name); name != pk.name || changed[0] != want {
		t.Errorf("Touch returned %q and changed %s, want %q and %s", name, changed[0], pk.name, want)
	}

	// A second touch changes the same file again, and the catalog still loads.
	if _, err := Touch(dir, small); err != nil {
		t.Fatal(err)
	}
	if again := diff(after, tree(t, dir)); len(again) != 1 || again[0] != changed[0] {
		t.Errorf("second Touch changed %v, want %v", again, changed)
	}
	load(t, dir)
}

func TestDefaultSize(t *testing.T) {
	if testing.Short() {
		t.Skip("default size catalog in -short mode")
	}
	start := time.Now()
	dir := generate(t, Options{})
	gen := time.Since(start)
	start = time.Now()
	cat := load(t, dir)
	t.Logf("Generate: %v, catalog.Load: %v; %d packs, %d pack versions, %d clouds",
		gen, time.Since(start), len(cat.Packs), len(cat.Versions), len(cat.Clouds))
	if len(cat.Versions) != DefaultPacks*DefaultVersionsPerPack {
		t.Errorf("versions = %d, want %d", len(cat.Versions), DefaultPacks*DefaultVersionsPerPack)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "catalog")
		b.StartTimer()
		if err := Generate(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// tree reads every regular file under dir, keyed by slash path.
func tree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func equalTrees(a, b map[string][]byte) bool { return len(diff(a, b)) == 0 }

// diff lists files added, removed or changed between a and b.
func diff(a, b map[string][]byte) []string {
	var out []string
	for name, data := range a {
		if other, ok := b[name]; !ok || !bytes.Equal(data, other) {
			out = append(out, name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestFacetSpread checks the shares promised in the package doc on a
// default-size plan, in memory (no I/O), with generous tolerances.
func TestFacetSpread(t *testing.T) {
	o, _ := Options{}.withDefaults()
	p := newPlan(o)

	layers := map[string]float64{}
	var nameLen, versions, fips, amdOnly, both, armOnly, oneProduct float64
	var deps, layerRule, packRule, k8s, k8sOS float64
	var addonRule, addonVersions float64
	addonPacks := map[string]bool{}
	for _, pk := range p.packs {
		if pk.layer == "addon" {
			addonPacks[pk.name] = true
			addonVersions += float64(len(pk.versions))
		}
	}
	for _, pk := range p.packs {
		layers[pk.layer]++
		nameLen += float64(len(pk.name))
		for _, v := range pk.versions {
			versions++
			if v.fips {
				fips++
			}
			switch {
			case len(v.arch) == 2:
				both++
			case v.arch[0] == "amd64":
				amdOnly++
			default:
				armOnly++
			}
			if len(v.products) == 1 {
				oneProduct++
			}
			switch pk.layer {
			case "os":
			case "k8s":
				k8s++
				if len(v.requires) > 0 {
					k8sOS++
				}
			default:
				deps++
				for _, r := range v.requires {
					if addonPacks[r.pack] {
						addonRule++
					} else if r.pack != "" {
						packRule++
					} else {
						layerRule++
					}
				}
			}
		}
	}
	packs := float64(len(p.packs))
	near := func(what string, got, want, tol float64) {
		t.Helper()
		t.Logf("%-16s %.3f (want %.2f)", what, got, want)
		if got < want-tol || got > want+tol {
			t.Errorf("%s = %.3f, want %.2f ± %.2f", what, got, want, tol)
		}
	}
	for _, l := range layerSpecs {
		near("layer "+l.id, layers[l.id]/packs, l.share, 0.005)
	}
	near("name length", nameLen/packs, 14, 2)
	near("fips", fips/versions, 0.25, 0.03)
	near("amd64 only", amdOnly/versions, 0.55, 0.03)
	near("amd64+arm64", both/versions, 0.40, 0.03)
	near("arm64 only", armOnly/versions, 0.05, 0.02)
	near("one product", oneProduct/versions, 0.10, 0.03)
	near("k8s layer rule", layerRule/deps, 0.30, 0.03)
	near("k8s pack rule", packRule/deps, 0.10, 0.03)
	near("k8s needs os", k8sOS/k8s, 0.20, 0.08)
	near("add-on needs add-on", addonRule/addonVersions, 0.05, 0.01)
}

func TestNegativeOption(t *testing.T) {
	if err := Generate(t.TempDir(), Options{Packs: -1}); err == nil {
		t.Error("Generate accepted Packs: -1")
	}
}
