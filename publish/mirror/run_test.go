package mirror_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

// keyFile writes a public key where --key would name it.
func keyFile(t *testing.T, pem []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(p, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, src tree.Reader, dest string, j mirror.Job) *mirror.JobResult {
	t.Helper()
	res, err := mirror.Run(context.Background(), src, dest, j)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Without --prune, a full mirror follows its source: what a new manifest
// drops goes. --prune=false keeps it.
func TestRunFullMirrorPrunesByDefault(t *testing.T) {
	pub := treetest.NewPublisher(t, "site")
	key := keyFile(t, pub.Signer.PublicKeyPEM())
	v1 := map[string]string{"index.html": "v1", "old.html": "dropped in v2"}
	v2 := map[string]string{"index.html": "v2"}
	for _, c := range []struct {
		prune    *bool
		oldStays bool
	}{{nil, false}, {new(false), true}} {
		dest := filepath.Join(t.TempDir(), "mirror")
		_, src := openTree(t, pub.Sign(1, v1))
		run(t, src, dest, mirror.Job{KeyFile: key})
		_, src = openTree(t, pub.Sign(2, v2))
		res := run(t, src, dest, mirror.Job{KeyFile: key, Prune: c.prune})
		if got := treetest.Exists(filepath.Join(dest, "old.html")); got != c.oldStays {
			t.Errorf("prune %v: old.html there: %v, want %v (removed %d)", c.prune, got, c.oldStays, res.Removed)
		}
	}
}

// Without --prune, a partial mirror keeps what an earlier mirror brought
// that its filter does not want; --prune removes it.
func TestRunPartialMirrorKeepsByDefault(t *testing.T) {
	s := treetest.NewSite(t)
	src := treetest.ServeDir(t, s.Public(), nil)
	key := keyFile(t, s.Signer.PublicKeyPEM())
	k8s := filepath.Join("artifacts", "packs", "kubernetes", "kubernetes-1.32.3.zst")
	cni := mirror.NewFilter().With("layer", "cni")
	for _, c := range []struct {
		prune    *bool
		k8sStays bool
	}{{nil, true}, {new(true), false}} {
		dest := filepath.Join(t.TempDir(), "mirror")
		run(t, src, dest, mirror.Job{KeyFile: key})
		if !treetest.Exists(filepath.Join(dest, k8s)) {
			t.Fatalf("the full mirror lacks %s", k8s)
		}
		run(t, src, dest, mirror.Job{KeyFile: key, Prune: c.prune, Mirror: mirror.Options{Filter: cni}})
		if got := treetest.Exists(filepath.Join(dest, k8s)); got != c.k8sStays {
			t.Errorf("prune %v: %s there: %v, want %v", c.prune, k8s, got, c.k8sStays)
		}
	}
}

// Without --key, Run trusts the source's own key with a warning and pins
// it: a later run against another publisher's tree is refused.
func TestRunPinsTheSourcesKey(t *testing.T) {
	pub, other := treetest.NewPublisher(t, "site"), treetest.NewPublisher(t, "other")
	_, src := openTree(t, pub.Sign(1, map[string]string{"index.html": "v1", "public_key.pem": string(pub.Signer.PublicKeyPEM())}))
	dest := filepath.Join(t.TempDir(), "mirror")
	res := run(t, src, dest, mirror.Job{})
	if !strings.Contains(res.KeyWarning, "pinning it for later mirrors into "+dest) {
		t.Errorf("warning %q does not say the key is pinned", res.KeyWarning)
	}
	_, foreign := openTree(t, other.Sign(2, map[string]string{"index.html": "evil", "public_key.pem": string(other.Signer.PublicKeyPEM())}))
	res, err := mirror.Run(context.Background(), foreign, dest, mirror.Job{})
	var te *mirror.TrustError
	if !errors.As(err, &te) || res.Mirrored {
		t.Fatalf("another publisher's tree: %v (mirrored %v), want a TrustError", err, res != nil && res.Mirrored)
	}
	if data, _ := os.ReadFile(filepath.Join(dest, "index.html")); string(data) != "v1" {
		t.Errorf("index.html is %q after the refused mirror", data)
	}
}

// After the mirror, Run rebases the URL lists and writes volumes that
// verify on their own; a mirror that fails does neither.
func TestRunRebasesAndWritesVolumes(t *testing.T) {
	s := treetest.NewSite(t)
	src := treetest.ServeDir(t, s.Public(), nil)
	dest := filepath.Join(t.TempDir(), "mirror")
	vols := filepath.Join(t.TempDir(), "vols")
	j := mirror.Job{KeyFile: keyFile(t, s.Signer.PublicKeyPEM()), BaseURL: "https://mirror.internal.example/packs/", VolumesDir: vols, VolumeSize: 1 << 20}
	res := run(t, src, dest, j)
	if !res.Mirrored || res.Rebased == 0 || res.RebasedTo != j.BaseURL || len(res.Volumes) == 0 {
		t.Fatalf("mirrored %v, rebased %d lists to %q, volumes %v", res.Mirrored, res.Rebased, res.RebasedTo, res.Volumes)
	}
	if st, err := mirror.ReadState(dest); err != nil || st.BaseURL != j.BaseURL {
		t.Errorf("state after rebase: %+v %v", st, err)
	}
	rep, err := verify.Run(context.Background(), openDir(t, dest), verify.Job{KeyFile: j.KeyFile})
	if err != nil || !rep.OK() {
		t.Errorf("the rebased mirror does not verify: %v %v", err, rep.Failures)
	}
	for _, p := range res.Volumes {
		if rep, err := mirror.VerifyVolume(p, s.Key, s.Now, false); err != nil || !rep.OK() {
			t.Errorf("%s: %v %v", p, err, rep.Failures)
		}
	}

	// A source with a tampered object: no rebase, no volumes.
	tampered := filepath.Join(t.TempDir(), "site")
	treetest.CopyTree(t, s.Public(), tampered)
	os.WriteFile(filepath.Join(tampered, "index.html"), []byte("tampered"), 0o644)
	vols2 := filepath.Join(t.TempDir(), "vols2")
	j.VolumesDir = vols2
	res, err = mirror.Run(context.Background(), openDir(t, tampered), filepath.Join(t.TempDir(), "m2"), j)
	if !errors.Is(err, mirror.ErrFailed) || res.Mirrored || res.RebasedTo != "" || treetest.Exists(vols2) {
		t.Errorf("failed mirror: err %v, mirrored %v, rebased to %q, volumes there %v", err, res.Mirrored, res.RebasedTo, treetest.Exists(vols2))
	}
}

func openDir(t *testing.T, dir string) *tree.DirReader {
	t.Helper()
	r, err := tree.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// A --volumes folder holding a file named like a volume that is not one
// is refused before anything is fetched, not after the whole mirror.
func TestRunRefusesForeignVolumeFirst(t *testing.T) {
	pub := treetest.NewPublisher(t, "site")
	srv := treetest.ServeTree(t, pub.Sign(1, map[string]string{"index.html": "home"}))
	vols := t.TempDir()
	foreign := filepath.Join(vols, "vol-001.tar")
	os.WriteFile(foreign, []byte("my own tar"), 0o644)
	dest := filepath.Join(t.TempDir(), "mirror")
	_, err := mirror.Run(context.Background(), srv.Reader, dest, mirror.Job{KeyFile: keyFile(t, pub.Signer.PublicKeyPEM()), VolumesDir: vols, VolumeSize: 1 << 20})
	var te *tree.TargetError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), foreign) {
		t.Errorf("got %v, want a TargetError naming %s", err, foreign)
	}
	if n := srv.Count(tree.ManifestName); n != 0 || treetest.Exists(dest) {
		t.Errorf("the manifest was fetched %d times and DEST created: %v", n, treetest.Exists(dest))
	}
	if data, _ := os.ReadFile(foreign); string(data) != "my own tar" {
		t.Error("the user's vol-001.tar was changed")
	}
}
