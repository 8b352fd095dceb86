package publish_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
)

// foreign are objects another tool or person put in the target.
var foreign = map[string]string{"notes.txt": "my notes", "other-site/index.html": "<p>another site</p>", "packs/mine.txt": "inside a folder of ours"}

func putForeign(t *testing.T, b publish.Bucket) {
	t.Helper()
	for k, v := range foreign {
		if err := b.Put(context.Background(), k, bytes.NewReader([]byte(v)), publish.MetaFor(k, int64(len(v)), tree.Digest([]byte(v)))); err != nil {
			t.Fatal(err)
		}
	}
}

func checkForeign(t *testing.T, b publish.Bucket, when string) {
	t.Helper()
	for k, v := range foreign {
		if got := string(read(t, b, k)); got != v {
			t.Errorf("%s: %s holds %q, want %q", when, k, got, v)
		}
	}
}

// TestPublishPruneDeletesOnlyWhatItWrote: a first publish into a target
// holding other objects is refused (a target error: exit 2) with nothing
// written; --force publishes beside them; --prune then deletes only what
// the bucket's previous manifest listed and the new one drops.
func TestPublishPruneDeletesOnlyWhatItWrote(t *testing.T) {
	buckets(t, func(t *testing.T, newBucket func() publish.Bucket) {
		s := treetest.NewSite(t)
		rec := &recorder{Bucket: newBucket()}
		putForeign(t, rec.Bucket)
		_, err := publish.Publish(context.Background(), s.Public(), s.Key, rec, publish.SyncOptions{Prune: true})
		var te *tree.TargetError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "no manifest.json") {
			t.Fatalf("first publish into a target with other objects: %v, want a target error naming --force", err)
		}
		if len(rec.ops) != 0 {
			t.Errorf("a refused publish wrote or deleted: %v", rec.ops)
		}
		checkForeign(t, rec, "after the refusal")

		res := publishTo(t, s, rec, publish.SyncOptions{Prune: true, Force: true})
		if res.Deleted != 0 {
			t.Errorf("--force --prune into a bucket without a manifest deleted %d objects", res.Deleted)
		}
		checkForeign(t, rec, "after --force --prune")

		os.Remove(filepath.Join(s.Dir, "catalog/packs/dashboard.toml"))
		s.Build()
		res = publishTo(t, s, rec, publish.SyncOptions{Prune: true})
		if res.Deleted != 6 {
			t.Errorf("pruned %d objects, want the 6 the dropped pack had", res.Deleted)
		}
		checkForeign(t, rec, "after a prune")
	})
}

// TestPublishRefusesALowerVersion: a tree whose manifest version is not
// above the bucket's, with other content, never replaces it (exit 1,
// both versions named); the bucket keeps serving its manifest.
func TestPublishRefusesALowerVersion(t *testing.T) {
	s := treetest.NewSite(t)
	b := newLocal(t)
	older := filepath.Join(t.TempDir(), "older")
	treetest.CopyTree(t, s.Public(), older)
	v1 := s.Manifest().Version
	os.WriteFile(filepath.Join(s.Dir, "catalog/payload/metallb/values.yaml"), []byte("version: 0.14.9\npatched: true\n"), 0o644)
	s.Build()
	v2 := s.Manifest().Version
	if v2 <= v1 {
		t.Fatalf("a rebuild after a change has version %d, not above %d", v2, v1)
	}
	publishTo(t, s, b, publish.SyncOptions{})
	live := read(t, b, tree.ManifestName)
	_, err := publish.Publish(context.Background(), older, s.Key, b, publish.SyncOptions{Prune: true})
	var te *tree.TargetError
	if err == nil || errors.As(err, &te) || !strings.Contains(err.Error(), "version "+itoa(v2)) || !strings.Contains(err.Error(), "version "+itoa(v1)) {
		t.Fatalf("publishing version %d over %d: %v, want a refusal naming both", v1, v2, err)
	}
	if !bytes.Equal(read(t, b, tree.ManifestName), live) {
		t.Error("the refused publish replaced the bucket's manifest")
	}
}

// TestPublishAfterAKilledFirstPublish: objects at the tree's own paths
// and no manifest are what a killed first publish leaves; running it again
// needs no --force and finishes.
func TestPublishAfterAKilledFirstPublish(t *testing.T) {
	s := treetest.NewSite(t)
	b := newLocal(t)
	for _, o := range s.Manifest().Objects[:3] {
		data, err := os.ReadFile(filepath.Join(s.Public(), filepath.FromSlash(o.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Put(context.Background(), o.Path, bytes.NewReader(data), publish.MetaFor(o.Path, o.Size, o.SHA256)); err != nil {
			t.Fatal(err)
		}
	}
	res := publishTo(t, s, b, publish.SyncOptions{Prune: true})
	if res.Deleted != 0 || !bytes.Equal(read(t, b, tree.ManifestName), mustReadFile(t, filepath.Join(s.Public(), tree.ManifestName))) {
		t.Errorf("the rerun of a killed first publish: deleted %d, manifest live: %v", res.Deleted, res.Plan.Notes)
	}
}

func mustReadFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
