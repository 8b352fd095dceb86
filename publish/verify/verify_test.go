package verify_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/verify"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopAll()
	os.Exit(code)
}

func verifyDir(t *testing.T, s *treetest.Site, dir string) *verify.Report {
	t.Helper()
	r, err := tree.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := verify.Tree(context.Background(), r, s.Key, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// failures maps each failed path to its reason.
func failures(rep *verify.Report) map[string]string {
	out := map[string]string{}
	for _, f := range rep.Failures {
		out[f.Path] = f.Reason
	}
	return out
}

func TestTreeVerifiesABuiltSite(t *testing.T) {
	s := treetest.NewSite(t)
	rep := verifyDir(t, s, s.Public())
	m := s.Manifest()
	if !rep.OK() || rep.Objects != len(m.Objects) || rep.Signatures == 0 {
		t.Fatalf("verify of a fresh build: %d of %d objects, %d signatures, failures %v", rep.Objects, len(m.Objects), rep.Signatures, rep.Failures)
	}
}

// TestTreeReportsEveryDamage: one damage of each kind, each reported on
// its own path with its own reason.
func TestTreeReportsEveryDamage(t *testing.T) {
	s := treetest.NewSite(t)
	dir := s.Public()
	var artifact, page, gone string
	for _, o := range s.Manifest().Objects {
		switch {
		case artifact == "" && tree.IsArtifact(o.Path):
			artifact = o.Path
		case page == "" && strings.HasSuffix(o.Path, ".html") && o.Size > 0:
			page = o.Path
		case gone == "" && strings.HasSuffix(o.Path, ".json") && strings.HasPrefix(o.Path, "browse/"):
			gone = o.Path
		}
	}
	full := func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }
	data, _ := os.ReadFile(full(page))
	os.WriteFile(full(page), bytes.Replace(data, data[:1], []byte{data[0] ^ 1}, 1), 0o644) // same size
	os.Remove(full(gone))
	os.WriteFile(full("stray.txt"), []byte("not ours"), 0o644)
	sig := full(tree.SigPath(artifact))
	sigData, _ := os.ReadFile(sig)
	sigData[len(sigData)-1] ^= 1
	os.WriteFile(sig, sigData, 0o644)

	got := failures(verifyDir(t, s, dir))
	want := map[string]string{page: "sha256", gone: "missing", "stray.txt": "not in the manifest (8 B)", tree.SigPath(artifact): "sha256"}
	for p, reason := range want {
		if !strings.Contains(got[p], reason) {
			t.Errorf("%s: reported %q, want a failure saying %q", p, got[p], reason)
		}
	}
	if len(got) != len(want) {
		t.Errorf("failures %v, want exactly %d", got, len(want))
	}
}

// TestTreeReportsStrayObjectsInABucket: a bucket lists its objects with
// their sizes like a directory does, so verify s3://… reports an object
// the manifest does not list.
func TestTreeReportsStrayObjectsInABucket(t *testing.T) {
	s := treetest.NewSite(t)
	m := testenv.SharedMinIO(t)
	m.SetEnv(t)
	ctx := context.Background()
	b, err := publish.OpenS3(ctx, "s3://"+testenv.Bucket(t)+"/site", publish.Options{Endpoint: m.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := publish.Publish(ctx, s.Public(), s.Key, b, publish.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Tree(ctx, b, s.Key, verify.Options{})
	if err != nil || !rep.OK() {
		t.Fatalf("verify of the published bucket: %v %v", err, rep.Failures)
	}
	body := []byte("left behind by another tool")
	if err := b.Put(ctx, "old/notes.txt", bytes.NewReader(body), publish.MetaFor("old/notes.txt", int64(len(body)), tree.Digest(body))); err != nil {
		t.Fatal(err)
	}
	rep, err = verify.Tree(ctx, b, s.Key, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := failures(rep); len(got) != 1 || got["old/notes.txt"] != "not in the manifest (27 B)" {
		t.Errorf("failures %v, want only old/notes.txt: not in the manifest (27 B)", got)
	}
}
