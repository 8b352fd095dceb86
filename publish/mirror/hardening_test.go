package mirror_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

// TestMirrorNeverDeletesUserFiles: mirroring into a folder that is not a
// mirror is refused unless forced; forced, and on every later mirror,
// only what an earlier verified manifest listed is pruned.
func TestMirrorNeverDeletesUserFiles(t *testing.T) {
	pub := treetest.NewPublisher(t, "prune")
	v1 := pub.Sign(1, map[string]string{"index.html": "home 1", "a/1.txt": "one", "a/2.txt": "two"})
	v2 := pub.Sign(2, map[string]string{"index.html": "home 2", "a/1.txt": "one"})
	src := treetest.ServeTree(t, v1)
	user := map[string]string{"notes.txt": "mine", ".git/HEAD": "ref: refs/heads/main", "a/mine.txt": "also mine"}
	opts := mirror.Options{Prune: true, Retries: 1}

	dest := filepath.Join(t.TempDir(), "docs")
	treetest.WriteFiles(t, dest, user)
	_, err := mirrorTo(t, src.Reader, pub.Key, dest, opts)
	var te *tree.TargetError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "not a packstudio mirror") {
		t.Fatalf("a folder of the user's own was mirrored into: %v", err)
	}
	treetest.StillThere(t, dest, user)
	if treetest.Exists(filepath.Join(dest, mirror.StateDir)) || treetest.Exists(filepath.Join(dest, "index.html")) {
		t.Error("a refused mirror wrote into the folder")
	}

	forced := opts
	forced.Force = true
	if _, err := mirrorTo(t, src.Reader, pub.Key, dest, forced); err != nil {
		t.Fatal(err)
	}
	treetest.StillThere(t, dest, user)
	if !treetest.Exists(filepath.Join(dest, "a/2.txt")) {
		t.Fatal("the forced mirror is incomplete")
	}

	// A file the user adds inside a mirrored folder, then version 2,
	// which drops a/2.txt: only that goes.
	later := map[string]string{"a/later.txt": "added after the mirror"}
	treetest.WriteFiles(t, dest, later)
	src.Serve(v2)
	res, err := mirrorTo(t, src.Reader, pub.Key, dest, opts)
	if err != nil {
		t.Fatal(err)
	}
	treetest.StillThere(t, dest, user)
	treetest.StillThere(t, dest, later)
	if treetest.Exists(filepath.Join(dest, "a/2.txt")) || res.Removed != 1 {
		t.Errorf("the object version 2 dropped was not pruned (removed %d)", res.Removed)
	}

	// A state written before manifest copies were kept: the destination's
	// own manifest.json, when it is the one the state names, says what
	// was written.
	v3 := pub.Sign(3, map[string]string{"index.html": "home 3"})
	kept, _ := filepath.Glob(filepath.Join(dest, mirror.StateDir, "manifest-*.json"))
	if len(kept) != 1 {
		t.Fatalf("kept manifests: %v", kept)
	}
	os.Remove(kept[0])
	src.Serve(v3)
	if _, err := mirrorTo(t, src.Reader, pub.Key, dest, opts); err != nil {
		t.Fatal(err)
	}
	treetest.StillThere(t, dest, user)
	treetest.StillThere(t, dest, later)
	if treetest.Exists(filepath.Join(dest, "a/1.txt")) {
		t.Error("a/1.txt, dropped by version 3, was not pruned")
	}

	// An empty or new folder needs no --force.
	empty := t.TempDir()
	if _, err := mirrorTo(t, src.Reader, pub.Key, empty, opts); err != nil {
		t.Errorf("an empty folder: %v", err)
	}
}

// TestManifestDotPathsRefused: a manifest signed by the right key that
// names a dot path (the mirror's own state, a dot-folder) is refused by
// mirror, verify and unpack before anything is written.
func TestManifestDotPathsRefused(t *testing.T) {
	pub := treetest.NewPublisher(t, "dots")
	good := pub.Sign(1, map[string]string{"index.html": "home"})
	evilState, _ := json.Marshal(mirror.State{Version: 1, KeyID: strings.Repeat("0", 64)})
	for _, p := range []string{mirror.StateDir + "/state.json", "a/.x/b", ".hidden"} {
		t.Run(p, func(t *testing.T) {
			evil := pub.Sign(2, map[string]string{"index.html": "home", p: string(evilState)})
			src := treetest.ServeTree(t, good)
			dest := filepath.Join(t.TempDir(), "mirror")
			if _, err := mirrorTo(t, src.Reader, pub.Key, dest, mirror.Options{}); err != nil {
				t.Fatal(err)
			}
			stateBefore, _ := os.ReadFile(filepath.Join(dest, mirror.StateDir, "state.json"))

			src.Serve(evil)
			_, err := mirrorTo(t, src.Reader, pub.Key, dest, mirror.Options{Prune: true})
			if err == nil || !strings.Contains(err.Error(), "reserved for bookkeeping") {
				t.Fatalf("mirror took a manifest naming %s: %v", p, err)
			}
			if n := src.Count(tree.ManifestName); n != 2 {
				t.Errorf("manifest read %d times for two mirrors", n)
			}
			stateAfter, _ := os.ReadFile(filepath.Join(dest, mirror.StateDir, "state.json"))
			if !bytes.Equal(stateBefore, stateAfter) || treetest.Exists(filepath.Join(dest, "a/.x")) || treetest.Exists(filepath.Join(dest, ".hidden")) {
				t.Error("the refused manifest wrote into the mirror")
			}
			fresh := filepath.Join(t.TempDir(), "fresh")
			if _, err := mirrorTo(t, src.Reader, pub.Key, fresh, mirror.Options{}); err == nil || treetest.Exists(fresh) {
				t.Errorf("a fresh mirror: %v, written: %v", err, treetest.Exists(fresh))
			}

			rep, err := verify.Tree(context.Background(), src.Reader, pub.Key, verify.Options{})
			if err != nil || rep.OK() || !strings.Contains(rep.Failures[0].Reason, "reserved for bookkeeping") {
				t.Errorf("verify: %v %+v", err, rep)
			}

			vol := writeVolumeByHand(t, evil, p)
			out := filepath.Join(t.TempDir(), "unpacked")
			if _, _, err := mirror.Unpack([]string{vol}, out, pub.Key, mirror.UnpackOptions{Now: time.Now()}); err == nil || !strings.Contains(err.Error(), "reserved for bookkeeping") {
				t.Errorf("unpack: %v", err)
			}
			if treetest.Exists(out) {
				t.Error("unpack wrote before refusing the manifest")
			}
		})
	}
}

// writeVolumeByHand writes a one-volume tar of tr holding the object p,
// as WriteVolumes would if it accepted the manifest.
func writeVolumeByHand(t *testing.T, tr *treetest.SignedTree, p string) string {
	t.Helper()
	sum := sha256.Sum256(tr.Raw)
	idx, _ := json.Marshal(mirror.VolumeIndex{Volume: 1, Volumes: 1, ManifestSHA256: hex.EncodeToString(sum[:]),
		Entries: []mirror.VolumeEntry{{Path: p, Name: p, Size: int64(len(tr.Files[p])), Whole: true}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{tree.ManifestName, tr.Raw}, {tree.ManifestSigName, tr.Sig}, {"volume.json", idx}, {p, tr.Files[p]}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg})
		tw.Write(f.data)
	}
	tw.Close()
	vol := filepath.Join(t.TempDir(), "vol-001.tar")
	if err := os.WriteFile(vol, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return vol
}

// volumesOf writes tr to a directory and cuts it into volumes.
func volumesOf(t *testing.T, tr *treetest.SignedTree, size int64) []string {
	t.Helper()
	dir := t.TempDir()
	tr.Write(t, dir)
	paths, _, err := mirror.WriteVolumes(dir, filepath.Join(t.TempDir(), "vols"), size)
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestUnpackRefusesRollback: unpack keeps the same state as mirror and
// refuses what mirror refuses: an older manifest, another one of the same
// version, another key, whichever of the two wrote the state.
func TestUnpackRefusesRollback(t *testing.T) {
	pub := treetest.NewPublisher(t, "unpack")
	v1 := pub.Sign(1, map[string]string{"index.html": "home 1", "a.txt": "old"})
	v2 := pub.Sign(2, map[string]string{"index.html": "home 2", "a.txt": "new"})
	v2other := pub.Sign(2, map[string]string{"index.html": "home 2", "a.txt": "other"})
	vols1, vols2, vols2other := volumesOf(t, v1, 1<<20), volumesOf(t, v2, 1<<20), volumesOf(t, v2other, 1<<20)
	now := time.Now()

	dest := filepath.Join(t.TempDir(), "unpacked")
	if _, _, err := mirror.Unpack(vols2, dest, pub.Key, mirror.UnpackOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	before := treetest.Files(t, dest)
	refused := func(name string, vols []string, key *sign.Verifier, want string) {
		t.Helper()
		_, _, err := mirror.Unpack(vols, dest, key, mirror.UnpackOptions{Now: now})
		var te *mirror.TrustError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", name, err)
		}
		after := treetest.Files(t, dest)
		if len(after) != len(before) {
			t.Errorf("%s: the refused unpack changed the tree", name)
		}
		for p := range before {
			if !bytes.Equal(before[p], after[p]) {
				t.Errorf("%s: the refused unpack changed %s", name, p)
			}
		}
	}
	refused("older", vols1, pub.Key, "rollback")
	refused("same version, other manifest", vols2other, pub.Key, "differs")
	other := treetest.NewPublisher(t, "someone else")
	refused("other key", volumesOf(t, other.Sign(3, map[string]string{"a.txt": "x"}), 1<<20), other.Key, "refusing to mix publishers")
	if _, _, err := mirror.Unpack(vols2, dest, pub.Key, mirror.UnpackOptions{Now: now}); err != nil {
		t.Errorf("the same volumes again: %v", err)
	}

	// A mirror's state binds unpack, and unpack's binds mirror.
	mirrored := filepath.Join(t.TempDir(), "mirror")
	if _, err := mirrorTo(t, treetest.ServeTree(t, v2).Reader, pub.Key, mirrored, mirror.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mirror.Unpack(vols1, mirrored, pub.Key, mirror.UnpackOptions{Now: now}); err == nil || !strings.Contains(err.Error(), "rollback") {
		t.Errorf("older volumes onto a mirror: %v", err)
	}
	if _, err := mirrorTo(t, treetest.ServeTree(t, v1).Reader, pub.Key, dest, mirror.Options{}); err == nil || !strings.Contains(err.Error(), "rollback") {
		t.Errorf("an older mirror onto unpacked volumes: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "a.txt")); string(got) != "new" {
		t.Errorf("a.txt holds %q after refused rollbacks", got)
	}
}

// TestUnpackIdenticalSplitObjects: two objects with the same bytes, each
// larger than a volume, are split and joined back, both of them.
func TestUnpackIdenticalSplitObjects(t *testing.T) {
	pub := treetest.NewPublisher(t, "split")
	big := strings.Repeat("0123456789abcdef", 300<<10/16) // 300 KiB
	tr := pub.Sign(1, map[string]string{"index.html": "home", "r/4.6/appliance.iso": big, "r/4.7/appliance.iso": big})
	vols := volumesOf(t, tr, 128<<10)
	if len(vols) < 5 {
		t.Fatalf("%d volumes: the objects were not split", len(vols))
	}
	dest := filepath.Join(t.TempDir(), "unpacked")
	_, missing, err := mirror.Unpack(vols, dest, pub.Key, mirror.UnpackOptions{Now: time.Now()})
	if err != nil || len(missing) != 0 {
		t.Fatalf("unpack: %v, missing %v", err, missing)
	}
	for _, p := range []string{"r/4.6/appliance.iso", "r/4.7/appliance.iso"} {
		if got, _ := os.ReadFile(filepath.Join(dest, p)); string(got) != big {
			t.Errorf("%s was not rebuilt", p)
		}
	}
	if rep := verifyDir(t, dest, pub.Key, verify.Options{}); !rep.OK() {
		t.Errorf("unpacked tree: %v", rep.Failures)
	}
}

// hugeManifest serves a manifest.json larger than the default limit.
func hugeManifest(t *testing.T, size int64, requests *int) *tree.HTTPReader {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + tree.ManifestSigName:
			w.Write(bytes.Repeat([]byte{1}, 70))
		case "/" + tree.ManifestName:
			mu.Lock()
			*requests++
			mu.Unlock()
			chunk := bytes.Repeat([]byte(" "), 1<<20)
			for n := int64(0); n < size; n += int64(len(chunk)) {
				if _, err := w.Write(chunk[:min(int64(len(chunk)), size-n)]); err != nil {
					return
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	r, err := tree.OpenURL(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestManifestSizeCapped: a manifest over the limit is refused, unread
// beyond the limit, after one request.
func TestManifestSizeCapped(t *testing.T) {
	pub := treetest.NewPublisher(t, "huge")
	requests := 0
	src := hugeManifest(t, tree.DefaultMaxManifestSize+1, &requests)
	dest := filepath.Join(t.TempDir(), "mirror")
	_, err := mirrorTo(t, src, pub.Key, dest, mirror.Options{})
	if err == nil || !strings.Contains(err.Error(), "larger than 67108864 bytes") || !strings.Contains(err.Error(), "--max-manifest-size") {
		t.Fatalf("a manifest over 64 MiB: %v", err)
	}
	if requests != 1 || treetest.Exists(dest) {
		t.Errorf("%d requests for a manifest too large; written: %v", requests, treetest.Exists(dest))
	}

	// The limit is an option, of verify too.
	tr := pub.Sign(1, map[string]string{"index.html": "home", "a.txt": "a", "b.txt": "b"})
	s := treetest.ServeTree(t, tr)
	rep, err := verify.Tree(context.Background(), s.Reader, pub.Key, verify.Options{MaxManifestSize: 100})
	if err != nil || rep.OK() || !strings.Contains(rep.Failures[0].Reason, "larger than 100 bytes") {
		t.Errorf("verify with a 100-byte limit: %v %+v", err, rep)
	}
	if _, err := mirrorTo(t, s.Reader, pub.Key, dest, mirror.Options{MaxManifestSize: 100}); err == nil || s.Count(tree.ManifestName) != 2 {
		t.Errorf("mirror with a 100-byte limit: %v, %d requests", err, s.Count(tree.ManifestName))
	}
	if _, err := mirrorTo(t, s.Reader, pub.Key, dest, mirror.Options{}); err != nil {
		t.Errorf("within the limit: %v", err)
	}
}

// TestMirrorOverlongNameFailsAlone: an object whose name this filesystem
// cannot hold fails on its own; every other object is mirrored.
func TestMirrorOverlongNameFailsAlone(t *testing.T) {
	pub := treetest.NewPublisher(t, "long")
	// One at the top, in a folder that exists when the mirror takes
	// stock; one in a folder made only when it is placed, an artifact,
	// whose phase comes before the pages'.
	long := strings.Repeat("x", 300) + ".txt"
	longArtifact := "artifacts/" + long
	tr := pub.Sign(1, map[string]string{"index.html": "home", long: "long", longArtifact: "long", "z/last.txt": "last"})
	dest := filepath.Join(t.TempDir(), "mirror")
	src := treetest.ServeTree(t, tr)
	res, err := mirrorTo(t, src.Reader, pub.Key, dest, mirror.Options{})
	if !errors.Is(err, mirror.ErrFailed) {
		t.Fatalf("mirror: %v", err)
	}
	if len(res.Failures) != 2 {
		t.Fatalf("failures: %+v", res.Failures)
	}
	for i, p := range []string{longArtifact, long} {
		if f := res.Failures[i]; f.Path != p || !strings.Contains(f.Reason, "file name too long") || strings.Contains(f.Reason, "xxx") {
			t.Errorf("failure %d: %+v", i, f)
		}
	}
	if n := src.Count(longArtifact); n != 1 {
		t.Errorf("an object that cannot be placed was fetched %d times", n)
	}
	if !treetest.Exists(filepath.Join(dest, "index.html")) || !treetest.Exists(filepath.Join(dest, "z/last.txt")) {
		t.Error("the other objects were not mirrored")
	}
	if treetest.Exists(filepath.Join(dest, tree.ManifestName)) {
		t.Error("an incomplete mirror got its manifest")
	}
}

// TestRebaseURLChecked: rebase takes only URLs that base_url would,
// nothing that breaks `xargs curl`.
func TestRebaseURLChecked(t *testing.T) {
	pub := treetest.NewPublisher(t, "rebase")
	dir := t.TempDir()
	pub.Sign(1, map[string]string{"urls.txt": "https://packs.example.com/a.zst\n"}).Write(t, dir)
	for _, u := range []string{"https://a/ -o /etc/x", "https://a/'x", `https://a/"x`, "https://a/\\x", "https://a/\tx", "ftp://a/", "/relative/", "https://a/?q=1"} {
		_, err := mirror.Rebase(dir, u)
		var te *tree.TargetError
		if !errors.As(err, &te) {
			t.Errorf("rebase to %q: %v", u, err)
		}
	}
	if list, _ := os.ReadFile(filepath.Join(dir, "urls.txt")); string(list) != "https://packs.example.com/a.zst\n" {
		t.Errorf("a refused rebase rewrote urls.txt: %q", list)
	}
	if n, err := mirror.Rebase(dir, "https://mirror.internal/packs"); err != nil || n != 1 {
		t.Errorf("a good URL: %d, %v", n, err)
	}
}

// TestMirrorPrunesAfterAKillBeforeItsState: a mirror killed after it put
// the new manifest in place but before it recorded its state still knows,
// on the next run, what the earlier mirror wrote, and prunes it.
func TestMirrorPrunesAfterAKillBeforeItsState(t *testing.T) {
	pub := treetest.NewPublisher(t, "kill")
	v1 := pub.Sign(1, map[string]string{"index.html": "home 1", "old.txt": "dropped by 2"})
	v2 := pub.Sign(2, map[string]string{"index.html": "home 2"})
	src := treetest.ServeTree(t, v1)
	dest := filepath.Join(t.TempDir(), "mirror")
	if _, err := mirrorTo(t, src.Reader, pub.Key, dest, mirror.Options{Prune: true}); err != nil {
		t.Fatal(err)
	}
	// What the killed run of version 2 left: its objects and manifest,
	// and the state of version 1.
	v2.Write(t, dest)
	src.Serve(v2)
	res, err := mirrorTo(t, src.Reader, pub.Key, dest, mirror.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if treetest.Exists(filepath.Join(dest, "old.txt")) || res.Removed != 1 {
		t.Errorf("old.txt survived the rerun (removed %d)", res.Removed)
	}
}

// TestUnpackNeverOverwritesUserFiles: unpack refuses a folder of the
// user's own as mirror does, before writing anything; with Force it
// replaces only what the manifest lists.
func TestUnpackNeverOverwritesUserFiles(t *testing.T) {
	pub := treetest.NewPublisher(t, "unpack-user")
	vols := volumesOf(t, pub.Sign(1, map[string]string{"index.html": "home", "a/1.txt": "one"}), 1<<20)
	user := map[string]string{"index.html": "my own page", "notes.txt": "mine"}
	dest := filepath.Join(t.TempDir(), "docs")
	treetest.WriteFiles(t, dest, user)

	_, _, err := mirror.Unpack(vols, dest, pub.Key, mirror.UnpackOptions{})
	var te *tree.TargetError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "unpack into an empty or new folder, or pass --force") {
		t.Fatalf("unpack into the user's folder: %v, want a TargetError asking for --force", err)
	}
	treetest.StillThere(t, dest, user)
	if treetest.Exists(filepath.Join(dest, mirror.StateDir)) || treetest.Exists(filepath.Join(dest, "a/1.txt")) {
		t.Error("a refused unpack wrote into the folder")
	}

	if _, _, err := mirror.Unpack(vols, dest, pub.Key, mirror.UnpackOptions{Force: true}); err != nil {
		t.Fatalf("unpack --force: %v", err)
	}
	treetest.StillThere(t, dest, map[string]string{"notes.txt": "mine", "index.html": "home", "a/1.txt": "one"})
}
