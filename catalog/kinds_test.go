package catalog

import (
	"os"
	"strings"
	"testing"
)

// TestRuleKinds checks SPEC §4 on three kinds of rule: optional and
// not-supported rules decide whether two versions are compatible, required
// rules whether a bundle is complete.
func TestRuleKinds(t *testing.T) {
	k129, k132 := pv("kubernetes", "k8s", "1.29.0"), pv("kubernetes", "k8s", "1.32.3")
	rule := func(kind RuleKind, target, versions string) func(*PackVersion) {
		return func(v *PackVersion) {
			r := Rule{Kind: kind, Versions: mustConstraint(versions), Line: len(v.Requires) + 1}
			if strings.HasPrefix(target, "layer ") {
				r.Layer = strings.TrimPrefix(target, "layer ")
			} else {
				r.Pack = target
			}
			v.Requires = append(v.Requires, r)
		}
	}
	optional := pv("cni-a", "cni", "1.0", rule(Optional, "kubernetes", ">=1.30"))
	notSupported := pv("cni-b", "cni", "1.0", rule(NotSupported, "kubernetes", ">=1.30"))
	required := pv("cni-c", "cni", "1.0", rule(Required, "layer k8s", ">=1.30"))
	for _, c := range []struct {
		a, b *PackVersion
		want bool
	}{
		{optional, k129, false}, {optional, k132, true},
		{notSupported, k129, true}, {notSupported, k132, false},
		// A required rule does not make a pair incompatible: it asks for more.
		{required, k129, true}, {required, k132, true},
	} {
		if got := Compatible(c.a, c.b); got != c.want || Compatible(c.b, c.a) != c.want {
			t.Errorf("Compatible(%s, %s) = %v, want %v both ways", c.a.ID(), c.b.ID(), got, c.want)
		}
	}
	for _, c := range []struct {
		bundle []*PackVersion
		unmet  int
	}{
		{[]*PackVersion{required}, 1},
		{[]*PackVersion{required, k129}, 1},
		{[]*PackVersion{required, k132}, 0},
		{[]*PackVersion{optional, notSupported}, 0}, // optional rules ask for nothing
	} {
		if got := Unmet(c.bundle); len(got) != c.unmet {
			t.Errorf("Unmet(%v) = %v, want %d unmet", c.bundle, got, c.unmet)
		}
	}
}

// TestLoadRuleKinds loads kind, upgrade_from, images and charts from
// TOML and checks their problems.
func TestLoadRuleKinds(t *testing.T) {
	dir := writeCatalog(t, map[string]func(string) string{
		"packs/cni-calico.toml": replace(`  versions = ">=1.29 <1.33"`, `  versions = ">=1.29 <1.33"
  kind = "required"

  [[version.requires]]
  layer = "os"
  versions = ">=30.04"
  kind = "not-supported"

  [[version.upgrade_from]]
  pack = "cni-calico"
  versions = "<=3.28.9"`),
	})
	edit := replace(`products = { palette = ">=4.6.0" }`, `products = { palette = ">=4.6.0" }
images = ["quay.io/calico/node:v3.29.2", "quay.io/calico/cni:v3.29.2"]
charts = [{ repo = "https://docs.tigera.io/calico/charts", name = "tigera-operator", version = "v3.29.2" }]`)
	file := dir + "/packs/cni-calico.toml"
	data, _ := os.ReadFile(file)
	if err := os.WriteFile(file, []byte(edit(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	v := cat.PackByName("cni-calico").Versions[0]
	if len(v.Requires) != 2 || v.Requires[0].Kind != Required || v.Requires[1].Kind != NotSupported ||
		len(v.UpgradeFrom) != 1 || v.UpgradeFrom[0].Versions.Raw != "<=3.28.9" ||
		strings.Join(v.Images, " ") != "quay.io/calico/node:v3.29.2 quay.io/calico/cni:v3.29.2" ||
		len(v.Charts) != 1 || v.Charts[0].Name != "tigera-operator" {
		t.Errorf("cni-calico: requires %+v, upgrade_from %+v, images %q, charts %+v", v.Requires, v.UpgradeFrom, v.Images, v.Charts)
	}
	if k := cat.PackByName("kubernetes").Versions[0].Requires; len(k) > 0 && k[0].Kind != Optional {
		t.Errorf("a rule without kind is %q, want optional", k[0].Kind)
	}

	for _, c := range []struct{ name, old, new, want string }{
		{"unknown kind", `  versions = ">=1.29 <1.33"`, "  versions = \">=1.29 <1.33\"\n  kind = \"mandatory\"",
			`packs/cni-calico.toml:15: version 3.29.2: requires kubernetes: kind "mandatory" is not a kind of rule; set kind = "optional", "required" or "not-supported"`},
		{"image with a space", `products = { palette = ">=4.6.0" }`, "products = { palette = \">=4.6.0\" }\nimages = [\"quay.io/x y\"]",
			`packs/cni-calico.toml:11: version 3.29.2: image "quay.io/x y" is empty, too long or holds spaces or control characters`},
		{"required on nothing", `  versions = ">=1.29 <1.33"`, "  versions = \">=1.40\"\n  kind = \"required\"",
			`packs/cni-calico.toml:12: version 3.29.2: requires pack "kubernetes" versions ">=1.40": no pack version satisfies it`},
	} {
		dir := writeCatalog(t, map[string]func(string) string{"packs/cni-calico.toml": replace(c.old, c.new)})
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %s", c.name, err, c.want)
		}
	}
	// A not-supported range that rules out nothing the catalog has is fine.
	dir = writeCatalog(t, map[string]func(string) string{"packs/cni-calico.toml": replace(`  versions = ">=1.29 <1.33"`, "  versions = \">=1.40\"\n  kind = \"not-supported\"")})
	if _, err := Load(dir); err != nil {
		t.Errorf("not-supported range matching nothing: %v", err)
	}
}
