package mirror_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/sign/signtest"
	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

func mirrorTo(t *testing.T, src tree.Reader, key *sign.Verifier, dest string, o mirror.Options) (*mirror.Result, error) {
	t.Helper()
	return mirror.Mirror(context.Background(), src, key, dest, o)
}

func verifyDir(t *testing.T, dir string, key *sign.Verifier, o verify.Options) *verify.Report {
	t.Helper()
	r, err := tree.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := verify.Tree(context.Background(), r, key, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// sameTree checks that dest holds exactly the files of src, bookkeeping aside.
func sameTree(t *testing.T, src, dest string) {
	t.Helper()
	want, got := treetest.Files(t, src), treetest.Files(t, dest)
	for p := range got {
		if strings.HasPrefix(p, mirror.StateDir+"/") {
			delete(got, p)
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%s has %d files, %s %d", dest, len(got), src, len(want))
	}
	for p, data := range want {
		if !bytes.Equal(got[p], data) {
			t.Fatalf("%s differs", p)
		}
	}
}

func TestMirrorOverHTTP(t *testing.T) {
	s := treetest.NewSite(t)
	src := treetest.ServeDir(t, s.Public(), nil)
	dest := filepath.Join(t.TempDir(), "mirror")
	res, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetched != len(s.Manifest().Objects) {
		t.Errorf("fetched %d of %d objects", res.Fetched, len(s.Manifest().Objects))
	}
	sameTree(t, s.Public(), dest)
	if rep := verifyDir(t, dest, s.Key, verify.Options{}); !rep.OK() {
		t.Fatalf("mirror does not verify: %v", rep.Failures)
	}
	again, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Prune: true})
	if err != nil || again.Fetched != 0 || again.Skipped != len(s.Manifest().Objects) {
		t.Errorf("second mirror fetched %d, skipped %d: %v", again.Fetched, again.Skipped, err)
	}

	// A new version with one pack changed and one removed: only the
	// changes are fetched and the removed pack's files pruned.
	os.WriteFile(filepath.Join(s.Dir, "catalog/payload/k3s/values.yaml"), []byte("version: 1.33.5\nnew: true\n"), 0o644)
	os.Remove(filepath.Join(s.Dir, "catalog/packs/dashboard.toml")) // two versions, and no pack's rules name it
	before := s.Manifest().Index()
	s.Build()
	changed := 0
	for _, o := range s.Manifest().Objects {
		if before[o.Path] != o {
			changed++
		}
	}
	third, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if third.Fetched != changed || third.Removed != 6 {
		t.Errorf("update: fetched %d (%d changed), removed %d (want 6: two artifacts, their signatures, page and JSON)", third.Fetched, changed, third.Removed)
	}
	sameTree(t, s.Public(), dest)
}

// tamper serves one object with other bytes.
func tamper(key string, body []byte) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.TrimPrefix(r.URL.Path, "/") == key {
				w.Write(body)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

func TestMirrorRefusesTamperedObject(t *testing.T) {
	s := treetest.NewSite(t)
	victim := "artifacts/packs/ubuntu/ubuntu-22.04.zst"
	evil, _ := os.ReadFile(filepath.Join(s.Public(), victim))
	evil[len(evil)/2] ^= 0x40 // same size, other bytes
	src := treetest.ServeDir(t, s.Public(), tamper(victim, evil))
	dest := filepath.Join(t.TempDir(), "mirror")
	res, err := mirrorTo(t, src, s.Key, dest, mirror.Options{})
	if !errors.Is(err, mirror.ErrFailed) {
		t.Fatalf("a tampered object was accepted: %v", err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Path != victim || !strings.Contains(res.Failures[0].Reason, "tampered") {
		t.Errorf("failures: %+v", res.Failures)
	}
	if _, err := os.Stat(filepath.Join(dest, victim)); !errors.Is(err, os.ErrNotExist) {
		t.Error("the tampered object was left in place")
	}
	if entries, _ := os.ReadDir(filepath.Join(dest, mirror.StateDir, "partial")); len(entries) != 0 {
		t.Errorf("unverified bytes left behind: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dest, tree.ManifestName)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a manifest was written for an incomplete mirror")
	}
}

// flaky truncates the first response of a third of the objects and
// answers 500 to the second request of some, so retries and resumption
// are needed.
func flaky(count *atomic.Int64) func(http.Handler) http.Handler {
	var mu sync.Mutex
	seen := map[string]int{}
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := r.URL.Path
			mu.Lock()
			seen[p]++
			n := seen[p]
			mu.Unlock()
			count.Add(1)
			if strings.HasSuffix(p, "manifest.json") || strings.HasSuffix(p, ".sig.bin") {
				h.ServeHTTP(w, r)
				return
			}
			switch {
			case n == 1 && r.Header.Get("Range") == "" && len(p)%3 == 0:
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				body := rec.Body.Bytes()
				if len(body) < 2 {
					h.ServeHTTP(w, r)
					return
				}
				w.Header().Set("Content-Length", fmt.Sprint(len(body)))
				w.WriteHeader(http.StatusOK)
				w.Write(body[:len(body)/2])
				if hj, ok := w.(http.Hijacker); ok {
					w.(http.Flusher).Flush()
					conn, _, _ := hj.Hijack()
					conn.Close()
				}
			case n == 2 && len(p)%20 == 0:
				http.Error(w, "injected", http.StatusInternalServerError)
			default:
				h.ServeHTTP(w, r)
			}
		})
	}
}

func TestMirrorRetriesAndResumes(t *testing.T) {
	s := treetest.NewSite(t)
	var requests atomic.Int64
	src := treetest.ServeDir(t, s.Public(), flaky(&requests))
	dest := filepath.Join(t.TempDir(), "mirror")
	res, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Jobs: 16})
	if err != nil {
		t.Fatalf("%v %+v", err, res.Failures[:min(3, len(res.Failures))])
	}
	if res.Resumed < 50 {
		t.Errorf("only %d downloads resumed after truncation", res.Resumed)
	}
	sameTree(t, s.Public(), dest)
	t.Logf("%d requests for %d objects, %d resumed", requests.Load(), res.Fetched, res.Resumed)
}

func TestMirrorTrustRules(t *testing.T) {
	s := treetest.NewSite(t)
	src := treetest.ServeDir(t, s.Public(), nil)

	t.Run("foreign key", func(t *testing.T) {
		dir := t.TempDir()
		_, pub := signtest.WriteKey(t, dir, "someone else")
		other, _ := sign.LoadPublicKey(pub)
		dest := filepath.Join(dir, "mirror")
		_, err := mirrorTo(t, src, other, dest, mirror.Options{})
		var te *mirror.TrustError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "signature does not verify") {
			t.Fatalf("a manifest signed by another key: %v", err)
		}
		if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
			t.Error("something was written before the manifest was trusted")
		}
	})

	t.Run("expired", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "mirror")
		later := time.Now().Add(800 * time.Hour)
		_, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Now: later})
		var te *mirror.TrustError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("an expired manifest: %v", err)
		}
		if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
			t.Error("something was written for an expired manifest")
		}
		res, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Now: later, AllowExpired: true})
		if err != nil || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "EXPIRED") || !strings.Contains(res.Notes[0], "ago") {
			t.Fatalf("--allow-expired: %v %v", err, res.Notes)
		}
	})

	t.Run("rollback", func(t *testing.T) {
		old := filepath.Join(t.TempDir(), "v1")
		treetest.CopyTree(t, s.Public(), old)
		os.WriteFile(filepath.Join(s.Dir, "catalog/payload/k3s/values.yaml"), []byte("v2\n"), 0o644)
		s.Build()
		dest := filepath.Join(t.TempDir(), "mirror")
		if _, err := mirrorTo(t, src, s.Key, dest, mirror.Options{}); err != nil {
			t.Fatal(err)
		}
		before := treetest.Files(t, dest)
		_, err := mirrorTo(t, treetest.ServeDir(t, old, nil), s.Key, dest, mirror.Options{Prune: true})
		var te *mirror.TrustError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "rollback") {
			t.Fatalf("an older manifest: %v", err)
		}
		after := treetest.Files(t, dest)
		if len(before) != len(after) {
			t.Error("a refused rollback changed the mirror")
		}
		for p := range before {
			if !bytes.Equal(before[p], after[p]) {
				t.Errorf("a refused rollback changed %s", p)
			}
		}
	})
}

func TestPartialMirror(t *testing.T) {
	s := treetest.NewSite(t)
	src := treetest.ServeDir(t, s.Public(), nil)
	dest := filepath.Join(t.TempDir(), "mirror")
	f := mirror.NewFilter().With("layer", "cni").With("cloud", "aws")
	res, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Filter: f, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	var arts []string
	filepath.WalkDir(filepath.Join(dest, "artifacts"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dest, p)
			arts = append(arts, filepath.ToSlash(rel))
		}
		return nil
	})
	want := "artifacts/packs/cni-calico/cni-calico-3.27.0.sig.bin artifacts/packs/cni-calico/cni-calico-3.27.0.zst artifacts/packs/cni-calico/cni-calico-3.29.2.sig.bin artifacts/packs/cni-calico/cni-calico-3.29.2.zst"
	if strings.Join(arts, " ") != want {
		t.Errorf("partial mirror artifacts:\n got %v\nwant %s", arts, want)
	}
	if _, err := os.Stat(filepath.Join(dest, tree.Folder().File("index.html"))); err != nil {
		t.Error("a partial mirror lacks the pages")
	}
	st, err := mirror.ReadState(dest)
	if err != nil || st.Filter == nil || len(st.LeftOut) != res.LeftOut || res.LeftOut == 0 {
		t.Fatalf("state: %+v %v", st, err)
	}
	if rep := verifyDir(t, dest, s.Key, verify.Options{LeftOut: map[string]bool{}}); rep.OK() {
		t.Error("without knowing the filter, verify should miss the left-out artifacts")
	}
	left := map[string]bool{}
	for _, p := range st.LeftOut {
		left[p] = true
	}
	rep := verifyDir(t, dest, s.Key, verify.Options{LeftOut: left})
	if !rep.OK() || len(rep.LeftOut) != res.LeftOut {
		t.Errorf("partial mirror: %v; %d left out listed, %d in state", rep.Failures, len(rep.LeftOut), res.LeftOut)
	}

	// Without pruning, a second filter adds to the first.
	more, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Filter: mirror.NewFilter().With("layer", "k8s")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"artifacts/packs/cni-calico/cni-calico-3.27.0.zst", "artifacts/packs/kubernetes/kubernetes-1.32.3.zst"} {
		if _, err := os.Stat(filepath.Join(dest, p)); err != nil {
			t.Errorf("after two partial mirrors %s is missing", p)
		}
	}
	st, _ = mirror.ReadState(dest)
	if more.LeftOut >= res.LeftOut || len(st.LeftOut) != more.LeftOut {
		t.Errorf("left out: %d after the first filter, %d after both (state %d)", res.LeftOut, more.LeftOut, len(st.LeftOut))
	}
	if rep := verifyDir(t, dest, s.Key, verify.Options{LeftOut: mirror.PathSet(st.LeftOut)}); !rep.OK() {
		t.Errorf("accumulated partial mirror: %v", rep.Failures)
	}

	// Releases come with a product/version filter, not with a layer one.
	dest2 := filepath.Join(t.TempDir(), "mirror2")
	if _, err := mirrorTo(t, src, s.Key, dest2, mirror.Options{Filter: mirror.NewFilter().With("product", "palette").With("version", "4.6.2")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"artifacts/releases/palette/4.6.2/palette-appliance-4.6.2.iso", "artifacts/packs/ubuntu/ubuntu-20.04.zst"} {
		if _, err := os.Stat(filepath.Join(dest2, p)); err != nil {
			t.Errorf("product/version filter left out %s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dest2, "artifacts/releases/palette/4.7.3/palette-4.7.3.tar.zst")); err == nil {
		t.Error("another release's artifacts were mirrored")
	}
	_, err = mirrorTo(t, src, s.Key, filepath.Join(t.TempDir(), "x"), mirror.Options{Filter: mirror.NewFilter().With("cloud", "mars")})
	if want := "target --cloud mars: matches no browse combination of this site; check the product, version, cloud, layer and arch ids in catalog.json"; err == nil || err.Error() != want {
		t.Errorf("a filter matching nothing: %v, want %s", err, want)
	}
}

func TestRebase(t *testing.T) {
	s := treetest.NewSite(t)
	dest := filepath.Join(t.TempDir(), "mirror")
	if _, err := mirrorTo(t, treetest.ServeDir(t, s.Public(), nil), s.Key, dest, mirror.Options{}); err != nil {
		t.Fatal(err)
	}
	n, err := mirror.Rebase(dest, "http://mirror.internal:8443/packs")
	if err != nil || n < 100 {
		t.Fatalf("rebased %d lists: %v", n, err)
	}
	list, _ := os.ReadFile(filepath.Join(dest, tree.Folder().File("urls.txt")))
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if !strings.HasPrefix(line, "http://mirror.internal:8443/packs/artifacts/") {
			t.Fatalf("line not rebased: %s", line)
		}
	}
	st, _ := mirror.ReadState(dest)
	if rep := verifyDir(t, dest, s.Key, verify.Options{}); rep.OK() {
		t.Error("a rebased tree verified without mapping the lists back")
	}
	if rep := verifyDir(t, dest, s.Key, verify.Options{RebasedTo: st.BaseURL}); !rep.OK() {
		t.Errorf("rebased tree: %v", rep.Failures)
	}
	// Rebasing again (to another base, then back) keeps it verifiable.
	if _, err := mirror.Rebase(dest, "https://packs.example.com/studio/"); err != nil {
		t.Fatal(err)
	}
	if st, _ := mirror.ReadState(dest); st.BaseURL != "" {
		t.Errorf("back on the original base, the state still says %q", st.BaseURL)
	}
	sameTree(t, s.Public(), dest)
}

func TestVolumes(t *testing.T) {
	s := treetest.NewSite(t)
	// A big ISO, so that one object is larger than a volume.
	iso := make([]byte, 3<<20)
	for i := range iso {
		iso[i] = byte(i % 253)
	}
	os.WriteFile(filepath.Join(s.Dir, "catalog/releases/appliance.iso"), iso, 0o644)
	s.Build()
	volDir := filepath.Join(t.TempDir(), "vols")
	paths, notes, err := mirror.WriteVolumes(s.Public(), volDir, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 4 || len(notes) != 1 || !strings.Contains(notes[0], "palette-appliance-4.6.2.iso") {
		t.Fatalf("%d volumes, notes %v", len(paths), notes)
	}
	parts := 0
	for _, p := range paths {
		fi, _ := os.Stat(p)
		if fi.Size() > 2<<20 {
			t.Errorf("%s is %d bytes, more than the volume size", p, fi.Size())
		}
		rep, err := mirror.VerifyVolume(p, s.Key, time.Now(), false)
		if err != nil || !rep.OK() {
			t.Fatalf("%s does not verify on its own: %v %v", p, err, rep.Failures)
		}
		parts += rep.Parts
	}
	if parts < 2 {
		t.Errorf("the big ISO is in %d parts", parts)
	}

	dest := filepath.Join(t.TempDir(), "unpacked")
	// Any order.
	reversed := append([]string(nil), paths...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	if _, missing, err := mirror.Unpack(reversed, dest, s.Key, mirror.UnpackOptions{Now: time.Now()}); err != nil || len(missing) != 0 {
		t.Fatalf("unpack: %v, missing %v", err, missing)
	}
	os.RemoveAll(filepath.Join(dest, mirror.StateDir))
	sameTree(t, s.Public(), dest)

	// A volume left behind: the set is refused, naming it, before
	// anything is written.
	dest2 := filepath.Join(t.TempDir(), "unpacked2")
	_, _, err = mirror.Unpack(paths[1:], dest2, s.Key, mirror.UnpackOptions{Now: time.Now()})
	if want := fmt.Sprintf("volume 1 of %d is missing", len(paths)); err == nil || !strings.Contains(err.Error(), want) || treetest.Exists(dest2) {
		t.Errorf("without volume 1: %v, want %q and nothing written", err, want)
	}

	// A flipped byte in a volume is found.
	data, _ := os.ReadFile(paths[2])
	data[len(data)-2000] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.tar")
	os.WriteFile(bad, data, 0o644)
	rep, err := mirror.VerifyVolume(bad, s.Key, time.Now(), false)
	if err == nil && rep.OK() && rep.Parts == 0 {
		t.Error("a corrupted volume verified")
	}
}

func TestMirrorFromS3AndFile(t *testing.T) {
	s := treetest.NewSite(t)
	b := newS3(t, "/site")
	if _, err := publish.Publish(context.Background(), s.Public(), s.Key, b, publish.SyncOptions{}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	dest := filepath.Join(t.TempDir(), "from-s3")
	if _, err := mirrorTo(t, b, s.Key, dest, mirror.Options{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, s.Public(), dest)

	local, err := tree.OpenDir(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	dest2 := filepath.Join(t.TempDir(), "from-file")
	if _, err := mirrorTo(t, local, s.Key, dest2, mirror.Options{}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, s.Public(), dest2)
}

// TestMirrorTruncatedObjectFails serves an object that is always short: it
// is named, and never put in place.
func TestMirrorTruncatedObjectFails(t *testing.T) {
	s := treetest.NewSite(t)
	victim := "artifacts/packs/ubuntu/ubuntu-22.04.zst"
	src := treetest.ServeDir(t, s.Public(), tamper(victim, []byte("short")))
	dest := filepath.Join(t.TempDir(), "mirror")
	res, err := mirrorTo(t, src, s.Key, dest, mirror.Options{Retries: 2})
	if !errors.Is(err, mirror.ErrFailed) || len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Reason, "truncated") {
		t.Fatalf("%v %+v", err, res.Failures)
	}
	if _, err := os.Stat(filepath.Join(dest, victim)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a truncated object was put in place")
	}
}

func newS3(t *testing.T, prefix string) *publish.S3Bucket {
	t.Helper()
	m := testenv.SharedMinIO(t)
	m.SetEnv(t)
	ctx := context.Background()
	b, err := publish.OpenS3(ctx, "s3://"+testenv.Bucket(t)+prefix, publish.Options{Endpoint: m.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateBucket(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopAll()
	os.Exit(code)
}
