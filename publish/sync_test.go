package publish_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/verify"
)

// recorder wraps a bucket and records every Put and Delete in order.
type recorder struct {
	publish.Bucket
	mu   sync.Mutex
	ops  []string
	fail func(key string) error // injected failure, or nil
}

func (r *recorder) Put(ctx context.Context, key string, body io.ReadSeeker, m publish.Meta) error {
	if r.fail != nil {
		if err := r.fail(key); err != nil {
			return err
		}
	}
	err := r.Bucket.Put(ctx, key, body, m)
	if err == nil {
		r.mu.Lock()
		r.ops = append(r.ops, "put "+key)
		r.mu.Unlock()
	}
	return err
}

func (r *recorder) Delete(ctx context.Context, key string) error {
	r.mu.Lock()
	r.ops = append(r.ops, "delete "+key)
	r.mu.Unlock()
	return r.Bucket.Delete(ctx, key)
}

func (r *recorder) puts() []string {
	var out []string
	for _, op := range r.ops {
		if k, ok := strings.CutPrefix(op, "put "); ok {
			out = append(out, k)
		}
	}
	return out
}

func publishTo(t *testing.T, s *treetest.Site, b publish.Bucket, o publish.SyncOptions) *publish.SyncResult {
	t.Helper()
	res, err := publish.Publish(context.Background(), s.Public(), s.Key, b, o)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return res
}

// buckets runs a test against the local bucket and against MinIO.
func buckets(t *testing.T, test func(t *testing.T, newBucket func() publish.Bucket)) {
	t.Run("file", func(t *testing.T) {
		test(t, func() publish.Bucket {
			b, err := publish.OpenLocal(filepath.Join(t.TempDir(), "bucket"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		})
	})
	t.Run("s3", func(t *testing.T) {
		test(t, func() publish.Bucket { return newS3(t, "/site") })
	})
}

// TestPublishSyncsByContent publishes a site, republishes it unchanged
// (no upload), then after one pack changed (only what shows it).
func TestPublishSyncsByContent(t *testing.T) {
	buckets(t, func(t *testing.T, newBucket func() publish.Bucket) {
		s := treetest.NewSite(t)
		rec := &recorder{Bucket: newBucket()}
		first := publishTo(t, s, rec, publish.SyncOptions{})
		m1 := s.Manifest()
		if first.Uploaded != len(m1.Objects)+2 || len(rec.puts()) != first.Uploaded {
			t.Fatalf("first publish uploaded %d, want %d", first.Uploaded, len(m1.Objects)+2)
		}
		checkOrder(t, rec.puts(), nil)
		rep, err := verify.Tree(context.Background(), rec, s.Key, verify.Options{})
		if err != nil || !rep.OK() || rep.Objects != len(m1.Objects) {
			t.Fatalf("the bucket does not verify: %v %+v", err, rep.Failures)
		}

		rec.ops = nil
		again := publishTo(t, s, rec, publish.SyncOptions{})
		if again.Uploaded != 0 || len(rec.ops) != 0 {
			t.Errorf("unchanged republish uploaded %d: %v", again.Uploaded, rec.ops)
		}
		// --prune skips the fast path and compares every object; both
		// count the manifest and its signature among the skipped.
		rec.ops = nil
		full := publishTo(t, s, rec, publish.SyncOptions{Prune: true})
		if full.Uploaded != 0 || len(rec.puts()) != 0 || full.Plan.Skipped != again.Plan.Skipped || full.Plan.Skipped != len(m1.Objects)+2 {
			t.Errorf("unchanged republish with --prune: uploaded %d, skipped %d; fast path skipped %d of %d",
				full.Uploaded, full.Plan.Skipped, again.Plan.Skipped, len(m1.Objects)+2)
		}

		os.WriteFile(filepath.Join(s.Dir, "catalog/payload/metallb/values.yaml"), []byte("version: 0.14.9\npatched: true\n"), 0o644)
		s.Build()
		m2 := s.Manifest()
		changed := map[string]bool{tree.ManifestName: true, tree.ManifestSigName: true}
		old := m1.Index()
		for _, o := range m2.Objects {
			if old[o.Path] != o {
				changed[o.Path] = true
			}
		}
		rec.ops = nil
		third := publishTo(t, s, rec, publish.SyncOptions{})
		got := rec.puts()
		if len(got) != len(changed) || third.Uploaded != len(changed) {
			t.Errorf("after one pack changed: uploaded %d, %d objects changed", len(got), len(changed))
		}
		for _, k := range got {
			if !changed[k] {
				t.Errorf("uploaded %s, which did not change", k)
			}
		}
		if !contains(got, "artifacts/packs/lb-metallb-helm/lb-metallb-helm-0.14.9.zst") {
			t.Errorf("the changed pack was not uploaded: %v", got)
		}
		checkOrder(t, got, old)
		if rep, _ := verify.Tree(context.Background(), rec, s.Key, verify.Options{}); !rep.OK() {
			t.Errorf("after republish: %+v", rep.Failures)
		}
	})
}

// checkOrder checks the phases: artifacts, then objects new to the bucket,
// then changed ones, then the manifest's signature and the manifest.
func checkOrder(t *testing.T, puts []string, before map[string]tree.Object) {
	t.Helper()
	n := len(puts)
	if n < 2 || puts[n-2] != tree.ManifestSigName || puts[n-1] != tree.ManifestName {
		t.Fatalf("the manifest's signature and the manifest are not last: %v", puts[max(0, n-3):])
	}
	phase := func(k string) int {
		_, existed := before[k]
		switch {
		case strings.HasPrefix(k, "artifacts/"):
			return 1
		case !existed:
			return 2
		}
		return 3
	}
	last := 0
	for _, k := range puts[:n-2] {
		p := phase(k)
		if p < last {
			t.Fatalf("%s (phase %d) uploaded after phase %d began", k, p, last)
		}
		last = p
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPublishRepairPutsBackRemovedObjects: an object removed behind
// publish's back is not noticed by the one-GET fast path, and is put back,
// alone, by --repair.
func TestPublishRepairPutsBackRemovedObjects(t *testing.T) {
	buckets(t, func(t *testing.T, newBucket func() publish.Bucket) {
		s := treetest.NewSite(t)
		rec := &recorder{Bucket: newBucket()}
		publishTo(t, s, rec, publish.SyncOptions{})
		ctx := context.Background()
		const gone = "artifacts/packs/lb-metallb-helm/lb-metallb-helm-0.14.9.zst"
		if err := rec.Delete(ctx, gone); err != nil {
			t.Fatal(err)
		}

		rec.ops = nil
		fast := publishTo(t, s, rec, publish.SyncOptions{})
		if len(rec.ops) != 0 || fast.Uploaded != 0 || len(fast.Plan.Notes) == 0 || !strings.Contains(fast.Plan.Notes[0], "--repair") {
			t.Errorf("the fast path did more than read the manifest, or did not point at --repair: %v %+v", rec.ops, fast.Plan.Notes)
		}
		if rep, _ := verify.Tree(ctx, rec, s.Key, verify.Options{}); rep.OK() {
			t.Fatal("verify passes on a bucket missing an artifact")
		}

		rec.ops = nil
		repaired := publishTo(t, s, rec, publish.SyncOptions{Repair: true})
		if got := rec.puts(); len(got) != 1 || got[0] != gone || repaired.Uploaded != 1 {
			t.Errorf("--repair uploaded %v, want only %s", got, gone)
		}
		if rep, err := verify.Tree(ctx, rec, s.Key, verify.Options{}); err != nil || !rep.OK() {
			t.Errorf("after --repair: %v %+v", err, rep.Failures)
		}
	})
}

// TestPublishPruneAfterManifest: the publish that drops a pack deletes
// its objects with --prune, after the new manifest is live, and keeps
// them without it. Prune deletes only what the bucket's previous manifest
// listed, so it is the publish that drops them that must prune.
func TestPublishPruneAfterManifest(t *testing.T) {
	buckets(t, func(t *testing.T, newBucket func() publish.Bucket) {
		s := treetest.NewSite(t)
		rec, kept := &recorder{Bucket: newBucket()}, &recorder{Bucket: newBucket()}
		publishTo(t, s, rec, publish.SyncOptions{})
		publishTo(t, s, kept, publish.SyncOptions{})
		os.Remove(filepath.Join(s.Dir, "catalog/packs/dashboard.toml")) // two versions, and no pack's rules name it
		s.Build()

		res := publishTo(t, s, kept, publish.SyncOptions{})
		if res.Deleted != 0 {
			t.Errorf("deleted %d objects without --prune", res.Deleted)
		}
		if _, err := kept.Head(context.Background(), "packs/addon-dashboard/index.html"); err != nil {
			t.Errorf("without --prune the old page must stay: %v", err)
		}
		rec.ops = nil
		res = publishTo(t, s, rec, publish.SyncOptions{Prune: true})
		if res.Deleted != 6 {
			t.Errorf("pruned %d objects, want 6: %v", res.Deleted, rec.ops)
		}
		manifestAt, firstDelete := -1, -1
		for i, op := range rec.ops {
			if op == "put "+tree.ManifestName {
				manifestAt = i
			}
			if strings.HasPrefix(op, "delete ") && firstDelete < 0 {
				firstDelete = i
			}
		}
		if firstDelete >= 0 && firstDelete < manifestAt {
			t.Errorf("deleted before the new manifest was live: %v", rec.ops)
		}
		if _, err := rec.Head(context.Background(), "packs/addon-dashboard/index.html"); !errors.Is(err, tree.ErrNotExist) {
			t.Errorf("pruned page still there: %v", err)
		}
		if rep, _ := verify.Tree(context.Background(), rec, s.Key, verify.Options{}); !rep.OK() {
			t.Errorf("after prune: %+v", rep.Failures)
		}
	})
}

func TestPublishDryRunChangesNothing(t *testing.T) {
	s := treetest.NewSite(t)
	b := &recorder{Bucket: newLocal(t)}
	res := publishTo(t, s, b, publish.SyncOptions{DryRun: true})
	if len(b.ops) != 0 {
		t.Errorf("dry run wrote: %v", b.ops)
	}
	if len(res.Plan.Uploads) != len(s.Manifest().Objects)+2 || res.Plan.Bytes == 0 {
		t.Errorf("dry run plan: %d uploads, %d bytes", len(res.Plan.Uploads), res.Plan.Bytes)
	}
	if list, _ := b.List(context.Background()); len(list) != 0 {
		t.Errorf("dry run left %d objects", len(list))
	}
}

// TestPublishFailureKeepsOldManifest makes the store refuse one object: the
// publish fails naming it, and the bucket still serves the old manifest.
func TestPublishFailureKeepsOldManifest(t *testing.T) {
	s := treetest.NewSite(t)
	b := &recorder{Bucket: newLocal(t)}
	publishTo(t, s, b, publish.SyncOptions{})
	oldManifest := read(t, b, tree.ManifestName)

	os.WriteFile(filepath.Join(s.Dir, "catalog/payload/metallb/values.yaml"), []byte("changed\n"), 0o644)
	s.Build()
	b.ops = nil
	b.fail = func(key string) error {
		if strings.HasSuffix(key, "lb-metallb-helm-0.14.9.zst") {
			return errors.New("injected: 503 Slow Down")
		}
		return nil
	}
	res, err := publish.Publish(context.Background(), s.Public(), s.Key, b, publish.SyncOptions{})
	if !errors.Is(err, publish.ErrSyncFailed) {
		t.Fatalf("publish with a failing object: %v", err)
	}
	if len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Path, "lb-metallb-helm-0.14.9.zst") {
		t.Errorf("failures: %+v", res.Failures)
	}
	if got := read(t, b, tree.ManifestName); !bytes.Equal(got, oldManifest) {
		t.Error("the manifest changed although an artifact failed")
	}
	for _, op := range b.ops {
		if strings.Contains(op, "index.html") && strings.Contains(op, "lb-metallb") {
			t.Errorf("a page was uploaded after its artifact failed: %s", op)
		}
	}
	b.fail = nil
	publishTo(t, s, b, publish.SyncOptions{})
	if rep, _ := verify.Tree(context.Background(), b, s.Key, verify.Options{}); !rep.OK() {
		t.Errorf("rerun did not complete the publish: %+v", rep.Failures)
	}
}

func TestPublishToFileYieldsTheBuiltTree(t *testing.T) {
	s := treetest.NewSite(t)
	dir := filepath.Join(t.TempDir(), "bucket")
	b, err := publish.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	publishTo(t, s, b, publish.SyncOptions{})
	b.Close()
	want := treetest.Files(t, s.Public())
	got := treetest.Files(t, dir)
	if len(want) != len(got) {
		t.Fatalf("bucket has %d files, the build %d", len(got), len(want))
	}
	for p, data := range want {
		if !bytes.Equal(got[p], data) {
			t.Errorf("%s differs", p)
		}
	}
}

func TestPublishRefusesAChangedTree(t *testing.T) {
	s := treetest.NewSite(t)
	os.WriteFile(filepath.Join(s.Public(), "index.html"), []byte("edited after the build"), 0o644)
	_, err := publish.Publish(context.Background(), s.Public(), s.Key, newLocal(t), publish.SyncOptions{})
	if err == nil || !strings.Contains(err.Error(), "index.html: size") {
		t.Fatalf("publishing a tree that does not match its manifest: %v", err)
	}
	// Same size, other bytes: the store refuses the body.
	s.Build()
	data, _ := os.ReadFile(filepath.Join(s.Public(), "index.html"))
	data[0] ^= 1
	os.WriteFile(filepath.Join(s.Public(), "index.html"), data, 0o644)
	res, err := publish.Publish(context.Background(), s.Public(), s.Key, newLocal(t), publish.SyncOptions{})
	if !errors.Is(err, publish.ErrSyncFailed) || len(res.Failures) != 1 || res.Failures[0].Path != "index.html" {
		t.Fatalf("a same-size edit was published: %v %+v", err, res)
	}
}

func newLocal(t *testing.T) *publish.LocalBucket {
	b, err := publish.OpenLocal(filepath.Join(t.TempDir(), "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func read(t *testing.T, b publish.Bucket, key string) []byte {
	t.Helper()
	rc, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	return data
}
