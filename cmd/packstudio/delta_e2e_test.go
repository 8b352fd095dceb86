package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/publish/mirror"
)

// TestDeltaVolumesMonthly is the monthly flow through the binary: a full
// set, then a delta --since last that says its size against a full set's,
// verifies volume by volume, is refused onto an empty folder, applies onto
// the far side (equal to the built tree) and says it is applied already
// when given again; then mirror-state carries back the far side's
// manifest, and a delta --since that file brings the next build across.
func TestDeltaVolumesMonthly(t *testing.T) {
	dir := builtSite(t)
	public := filepath.Join(dir, "public")
	key := "key/site.pub.pem"
	stage, far := filepath.Join(t.TempDir(), "stage"), filepath.Join(t.TempDir(), "far")
	carry := func(name string, extra ...string) []string {
		t.Helper()
		vols := filepath.Join(t.TempDir(), name)
		args := append([]string{"mirror", "file://" + public, stage, "--key", key, "--volumes", vols, "--volume-size", "2M"}, extra...)
		r := cli(t, dir, nil, args...).must(t)
		list, _ := filepath.Glob(filepath.Join(vols, "vol-*.tar"))
		if len(list) == 0 {
			t.Fatalf("no volumes: %s", r.stdout)
		}
		if len(extra) > 0 && !regexp.MustCompile(`delta from manifest version \d+ \(sha256 [0-9a-f]{12}…\) to manifest version \d+: \d+ of \d+ objects, .* of .* in full`).MatchString(r.stdout) {
			t.Errorf("the delta does not say its size against a full set's: %s", r.stdout)
		}
		return list
	}
	unpack := func(vols []string, dest string) result {
		return cli(t, dir, nil, append(append([]string{"unpack", "--key", key}, vols...), dest)...)
	}
	edit := func(n string) {
		t.Helper()
		os.WriteFile(filepath.Join(dir, "catalog/payload/metallb/values.yaml"), []byte("version: 0.14.9\npatch: "+n+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "content/about.md"), []byte("# About\n\nRevision "+n+".\n"), 0o644)
		cli(t, dir, nil, "build").must(t)
	}

	unpack(carry("full"), far).must(t)
	edit("2")
	d12 := carry("d12", "--since", "last")
	for _, v := range d12 {
		if r := cli(t, dir, nil, "verify", "--key", key, v).must(t); !strings.Contains(r.stdout, "verified") || !strings.Contains(r.stdout, "a delta from manifest version") {
			t.Errorf("%s: %s", v, r.stdout)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if r := unpack(d12, empty); r.code != 1 || !strings.Contains(r.stderr, "holds no mirror") || !strings.Contains(r.stderr, "is a delta from manifest version") {
		t.Errorf("a delta onto an empty folder: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(empty); err == nil {
		t.Error("the refused delta created DEST")
	}
	if r := unpack(d12, far).must(t); !strings.Contains(r.stdout, "applied the delta from manifest version") {
		t.Errorf("unpack of the delta: %s", r.stdout)
	}
	sameFiles(t, public, far)
	if r := unpack(d12, far).must(t); !strings.Contains(r.stdout, "nothing to do, nothing written") {
		t.Errorf("the same delta again: %s", r.stdout)
	}

	// Back across the gap: what the far side holds, as two small files.
	carried := filepath.Join(t.TempDir(), "far-manifest.json")
	r := cli(t, dir, nil, "mirror-state", far, "--out", carried).must(t)
	st, _ := mirror.ReadState(far)
	if !strings.Contains(r.stdout, st.ManifestSHA256) {
		t.Errorf("mirror-state does not name the manifest's digest %s: %s", st.ManifestSHA256, r.stdout)
	}
	for _, p := range []string{carried, carried + ".sig.bin"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("mirror-state --out did not write %s", p)
		}
	}
	edit("3")
	unpack(carry("d23", "--since", carried), far).must(t)
	sameFiles(t, public, far)

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"mirror", "file://" + public, stage, "--key", key, "--since", "last"}, 2, "give --volumes DIR too"},
		{[]string{"mirror", "file://" + public, stage, "--key", key, "--volumes", t.TempDir(), "--since", "nowhere.json"}, 2, "nowhere.json"},
		{[]string{"mirror-state", public}, 2, "is not a packstudio mirror"},
	} {
		if r := cli(t, dir, nil, tt.args...); r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s", tt.args, r.code, tt.code, tt.want, r.stderr)
		}
	}
}
