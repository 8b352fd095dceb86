package catalog

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const registryCatalog = "testdata/registry/catalog"

// TestLoadRegistry loads the registry fixture: every pack.json below
// [[registry]] path is a version, named by the file and not the folder,
// with the registry's defaults, its cloudTypes and layers mapped, the four
// dependency kinds, values.yaml's images and charts, annotations, and a
// packs/*.toml of the same name adding to and overriding it.
func TestLoadRegistry(t *testing.T) {
	t.Parallel()
	cat, err := Load(registryCatalog)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range cat.Versions {
		ids = append(ids, v.ID())
	}
	want := []string{"ubuntu@22.04", "kubernetes@1.29.4", "kubernetes@v1.30.2", "cni-calico@3.28.0", "csi-aws-ebs@1.5",
		"akuity-agent@0.30.0-5.5.2026", "argo-cd@3.26.7", "argo-cd@3.27.0", "elastic-operator@2.9.0", "elastic-operator@3.3.2",
		"elasticsearch@2.0.1-up.1"}
	if !slices.Equal(ids, want) {
		t.Fatalf("versions %q\nwant     %q (legacy-tool is disabled)", ids, want)
	}
	get := func(id string) *PackVersion { return cat.Versions[slices.Index(ids, id)] }

	ubuntu := get("ubuntu@22.04")
	if ubuntu.Pack.Layer != "os" || !slices.Equal(ubuntu.Clouds, []string{"aws", "vsphere", "edge-native"}) ||
		!slices.Equal(ubuntu.Arch, []string{"amd64", "arm64"}) || ubuntu.EOL != "2027-04-01" {
		t.Errorf("ubuntu: layer %s (kernel maps to os), clouds %v (all), arch %v, eol %q", ubuntu.Pack.Layer, ubuntu.Clouds, ubuntu.Arch, ubuntu.EOL)
	}
	if c := ubuntu.Products["palette"]; c.Raw != ">=4.6.0" {
		t.Errorf("ubuntu: products %v, want the registry's default", ubuntu.Products)
	}
	if k := get("kubernetes@v1.30.2"); !slices.Equal(k.Clouds, []string{"aws", "vsphere", "edge-native"}) ||
		filepath.Base(k.Source.Path) != "k8s-new" || filepath.Base(k.Pack.Readme.Path) != "README.md" ||
		k.Pack.Description != "Upstream Kubernetes." {
		t.Errorf("kubernetes v1.30.2: clouds %v (edge maps to edge-native), source %s, readme %s, description %q",
			k.Clouds, k.Source.Path, k.Pack.Readme.Path, k.Pack.Description)
	}
	if c := get("csi-aws-ebs@1.5"); !slices.Equal(c.Clouds, []string{"aws"}) {
		t.Errorf("csi-aws-ebs: clouds %v, want eks mapped to aws", c.Clouds)
	}

	rule := func(v *PackVersion) string {
		var s []string
		for _, r := range v.Requires {
			s = append(s, string(r.Kind)+" "+r.Pack+" "+r.Versions.Raw)
		}
		return strings.Join(s, "; ")
	}
	for id, want := range map[string]string{
		"cni-calico@3.28.0":            "required kubernetes >=1.29 <=1.30",
		"csi-aws-ebs@1.5":              "optional kubernetes >=1.30",
		"elasticsearch@2.0.1-up.1":     "required elastic-operator >=3.3.2",
		"akuity-agent@0.30.0-5.5.2026": "not-supported argo-cd >=3.27",
	} {
		if got := rule(get(id)); got != want {
			t.Errorf("%s: rules %q, want %q", id, got, want)
		}
	}
	argo := get("argo-cd@3.27.0")
	if len(argo.UpgradeFrom) != 1 || argo.UpgradeFrom[0].Pack != "argo-cd" || argo.UpgradeFrom[0].Versions.Raw != "<=3.26.7" {
		t.Errorf("argo-cd 3.27.0: upgrade_from %+v", argo.UpgradeFrom)
	}
	if !slices.Equal(argo.Images, []string{"quay.io/argoproj/argocd:v3.0.6", "ghcr.io/dexidp/dex:v2.41.1"}) ||
		!slices.Equal(argo.Charts, []Chart{{Repo: "https://argoproj.github.io/argo-helm", Name: "argo-cd", Version: "7.8.2"}}) {
		t.Errorf("argo-cd 3.27.0: images %q, charts %+v (from values.yaml, once each)", argo.Images, argo.Charts)
	}
	if !argo.FIPS || argo.Pack.Description != "Declarative GitOps for Kubernetes." || argo.Pack.DisplayName != "Argo CD" ||
		argo.Pack.DocsURL != "https://argo-cd.readthedocs.io/" || argo.Pack.Group != "gitops" || argo.Pack.AddonType != "system app" {
		t.Errorf("argo-cd: fips %v (packs/argo-cd.toml sets it), pack %+v", argo.FIPS, *argo.Pack)
	}
	old := get("argo-cd@3.26.7")
	if old.File != filepath.Join(registryCatalog, "packs", "argo-cd.toml") || !slices.Equal(old.Arch, []string{"amd64"}) ||
		old.Products["palette"].Raw != ">=4.6.0 <4.7.0" {
		t.Errorf("argo-cd 3.26.7 (only in packs/argo-cd.toml): file %s, arch %v, products %v", old.File, old.Arch, old.Products)
	}
	if !get("elastic-operator@2.9.0").Deprecated || get("elastic-operator@3.3.2").Deprecated {
		t.Error("elastic-operator: only 2.9.0 is deprecated")
	}
	if d := get("elastic-operator@3.3.2").Pack.Description; d != "Elastic Cloud on Kubernetes." {
		t.Errorf("elastic-operator: description %q, want the newest current version's", d)
	}
}

// TestRegistryVersionsSort checks that versions as registries write them
// parse and sort: a "v" prefix, two parts, a date or "up" suffix.
func TestRegistryVersionsSort(t *testing.T) {
	in := []string{"2.0.1", "v1.1.0", "0.30.0-5.5.2026", "1.5", "2.0.1-up.1", "0.30.0"}
	slices.SortFunc(in, func(a, b string) int { return mustVersion(a).Compare(mustVersion(b)) })
	want := []string{"0.30.0-5.5.2026", "0.30.0", "v1.1.0", "1.5", "2.0.1-up.1", "2.0.1"}
	if !slices.Equal(in, want) {
		t.Errorf("sorted %q, want %q", in, want)
	}
	for _, c := range []struct {
		constraint, version string
		want                bool
	}{
		{">=0.30", "0.30.0-5.5.2026", true},
		{"<0.30.0", "0.30.0-5.5.2026", false},
		{">=2.0.1 <=2.0.1", "2.0.1-up.1", true},
		{"<=1.30", "v1.30.2", true},
		{">=1.31", "1.30.0-rc.1", false},
	} {
		if got := mustConstraint(c.constraint).Allows(mustVersion(c.version)); got != c.want {
			t.Errorf("%q allows %q: %v, want %v", c.constraint, c.version, got, c.want)
		}
	}
}

// TestLoadRegistryBadInput checks that each problem of a registry is
// reported with its file and line, all at once, and nothing loads.
func TestLoadRegistryBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(registryCatalog)); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "registry")
	write := func(name, text string) {
		p := filepath.Join(reg, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("broken/pack.json", "{\n  \"name\": \"broken\",\n  \"version\": \"1.0\"\n  \"layer\": \"addon\"\n}\n")
	write("nameless/pack.json", "{\n  \"version\": \"1.0\",\n  \"layer\": \"addon\",\n  \"cloudTypes\": [\"all\"]\n}\n")
	write("escape-1.0/pack.json", "{\n  \"name\": \"escape\",\n  \"version\": \"1.0\",\n  \"layer\": \"addon\",\n  \"cloudTypes\": [\"all\"],\n  \"charts\": [\n    \"../argo-cd-3.27.0/charts/argo-cd-7.8.2.tgz\"\n  ]\n}\n")
	write("mars-1.0/pack.json", "{\n  \"name\": \"mars\",\n  \"version\": \"1.0\",\n  \"layer\": \"addon\",\n  \"cloudTypes\": [\n    \"all\",\n    \"mars\"\n  ]\n}\n")
	write("needy-1.0/pack.json", `{
  "name": "needy",
  "version": "1.0",
  "layer": "addon",
  "cloudTypes": ["all"],
  "constraints": {
    "dependencies": [
      { "packName": "kubernetes", "minVersion": "1.40", "maxVersion": "", "type": "required" },
      { "packName": "kubernetes", "minVersion": "1.29", "type": "sometimes" }
    ]
  }
}
`)
	write("needy-1.0/values.yaml", "pack:\n  content:\n    images:\n      - image: [\n")
	_, err := Load(dir)
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("Load: %v, want Problems", err)
	}
	got := ps.Error()
	for _, want := range []string{
		reg + "/broken/pack.json:4: is not a pack.json: invalid character '\"' after object key:value pair; fix the JSON",
		reg + `/escape-1.0/pack.json:7: charts "../argo-cd-3.27.0/charts/argo-cd-7.8.2.tgz" leaves the pack's folder; name a file inside the pack's folder`,
		reg + `/mars-1.0/pack.json:7: cloudType "mars" is not a cloud of the catalog; map it in catalog.toml: [registry.clouds] mars = ["<cloud id>", …]; the catalog has aws, vsphere, edge-native`,
		reg + `/nameless/pack.json:1: "name" is missing; add "name": the pack's name`,
		reg + `/needy-1.0/pack.json:9: dependency on "kubernetes" has type "sometimes"; use "required", "optional", "notSupported" or "upgrade"`,
		reg + "/needy-1.0/values.yaml:4: yaml: line 4: did not find expected node content; fix the YAML; pack.content.images[] holds {image: …}, pack.content.charts[] {repo, name, version}",
	} {
		if !strings.Contains(got, want+"\n") && !strings.HasSuffix(got, want) {
			t.Errorf("problems lack\n%s\ngot:\n%s", want, got)
		}
	}
}

// TestLoadRegistryUnsatisfiedDependency checks that a required dependency
// no version satisfies is placed on its line of pack.json.
func TestLoadRegistryUnsatisfiedDependency(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(registryCatalog)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "registry", "cni-calico-3.28.0", "pack.json")
	data, _ := os.ReadFile(file)
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), `"minVersion": "1.29"`, `"minVersion": "1.40"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	want := file + `:11: version 3.28.0: requires pack "kubernetes" versions ">=1.40 <=1.30": no pack version satisfies it; widen the range or add a matching version; the catalog has: 1.29.4, v1.30.2`
	if err == nil || err.Error() != want {
		t.Errorf("Load: %v\nwant %s", err, want)
	}
}

// TestLoadRegistryThroughALink: a [[registry]] path that is a link to the
// checkout (the catalog accepts it as a folder) yields the same versions
// as the checkout itself, not none.
func TestLoadRegistryThroughALink(t *testing.T) {
	t.Parallel()
	want, err := Load(registryCatalog)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(registryCatalog)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "registry"), filepath.Join(dir, "checkout")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("checkout", filepath.Join(dir, "registry")); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(c *Catalog) (out []string) {
		for _, v := range c.Versions {
			out = append(out, v.ID())
		}
		return out
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("through a link: versions %q, want %q", ids(got), ids(want))
	}
}
