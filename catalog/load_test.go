package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// writeCatalog writes testdata/small.txtar into a temp dir after applying
// edits (file → func(old) new; a nil func deletes the file).
func writeCatalog(t *testing.T, edits map[string]func(string) string) string {
	t.Helper()
	ar, err := txtar.ParseFile("testdata/small.txtar")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		data := string(f.Data)
		if edit, ok := edits[f.Name]; ok {
			if edit == nil {
				continue
			}
			data = edit(data)
		}
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, edit := range edits { // new files
		if edit == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, name)); os.IsNotExist(err) {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(edit("")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test edit does not apply: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

// TestLoadLenient checks what may be left out: cloud kinds, and layer
// orders when no layer has one (layers then come as written).
func TestLoadLenient(t *testing.T) {
	dir := writeCatalog(t, map[string]func(string) string{"catalog.toml": func(s string) string {
		s = strings.ReplaceAll(s, "kind = \"public\"\n", "")
		for _, n := range []string{"1", "2", "3"} {
			s = strings.Replace(s, "order = "+n+"\n", "", 1)
		}
		return s
	}})
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Clouds[0].Kind != "" || c.Layers[0].ID != "os" || c.Layers[2].ID != "cni" {
		t.Errorf("clouds %+v layers %+v", c.Clouds, c.Layers)
	}
}

// TestLoadMultiple checks which layers are multiple-choice: the ones
// marked, or the last by order when none is.
func TestLoadMultiple(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string]func(string) string
		want  string // the multiple-choice layers
	}{
		{"none marked: the last by order", nil, "cni"},
		{"last by order, not as written", map[string]func(string) string{
			"catalog.toml": replace("order = 3", "order = 0")}, "k8s"},
		{"marked explicitly", map[string]func(string) string{
			"catalog.toml": replace("order = 2", "order = 2\nmultiple = true")}, "k8s"},
		{"marked explicitly, several", map[string]func(string) string{
			"catalog.toml": func(s string) string {
				return replace("order = 3", "order = 3\nmultiple = true")(replace("order = 1", "order = 1\nmultiple = true")(s))
			}}, "os cni"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeCatalog(t, tt.edits))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range c.Layers {
				if l.Multiple != c.Multiple(l.ID) {
					t.Errorf("Catalog.Multiple(%s) disagrees with the facet", l.ID)
				}
				if l.Multiple {
					got = append(got, l.ID)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("multiple-choice layers %q, want %q", strings.Join(got, " "), tt.want)
			}
			for _, p := range c.Packs {
				if p.Multiple != c.Multiple(p.Layer) {
					t.Errorf("pack %s: Multiple %v, its layer %s says %v", p.Name, p.Multiple, p.Layer, c.Multiple(p.Layer))
				}
			}
		})
	}
}

// ciliumRequiringCalico is a second pack of the cni layer whose version
// requires the other cni pack: valid only while cni is multiple-choice.
const ciliumRequiringCalico = `name = "cni-cilium"
layer = "cni"

[[version]]
version = "1.17.6"
clouds = ["aws"]
arch = ["amd64"]
source = "payload/file.txt"
products = { palette = ">=4.6.0" }

  [[version.requires]]
  pack = "cni-calico"
  versions = ">=3.28"
`

// TestLoadRulesInsideMultipleLayer checks that a rule on another pack of
// the pack's own layer is valid in a multiple-choice layer (cni, the last).
func TestLoadRulesInsideMultipleLayer(t *testing.T) {
	for _, rule := range []string{`pack = "cni-calico"`, `layer = "cni"`} {
		c, err := Load(writeCatalog(t, map[string]func(string) string{
			"packs/cni-cilium.toml": func(string) string { return strings.Replace(ciliumRequiringCalico, `pack = "cni-calico"`, rule, 1) }}))
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		cilium, calico := c.PackByName("cni-cilium").Versions[0], c.PackByName("cni-calico").Versions[0]
		if !Compatible(cilium, calico) {
			t.Errorf("%s: cilium 1.17.6 should be compatible with calico 3.29.2", rule)
		}
	}
}

func TestLoadSmall(t *testing.T) {
	c, err := Load(writeCatalog(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range c.Versions {
		got = append(got, v.ID())
	}
	want := "ubuntu-aws@22.04 kubernetes@1.29.0 kubernetes@1.32.3 cni-calico@3.29.2"
	if strings.Join(got, " ") != want {
		t.Errorf("versions in catalog order:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	k := c.PackByName("kubernetes").Versions[1]
	if !k.FIPS || len(k.Clouds) != 2 || len(k.Requires) != 1 || k.Requires[0].Layer != "os" {
		t.Errorf("kubernetes 1.32.3 decoded wrong: %+v", k)
	}
	if k.Line != 12 {
		t.Errorf("kubernetes 1.32.3 at line %d, want 12", k.Line)
	}
	if r := c.Products[0].Releases[0]; r.Date != "2025-02-10" || r.Bundle.Path == "" {
		t.Errorf("release decoded wrong: %+v", r)
	}
	if len(c.Arches) != 2 {
		t.Errorf("default arches: %v", c.Arches)
	}
}

// TestLoadBadInput checks that each kind of bad input is reported with the
// file and line where it is written and a hint, and that all problems of a
// catalog come back at once.
func TestLoadBadInput(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string]func(string) string
		want  []string // each must appear in one problem: "file:line: text"
	}{
		{"unknown cloud id", map[string]func(string) string{
			"packs/kubernetes.toml": replace(`  "vsphere",`, `  "vsphere2",`)},
			[]string{`packs/kubernetes.toml:16: version 1.32.3: cloud "vsphere2" is not declared in catalog.toml; use one of: aws, vsphere`}},
		{"unknown layer", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`layer = "cni"`, `layer = "network"`)},
			[]string{`packs/cni-calico.toml:3: layer "network" is not declared`}},
		{"unknown product", map[string]func(string) string{
			"packs/ubuntu-aws.toml": replace(`{ palette =`, `{ vertex =`)},
			[]string{`packs/ubuntu-aws.toml:11: version 22.04: product "vertex" is not declared`}},
		{"unknown arch", map[string]func(string) string{
			"packs/ubuntu-aws.toml": replace(`"arm64"]`, `"riscv"]`)},
			[]string{`packs/ubuntu-aws.toml:9: version 22.04: arch "riscv" is not declared`}},
		{"duplicate version", map[string]func(string) string{
			"packs/kubernetes.toml": replace(`version = "1.32.3"`, `version = "1.29"`)},
			[]string{`packs/kubernetes.toml:13: version 1.29 of pack "kubernetes" is declared twice (lines 4 and 12)`}},
		{"dotdot in a name", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`name = "cni-calico"`, `name = "../cni-calico"`)},
			[]string{`packs/cni-calico.toml:1: pack name "../cni-calico"`}},
		{"upper case name", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`name = "cni-calico"`, `name = "CNI-Calico"`)},
			[]string{`packs/cni-calico.toml:1: pack name "CNI-Calico" may hold only lower-case`}},
		{"path separator in a name", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`name = "cni-calico"`, `name = "cni/calico"`)},
			[]string{`packs/cni-calico.toml:1: pack name "cni/calico" may hold only`}},
		{"bad constraint", map[string]func(string) string{
			"packs/kubernetes.toml": replace(`palette = ">=4.7.0"`, `palette = ">=4.7.0 <<5"`)},
			[]string{`packs/kubernetes.toml:22: version 1.32.3: product "palette": constraint ">=4.7.0 <<5" is not a version range`}},
		{"bad requires constraint", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`versions = ">=1.29 <1.33"`, `versions = "one point two"`)},
			[]string{`packs/cni-calico.toml:14: version 3.29.2: requires kubernetes: constraint "one point two"`}},
		{"missing source", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`source = "payload/file.txt"`, `source = "payload/nope.txt"`)},
			[]string{`packs/cni-calico.toml:9: source "payload/nope.txt" does not exist`}},
		{"missing readme", map[string]func(string) string{"readme.md": nil},
			[]string{`packs/ubuntu-aws.toml:4: readme "readme.md" does not exist`}},
		{"missing release bundle", map[string]func(string) string{"releases/bundle/content.txt": nil},
			[]string{`catalog.toml:8: bundle "releases/bundle" does not exist`}},
		{"unsatisfiable pack requires", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`versions = ">=1.29 <1.33"`, `versions = ">=1.40"`)},
			[]string{`packs/cni-calico.toml:12: version 3.29.2: requires pack "kubernetes" versions ">=1.40": no pack version satisfies it; widen the range or add a matching version; the catalog has: 1.29.0, 1.32.3`}},
		{"unsatisfiable layer requires", map[string]func(string) string{
			"packs/kubernetes.toml": replace(`versions = ">=22.04"`, `versions = ">=24.04"`)},
			[]string{`packs/kubernetes.toml:23: version 1.32.3: requires layer "os" versions ">=24.04": no pack version satisfies it`}},
		{"requires an unknown pack", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`pack = "kubernetes"`, `pack = "kubernetez"`)},
			[]string{`packs/cni-calico.toml:12: version 3.29.2: requires pack "kubernetez": no such pack`}},
		{"requires both pack and layer", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`pack = "kubernetes"`, `pack = "kubernetes"
  layer = "k8s"`)},
			[]string{`packs/cni-calico.toml:12: version 3.29.2: a requires rule needs one target`}},
		{"unknown key", map[string]func(string) string{
			"packs/kubernetes.toml": replace(`fips = true`, `fips = true
sorce = "x"`)},
			[]string{`packs/kubernetes.toml:20: unknown key "version.sorce"`}},
		{"wrong type", map[string]func(string) string{
			"packs/kubernetes.toml": replace(`fips = true`, `fips = "yes"`)},
			[]string{`packs/kubernetes.toml:19: incompatible types`}},
		{"TOML syntax error", map[string]func(string) string{
			"catalog.toml": replace(`kind = "public"`, `kind = "public`)},
			[]string{`catalog.toml:17: `}},
		{"duplicate cloud", map[string]func(string) string{
			"catalog.toml": replace(`id = "vsphere"`, `id = "aws"`)},
			[]string{`catalog.toml:20: cloud "aws" is declared twice`}},
		{"reserved id all", map[string]func(string) string{
			"catalog.toml": replace(`id = "vsphere"`, `id = "all"`)},
			[]string{`catalog.toml:20: cloud id "all" is "all"`}},
		{"bad cloud kind", map[string]func(string) string{
			"catalog.toml": replace(`kind = "datacenter"`, `kind = "onprem"`)},
			[]string{`catalog.toml:22: cloud "vsphere" has kind "onprem"; set kind to one of: public, datacenter, edge`}},
		{"some layers ordered, one not", map[string]func(string) string{
			"catalog.toml": replace("name = \"Network\"\norder = 3", "name = \"Network\"")},
			[]string{`catalog.toml:34: layer "cni" has no order, while other layers have one`}},
		{"requires a pack of its own single-choice layer", map[string]func(string) string{
			"catalog.toml":          replace("order = 2", "order = 2\nmultiple = true"),
			"packs/cni-cilium.toml": func(string) string { return ciliumRequiringCalico }},
			[]string{`packs/cni-cilium.toml:11: version 1.17.6: requires pack "cni-calico": that pack is in the same layer (cni); requires constrain packs of other layers (or of a multiple-choice layer); remove the rule`}},
		{"requires its own single-choice layer", map[string]func(string) string{
			"packs/kubernetes.toml": replace(`layer = "os"`, `layer = "k8s"`)},
			[]string{`packs/kubernetes.toml:23: version 1.32.3: requires layer "k8s": that is this pack's own layer, a single-choice one`}},
		{"requires its own pack", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`pack = "kubernetes"`, `pack = "cni-calico"`)},
			[]string{`packs/cni-calico.toml:12: version 3.29.2: requires pack "cni-calico": that is this pack itself; two versions of one pack never go in one bundle`}},
		{"requires its own multiple-choice layer, alone in it", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`pack = "kubernetes"`, `layer = "cni"`)},
			[]string{`packs/cni-calico.toml:12: version 3.29.2: requires layer "cni": no other pack is in that layer; add another pack to that layer or remove the rule`}},
		{"duplicate release", map[string]func(string) string{
			"catalog.toml": replace(`version = "4.7.3"`, `version = "4.6"`)},
			[]string{`catalog.toml:11: product "palette": release 4.6 is declared twice`}},
		{"several problems at once", map[string]func(string) string{
			"packs/cni-calico.toml": replace(`source = "payload/file.txt"`, `source = "gone"`),
			"packs/ubuntu-aws.toml": replace(`clouds = ["aws"]`, `clouds = ["gcp"]`)},
			[]string{`packs/cni-calico.toml:9: source "gone" does not exist`, `packs/ubuntu-aws.toml:8: version 22.04: cloud "gcp" is not declared`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeCatalog(t, tt.edits)
			c, err := Load(dir)
			if err == nil {
				t.Fatalf("Load accepted a bad catalog: %d versions", len(c.Versions))
			}
			ps, ok := err.(Problems)
			if !ok {
				t.Fatalf("error is %T, want Problems: %v", err, err)
			}
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("missing problem\n want: %s\n  got: %s", w, msg)
				}
			}
			for _, p := range ps {
				if p.Fix == "" {
					t.Errorf("problem without a fix hint: %s", p.Error())
				}
			}
		})
	}
}
