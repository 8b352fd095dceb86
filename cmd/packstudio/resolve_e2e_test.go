package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// registrySite is the generator's test site with its catalog replaced by
// the registry fixture (packs read from pack.json files through
// [[registry]]), keyed and built.
func registrySite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	extract(t.Fatalf, "../../generator/testdata/site.txtar", dir)
	if err := os.RemoveAll(filepath.Join(dir, "catalog")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "catalog"), os.DirFS("../../catalog/testdata/registry/catalog")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "profiles"), os.DirFS("testdata/profiles")); err != nil {
		t.Fatal(err)
	}
	cli(t, dir, nil, "keygen", "--out", "key/site").must(t)
	cli(t, dir, nil, "build").must(t)
	return dir
}

// TestResolve turns profile fixtures into bundle.json against a built
// registry site: packs found (files and a folder, YAML and JSON, tag or
// version, "1.30.2" for the registry's "v1.30.2"), packs the site lacks or
// does not offer there (exit 1, nothing written; --allow-missing writes
// what was found), and a context the site does not have (exit 2).
func TestResolve(t *testing.T) {
	dir := registrySite(t)
	const context = "--product palette --version 4.7.0"
	tests := []struct {
		name   string
		args   string
		code   int
		stdout []string // exact lines
		stderr string
		bundle string // bundle.json as written; "" for none
	}{
		{"a folder of profiles", "profiles/good " + context + " --cloud aws", 0,
			[]string{"wrote bundle.json: 6 pack versions for palette 4.7.0 on aws"}, "",
			`{
  "product": "palette",
  "version": "4.7.0",
  "cloud": "aws",
  "packs": [
    "elasticsearch@2.0.1-up.1",
    "elastic-operator@3.3.2",
    "ubuntu@22.04",
    "kubernetes@v1.30.2",
    "cni-calico@3.28.0",
    "csi-aws-ebs@1.5"
  ]
}
`},
		{"add-ons only, one file", "profiles/good/addons.json " + context, 0,
			[]string{"wrote bundle.json: 2 pack versions for palette 4.7.0 (any cloud)"}, "",
			`{
  "product": "palette",
  "version": "4.7.0",
  "packs": [
    "elasticsearch@2.0.1-up.1",
    "elastic-operator@3.3.2"
  ]
}
`},
		{"missing packs", "profiles/missing.yaml " + context + " --cloud aws", 1,
			[]string{
				`missing: profiles/missing.yaml:9: nosuch 1.0: the site has no pack "nosuch"`,
				`missing: profiles/missing.yaml:11: kubernetes 1.28.0: the site has no such version; it has 1.29.4, v1.30.2`,
				`missing: profiles/missing.yaml:13: argo-cd 3.26.7 is not offered for palette 4.7.0 on aws; offered there: 3.27.0`,
			},
			"packstudio: 3 of 4 packs missing, bundle.json not written; fix the profiles or pass --allow-missing\n", ""},
		{"missing packs allowed", "profiles/missing.yaml " + context + " --cloud aws --allow-missing", 0,
			[]string{
				`missing: profiles/missing.yaml:9: nosuch 1.0: the site has no pack "nosuch"`,
				`missing: profiles/missing.yaml:11: kubernetes 1.28.0: the site has no such version; it has 1.29.4, v1.30.2`,
				`missing: profiles/missing.yaml:13: argo-cd 3.26.7 is not offered for palette 4.7.0 on aws; offered there: 3.27.0`,
				"wrote bundle.json: 1 pack versions for palette 4.7.0 on aws",
			}, "", `{
  "product": "palette",
  "version": "4.7.0",
  "cloud": "aws",
  "packs": [
    "ubuntu@22.04"
  ]
}
`},
		{"not offered on that cloud", "profiles/good/aws-profile.yaml --product palette --version 4.6.0 --cloud edge-native", 1,
			[]string{`missing: profiles/good/aws-profile.yaml:20: csi-aws-ebs 1.5 is not offered for palette 4.6.0 on edge-native; offered there: none`},
			"packstudio: 1 of 4 packs missing, bundle.json not written; fix the profiles or pass --allow-missing\n", ""},
		{"unknown cloud", "profiles/good " + context + " --cloud gcp", 2, nil,
			"packstudio: --cloud \"gcp\": the site has no such cloud; it has aws, vsphere, edge-native\n", ""},
		{"unknown release", "profiles/good --product palette --version 9.9", 2, nil,
			"packstudio: --version \"9.9\": palette has no such release; it has 4.6.0, 4.7.0\n", ""},
		{"not a profile", "profiles/good/README.txt " + context, 2, nil,
			"packstudio: profiles/good/README.txt: holds no kind: ClusterProfile; export the profile as YAML or JSON\n", ""},
		{"a pack pinned twice", "profiles/good/addons.json profiles/good/addons.json profiles/missing.yaml profiles/good/aws-profile.yaml " + context, 2, nil,
			"packstudio: profiles/good/aws-profile.yaml:14: pack \"kubernetes\" is pinned at 1.30.2 here and at 1.28.0 in profiles/missing.yaml:11; a bundle holds one version of a pack\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(filepath.Join(dir, "bundle.json"))
			r := cli(t, dir, nil, append([]string{"resolve"}, strings.Fields(tt.args)...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if tt.stdout != nil && r.stdout != strings.Join(tt.stdout, "\n")+"\n" {
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, strings.Join(tt.stdout, "\n"))
			}
			if !strings.HasPrefix(r.stderr, tt.stderr) || tt.stderr == "" && r.stderr != "" {
				t.Errorf("stderr %q, want %q", r.stderr, tt.stderr)
			}
			got, err := os.ReadFile(filepath.Join(dir, "bundle.json"))
			if tt.bundle == "" && err == nil {
				t.Errorf("bundle.json written:\n%s", got)
			} else if tt.bundle != "" && string(got) != tt.bundle {
				t.Errorf("bundle.json (%v):\n%s\nwant:\n%s", err, got, tt.bundle)
			}
		})
	}
}

// TestMirrorBundleCompleteness mirrors bundles of the registry site: a
// complete one, one missing what a required rule asks for (exit 2 naming
// each unmet rule, nothing written) and that one with --allow-incomplete.
func TestMirrorBundleCompleteness(t *testing.T) {
	dir := registrySite(t)
	write := func(name, packs string, cloud string) string {
		p := filepath.Join(dir, name)
		c := ""
		if cloud != "" {
			c = `"cloud": "` + cloud + `", `
		}
		if err := os.WriteFile(p, []byte(`{"product": "palette", "version": "4.7.0", `+c+`"packs": [`+packs+`]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	complete := write("complete.json", `"ubuntu@22.04", "kubernetes@v1.30.2", "cni-calico@3.28.0", "elasticsearch@2.0.1-up.1", "elastic-operator@3.3.2"`, "aws")
	cli(t, dir, nil, "mirror", "public", filepath.Join(dir, "m1"), "--key", "key/site.pub.pem", "--bundle", complete).must(t)

	incomplete := write("incomplete.json", `"ubuntu@22.04", "cni-calico@3.28.0", "elasticsearch@2.0.1-up.1"`, "aws")
	addons := write("addons.json", `"elasticsearch@2.0.1-up.1"`, "")
	for _, c := range []struct {
		file string
		want []string
	}{
		{incomplete, []string{incomplete + ": 2 problems:",
			`"cni-calico@3.28.0" needs kubernetes >=1.29 <=1.30, which the bundle lacks; add one of kubernetes@1.29.4, kubernetes@v1.30.2, or pass --allow-incomplete`,
			`"elasticsearch@2.0.1-up.1" needs elastic-operator >=3.3.2, which the bundle lacks; add one of elastic-operator@3.3.2, or pass --allow-incomplete`}},
		{addons, []string{addons + `: "elasticsearch@2.0.1-up.1" needs elastic-operator >=3.3.2, which the bundle lacks; add one of elastic-operator@3.3.2, or pass --allow-incomplete`}},
	} {
		dest := filepath.Join(dir, "m2")
		r := cli(t, dir, nil, "mirror", "public", dest, "--key", "key/site.pub.pem", "--bundle", c.file)
		if r.code != 2 {
			t.Fatalf("%s: exit %d, want 2\n%s%s", c.file, r.code, r.stdout, r.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
			}
		}
		if _, err := os.Stat(dest); !os.IsNotExist(err) {
			t.Errorf("%s was created by a refused mirror", dest)
		}
	}
	dest := filepath.Join(dir, "m3")
	cli(t, dir, nil, "mirror", "public", dest, "--key", "key/site.pub.pem", "--bundle", incomplete, "--allow-incomplete").must(t)
	if _, err := os.Stat(filepath.Join(dest, "artifacts/packs/elasticsearch/elasticsearch-2.0.1-up.1.zst")); err != nil {
		t.Errorf("--allow-incomplete: %v", err)
	}
	if r := cli(t, dir, nil, "mirror", "public", dest, "--allow-incomplete"); r.code != 2 || !strings.Contains(r.stderr, "--allow-incomplete goes with --bundle") {
		t.Errorf("--allow-incomplete without --bundle: exit %d %s", r.code, r.stderr)
	}
}
