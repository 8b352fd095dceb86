package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// treeFiles returns the regular files under root, relative with slashes,
// leaving out mirror bookkeeping.
func treeFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && rel == mirror.StateDir {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMirrorBundle mirrors bundles saved by the builder from a served tree:
// the copy holds exactly the bundle's artifacts and signatures plus every
// object that is not an artifact, byte for byte (but the mirror note, which
// must name every artifact left out), and verifies as a partial
// mirror. A controller bundle (one cloud) and an add-on-only bundle (any
// cloud) are both exercised.
func TestMirrorBundle(t *testing.T) {
	dir := builtSite(t)
	public := filepath.Join(dir, "public")
	origin := serveCLI(t, public)
	source := treeFiles(t, public)

	tests := []struct {
		name, bundle string
		artifacts    []string // pack versions, as artifacts/packs/<name>/<name>-<version>
	}{
		{"controller on vsphere",
			`{"product": "palette", "version": "4.7.3", "cloud": "vsphere",
			  "packs": ["ubuntu@22.04", "kubernetes@1.32.3", "cni-calico@3.29.2", "lb-metallb-helm@0.14.9"]}`,
			[]string{"ubuntu/ubuntu-22.04", "kubernetes/kubernetes-1.32.3", "cni-calico/cni-calico-3.29.2", "lb-metallb-helm/lb-metallb-helm-0.14.9"}},
		{"add-on only, extra fields ignored",
			`{"product": "palette", "version": "4.6.2", "packs": ["addon-dashboard@1.0.0", "lb-metallb-helm@0.13.12"], "arch": "amd64"}`,
			[]string{"addon-dashboard/addon-dashboard-1.0.0", "lb-metallb-helm/lb-metallb-helm-0.13.12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			bundle := filepath.Join(work, "bundle.json")
			os.WriteFile(bundle, []byte(tt.bundle), 0o644)
			dest := filepath.Join(work, "mirror")
			r := cli(t, dir, nil, "mirror", origin, dest, "--key", "key/site.pub.pem", "--bundle", bundle).must(t)
			if !strings.Contains(r.stdout, "left out by choice (--bundle "+bundle+")") {
				t.Errorf("summary does not name the bundle: %s", r.stdout)
			}

			want := map[string]bool{}
			for p := range source {
				if !strings.HasPrefix(p, "artifacts/") {
					want[p] = true
				}
			}
			for _, a := range tt.artifacts {
				want["artifacts/packs/"+a+".zst"], want["artifacts/packs/"+a+".sig.bin"] = true, true
			}
			got := treeFiles(t, dest)
			var extra, missing []string
			var wantLeftOut []string
			for p := range source {
				if strings.HasPrefix(p, "artifacts/") && !want[p] {
					wantLeftOut = append(wantLeftOut, p)
				}
			}
			sort.Strings(wantLeftOut)
			note, err := tree.ParseMirrorNote([]byte(got[tree.MirrorNotePath]))
			if err != nil {
				t.Fatalf("%s: %v", tree.MirrorNotePath, err)
			}
			if strings.Join(note.LeftOut, " ") != strings.Join(wantLeftOut, " ") {
				t.Errorf("%s leaves out %d paths, want the %d artifacts outside the bundle", tree.MirrorNotePath, len(note.LeftOut), len(wantLeftOut))
			}
			for p, data := range got {
				if !want[p] {
					extra = append(extra, p)
				} else if p == tree.MirrorNotePath {
					continue // the partial mirror's own note, checked above
				} else if data != source[p] {
					t.Errorf("%s differs from the source", p)
				}
			}
			for p := range want {
				if _, ok := got[p]; !ok {
					missing = append(missing, p)
				}
			}
			sort.Strings(extra)
			sort.Strings(missing)
			if len(extra)+len(missing) > 0 {
				t.Errorf("mirror holds %d files not in the bundle's selection %v, lacks %v", len(extra), extra, missing)
			}

			v := cli(t, dir, nil, "verify", "--key", "key/site.pub.pem", dest).must(t)
			if !regexp.MustCompile(`partial mirror: \d+ objects left out by choice`).MatchString(v.stdout) {
				t.Errorf("verify does not call the bundle mirror partial: %s", v.stdout)
			}
		})
	}
}

// TestMirrorBundleRefusals checks that a bundle file that cannot be used
// stops mirror with exit 2 before anything is written, naming the file and
// each pack version at fault.
func TestMirrorBundleRefusals(t *testing.T) {
	dir := builtSite(t)
	origin := serveCLI(t, filepath.Join(dir, "public"))
	const context = `"product": "palette", "version": "4.7.3", "cloud": "vsphere", `
	tests := []struct {
		name    string
		content string // "" for no file at all
		extra   []string
		want    []string // each in stderr, after the file's name
	}{
		{"no such pack", `{` + context + `"packs": ["ubuntu@22.04", "nosuch@1.0"]}`, nil,
			[]string{`bundle.json: "nosuch@1.0": this site has no pack "nosuch"`}},
		{"no such version", `{` + context + `"packs": ["ubuntu@99.1"]}`, nil,
			[]string{`bundle.json: "ubuntu@99.1": pack "ubuntu" has no version "99.1" on this site; it has 20.04, 22.04`}},
		{"not offered for the release", `{` + context + `"packs": ["ubuntu@20.04"]}`, nil,
			[]string{`bundle.json: "ubuntu@20.04" is not offered for palette 4.7.3 on vsphere`}},
		{"several at once, one not offered on the cloud", `{` + context + `"packs": ["edge-k3s@1.33.5", "nosuch@1.0"]}`, nil,
			[]string{`bundle.json: 2 problems:`, `"edge-k3s@1.33.5" is not offered for palette 4.7.3 on vsphere`, `"nosuch@1.0": this site has no pack "nosuch"`}},
		{"unknown context", `{"product": "palette", "version": "4.7.3", "cloud": "gcp", "packs": ["ubuntu@22.04"]}`, nil,
			[]string{`bundle.json: palette 4.7.3 on gcp is not a context of this site`}},
		{"not JSON", "{\n\"product\": \"palette\",\n\"packs\": [\n", nil,
			[]string{`bundle.json: is not a bundle.json at line 4`}},
		{"not name@version", `{` + context + `"packs": ["ubuntu", "a@b@c"]}`, nil,
			[]string{`pack "ubuntu" is not name@version`, `pack "a@b@c" is not name@version`}},
		{"no packs", `{` + context + `"packs": []}`, nil,
			[]string{`bundle.json: "packs" is missing or empty`}},
		{"path in an id", `{"product": "palette", "version": "../4.7.3", "packs": ["ubuntu@22.04"]}`, nil,
			[]string{`bundle.json: version "../4.7.3" is not an id`}},
		{"missing file", "", nil, []string{`bundle.json: cannot read: no such file or directory`}},
		{"with another filter", `{` + context + `"packs": ["ubuntu@22.04"]}`, []string{"--layer", "cni"},
			[]string{`--layer cni --bundle`, `a bundle is an exact selection already`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			bundle := filepath.Join(work, "bundle.json")
			if tt.content != "" {
				os.WriteFile(bundle, []byte(tt.content), 0o644)
			}
			dest := filepath.Join(work, "mirror")
			args := append([]string{"mirror", origin, dest, "--key", "key/site.pub.pem", "--bundle", bundle}, tt.extra...)
			r := cli(t, dir, nil, args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if _, err := os.Stat(dest); !os.IsNotExist(err) {
				t.Errorf("%s was created by a refused mirror", dest)
			}
		})
	}
}

// TestDemoMirrorBundle mirrors an AWS bundle for the demo's newest Palette
// release, with an add-on that requires another add-on, from the served
// demo tree: exactly those artifacts arrive and the copy verifies; a pack
// version of an older release is refused.
func TestDemoMirrorBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole demo site")
	}
	repo, _ := filepath.Abs("../..")
	work := t.TempDir()
	cli(t, work, nil, "keygen", "--out", "key/site").must(t)
	site := fmt.Sprintf("title = \"demo\"\nbase_url = \"http://127.0.0.1:8080/\"\ncatalog = %q\ncontent = %q\n[signing]\nkey = \"key/site.pem\"\n",
		filepath.Join(repo, "testdata/demo/catalog"), filepath.Join(repo, "testdata/demo/content"))
	os.WriteFile(filepath.Join(work, "site.toml"), []byte(site), 0o644)
	cli(t, work, nil, "build").must(t)
	origin := serveCLI(t, filepath.Join(work, "public"))

	packs := []string{"ubuntu-aws@24.04", "kubernetes@1.35.2", "cni-calico@3.32.0", "csi-aws-ebs@1.63.1", "prometheus-operator@88.3.0", "cost-analyzer@1.103.3"}
	bundle := filepath.Join(work, "bundle.json")
	os.WriteFile(bundle, []byte(`{"product": "palette", "version": "4.9.2", "cloud": "aws", "packs": ["`+strings.Join(packs, `", "`)+`"]}`), 0o644)
	dest := filepath.Join(work, "mirror")
	cli(t, work, nil, "mirror", origin, dest, "--key", "key/site.pub.pem", "--bundle", bundle).must(t)
	var want, got []string
	for _, p := range packs {
		name, version, _ := strings.Cut(p, "@")
		base := "artifacts/packs/" + name + "/" + name + "-" + version
		want = append(want, base+".sig.bin", base+".zst")
	}
	for p := range treeFiles(t, dest) {
		if strings.HasPrefix(p, "artifacts/") {
			got = append(got, p)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("artifacts mirrored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cli(t, work, nil, "verify", "--key", "key/site.pub.pem", dest).must(t)

	os.WriteFile(bundle, []byte(`{"product": "palette", "version": "4.9.2", "cloud": "aws", "packs": ["prometheus-operator@66.3.1"]}`), 0o644)
	r := cli(t, work, nil, "mirror", origin, filepath.Join(work, "refused"), "--key", "key/site.pub.pem", "--bundle", bundle)
	if r.code != 2 || !strings.Contains(r.stderr, `"prometheus-operator@66.3.1" is not offered for palette 4.9.2 on aws`) {
		t.Errorf("a pack version of an older release: exit %d\n%s", r.code, r.stderr)
	}
}
