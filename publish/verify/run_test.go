package verify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

func keyFile(t *testing.T, pem []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(p, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
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

// A partial mirror's directory says what it left out: Run reports those
// objects as left out, not failed, where a check without the mirror's
// state fails them.
func TestRunReadsTheMirrorState(t *testing.T) {
	s := treetest.NewSite(t)
	key := keyFile(t, s.Signer.PublicKeyPEM())
	dest := filepath.Join(t.TempDir(), "mirror")
	res, err := mirror.Mirror(context.Background(), openDir(t, s.Public()), s.Key, dest, mirror.Options{Filter: mirror.NewFilter().With("layer", "cni")})
	if err != nil || res.LeftOut == 0 {
		t.Fatalf("partial mirror: %v, %d left out", err, res.LeftOut)
	}
	rep, err := verify.Run(context.Background(), openDir(t, dest), verify.Job{KeyFile: key})
	if err != nil || !rep.OK() || len(rep.LeftOut) != res.LeftOut {
		t.Fatalf("Run on the partial mirror: %v, failures %v, %d left out (want %d)", err, rep.Failures, len(rep.LeftOut), res.LeftOut)
	}
	if rep, _ := verify.Tree(context.Background(), openDir(t, dest), s.Key, verify.Options{}); rep.OK() {
		t.Error("without the mirror's state the partial mirror verified: the test proves nothing")
	}
}

// A mirror re-hosted over HTTP with its URL lists rebased to its own URL
// verifies: Run maps the lists back from the URL it reads them from.
func TestRunMapsListsRebasedToTheSitesURL(t *testing.T) {
	s := treetest.NewSite(t)
	dir := filepath.Join(t.TempDir(), "rehosted")
	treetest.CopyTree(t, s.Public(), dir)
	src := treetest.ServeDir(t, dir, nil)
	if n, err := mirror.Rebase(dir, src.String()); err != nil || n == 0 {
		t.Fatalf("rebase to %s: %d lists, %v", src, n, err)
	}
	rep, err := verify.Run(context.Background(), src, verify.Job{KeyFile: keyFile(t, s.Signer.PublicKeyPEM())})
	if err != nil || !rep.OK() {
		t.Fatalf("rebased site over HTTP: %v %v", err, rep.Failures)
	}
	if len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "rebased to "+src.String()) {
		t.Errorf("notes %q do not say the lists are rebased", rep.Notes)
	}
	if rep, _ := verify.Tree(context.Background(), src, s.Key, verify.Options{}); rep.OK() {
		t.Error("the rebased lists verified without mapping them back: the test proves nothing")
	}
}

// Without --key, Run uses the tree's own key and says so; with a key of
// another publisher the tree fails.
func TestRunKeyPolicy(t *testing.T) {
	pub, other := treetest.NewPublisher(t, "site"), treetest.NewPublisher(t, "other")
	dir := t.TempDir()
	pub.Sign(1, map[string]string{"index.html": "hi", "public_key.pem": string(pub.Signer.PublicKeyPEM())}).Write(t, dir)
	rep, err := verify.Run(context.Background(), openDir(t, dir), verify.Job{})
	if err != nil || !rep.OK() || !strings.Contains(rep.KeyWarning, "no --key given; trusting the tree's own public_key.pem") {
		t.Fatalf("no --key: %v, %v, warning %q", err, rep.Failures, rep.KeyWarning)
	}
	rep, err = verify.Run(context.Background(), openDir(t, dir), verify.Job{KeyFile: keyFile(t, other.Signer.PublicKeyPEM())})
	if err != nil || rep.OK() || rep.KeyWarning != "" {
		t.Fatalf("another publisher's key: %v, ok %v, warning %q; want a failure", err, rep.OK(), rep.KeyWarning)
	}
}

// A tar volume is checked on its own, and only with the publisher's key.
func TestVolume(t *testing.T) {
	if !verify.IsVolume("dvd/vol-001.tar") || verify.IsVolume("mirror") || verify.IsVolume("https://example.com/tar") {
		t.Error("IsVolume takes the wrong targets for volumes")
	}
	s := treetest.NewSite(t)
	paths, _, err := mirror.WriteVolumes(s.Public(), filepath.Join(t.TempDir(), "vols"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var ke *tree.KeyError
	if _, err := verify.Volume(paths[0], "", verify.Options{}); !errors.As(err, &ke) || !strings.Contains(err.Error(), "needs --key PUB") {
		t.Errorf("no key: %v, want a KeyError asking for --key", err)
	}
	if _, err := verify.Volume(paths[0], filepath.Join(t.TempDir(), "absent.pem"), verify.Options{}); !errors.As(err, &ke) {
		t.Errorf("unreadable key: %v, want a KeyError", err)
	}
	rep, err := verify.Volume(paths[0], keyFile(t, s.Signer.PublicKeyPEM()), verify.Options{})
	if err != nil || !rep.OK() || rep.Objects == 0 {
		t.Errorf("volume with the publisher's key: %v %v", err, rep)
	}
	other := treetest.NewPublisher(t, "other")
	var te *mirror.TrustError
	if _, err := verify.Volume(paths[0], keyFile(t, other.Signer.PublicKeyPEM()), verify.Options{}); !errors.As(err, &te) {
		t.Errorf("volume with another key: %v, want a TrustError", err)
	}
}

// TestUnpack: unpacking needs the publisher's key; every volume restores
// a tree that verifies; a volume left out leaves its objects reported as
// missing, not failed; another publisher's key is refused.
func TestUnpack(t *testing.T) {
	ctx := context.Background()
	s := treetest.NewSite(t)
	paths, _, err := mirror.WriteVolumes(s.Public(), filepath.Join(t.TempDir(), "vols"), 1<<20)
	if err != nil || len(paths) < 2 {
		t.Fatalf("volumes: %v, %d of them (want several)", err, len(paths))
	}
	var ke *tree.KeyError
	if _, err := verify.Unpack(ctx, paths, filepath.Join(t.TempDir(), "x"), "", mirror.UnpackOptions{}); !errors.As(err, &ke) || !strings.Contains(err.Error(), "needs --key PUB") {
		t.Errorf("no key: %v, want a KeyError asking for --key", err)
	}
	key := keyFile(t, s.Signer.PublicKeyPEM())
	res, err := verify.Unpack(ctx, paths, filepath.Join(t.TempDir(), "all"), key, mirror.UnpackOptions{})
	if err != nil || !res.Report.OK() || len(res.Missing) != 0 || res.Report.Objects != len(s.Manifest().Objects) {
		t.Fatalf("every volume: %v, missing %v, report %+v", err, res.Missing, res.Report)
	}
	// A volume missing: refused, before anything is written.
	part := filepath.Join(t.TempDir(), "part")
	if _, err = verify.Unpack(ctx, paths[1:], part, key, mirror.UnpackOptions{}); err == nil || !strings.Contains(err.Error(), "volume 1 of") || treetest.Exists(part) {
		t.Errorf("all but the first volume: %v, want volume 1 named missing and nothing written", err)
	}
	// The whole set of a partial mirror (a tree that lacks some objects)
	// restores a partial tree: what it lacks is left out, not failed.
	partial := t.TempDir()
	os.CopyFS(partial, os.DirFS(s.Public()))
	var lacks []string
	for _, o := range s.Manifest().Objects {
		if strings.HasPrefix(o.Path, "artifacts/") && len(lacks) < 4 {
			os.Remove(filepath.Join(partial, filepath.FromSlash(o.Path)))
			lacks = append(lacks, o.Path)
		}
	}
	// A partial mirror holds its own note (what it left out), whose bytes
	// are not the manifest's, so its volumes cannot carry it: unpack writes
	// the note of what the set lacks, so pages find the file they load.
	note, err := mirror.Note("https://packs.example.com/", nil, lacks)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(partial, filepath.FromSlash(tree.MirrorNotePath)), note, 0o644)
	paths, _, err = mirror.WriteVolumes(partial, filepath.Join(t.TempDir(), "partial-vols"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	unpacked := filepath.Join(t.TempDir(), "partial")
	res, err = verify.Unpack(ctx, paths, unpacked, key, mirror.UnpackOptions{})
	if err != nil || !res.Report.OK() || !slices.Equal(res.Missing, lacks) || len(res.Report.LeftOut) != len(lacks) {
		t.Errorf("a partial set: %v, missing %v (want %v), report %+v", err, res.Missing, lacks, res.Report)
	}
	data, err := os.ReadFile(filepath.Join(unpacked, filepath.FromSlash(tree.MirrorNotePath)))
	if err != nil {
		t.Fatalf("the unpacked partial tree has no mirror note: %v", err)
	}
	if n, err := tree.ParseMirrorNote(data); err != nil || !slices.Equal(n.LeftOut, lacks) {
		t.Errorf("the unpacked note: %v, left out %v, want %v", err, n, lacks)
	}
	other := treetest.NewPublisher(t, "other")
	var te *mirror.TrustError
	if _, err := verify.Unpack(ctx, paths, filepath.Join(t.TempDir(), "foreign"), keyFile(t, other.Signer.PublicKeyPEM()), mirror.UnpackOptions{}); !errors.As(err, &te) {
		t.Errorf("another publisher's key: %v, want a TrustError", err)
	}
}
