package publish_test

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

	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/manifest"
	"github.com/packstudio/packstudio/publish/sign"
	"github.com/packstudio/packstudio/publish/sign/signtest"
)

// A tree is a small signed site held in memory: its files and the
// manifest listing them, signed with a real key. It lets a test make
// manifests a build never would (hostile paths, huge ones).
type tree struct {
	files    map[string][]byte
	raw, sig []byte
}

type publisher struct {
	t      *testing.T
	signer *sign.Signer
	key    *sign.Verifier
}

func newPublisher(t *testing.T, seed string) *publisher {
	t.Helper()
	dir := t.TempDir()
	priv, pub := signtest.WriteKey(t, dir, seed)
	signer, err := sign.LoadSigner(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sign.LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &publisher{t: t, signer: signer, key: key}
}

// sign makes version v of a tree holding files.
func (p *publisher) sign(v int64, files map[string]string) *tree {
	p.t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	m := &manifest.Manifest{Version: v, Generated: now, Expires: now.Add(24 * time.Hour), BaseURL: "https://packs.example.com/", KeyID: p.key.KeyID()}
	tr := &tree{files: map[string][]byte{}}
	for path, data := range files {
		d := sha256.Sum256([]byte(data))
		m.Objects = append(m.Objects, manifest.Object{Path: path, Size: int64(len(data)), SHA256: hex.EncodeToString(d[:])})
		tr.files[path] = []byte(data)
	}
	tr.raw = m.Encode()
	d := sha256.Sum256(tr.raw)
	sig, err := p.signer.SignDigest(d[:])
	if err != nil {
		p.t.Fatal(err)
	}
	tr.sig = sig
	return tr
}

// write puts the tree, manifest included, into dir.
func (tr *tree) write(t *testing.T, dir string) {
	t.Helper()
	all := map[string][]byte{manifest.Name: tr.raw, manifest.SigName: tr.sig}
	for p, data := range tr.files {
		all[p] = data
	}
	for p, data := range all {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// server serves trees over HTTP; the tree served can be swapped, and
// requests are counted by path.
type server struct {
	mu       sync.Mutex
	tree     *tree
	requests map[string]int
	reader   *publish.HTTPReader
}

func serveTree(t *testing.T, tr *tree) *server {
	t.Helper()
	s := &server{tree: tr, requests: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		s.mu.Lock()
		s.requests[p]++
		cur := s.tree
		s.mu.Unlock()
		data, ok := cur.files[p]
		switch p {
		case manifest.Name:
			data, ok = cur.raw, true
		case manifest.SigName:
			data, ok = cur.sig, true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	var err error
	if s.reader, err = publish.OpenURL(srv.URL+"/", nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *server) serve(tr *tree) { s.mu.Lock(); s.tree = tr; s.mu.Unlock() }

func (s *server) count(p string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests[p] }

// writeFiles writes user files into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// stillThere fails for each file of files that dir no longer holds as it was.
func stillThere(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || string(got) != data {
			t.Errorf("the user's file %s is gone or changed: %v", p, err)
		}
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestMirrorNeverDeletesUserFiles: mirroring into a folder that is not a
// mirror is refused unless forced; forced, and on every later mirror,
// only what an earlier verified manifest listed is pruned.
func TestMirrorNeverDeletesUserFiles(t *testing.T) {
	pub := newPublisher(t, "prune")
	v1 := pub.sign(1, map[string]string{"index.html": "home 1", "a/1.txt": "one", "a/2.txt": "two"})
	v2 := pub.sign(2, map[string]string{"index.html": "home 2", "a/1.txt": "one"})
	src := serveTree(t, v1)
	user := map[string]string{"notes.txt": "mine", ".git/HEAD": "ref: refs/heads/main", "a/mine.txt": "also mine"}
	opts := publish.MirrorOptions{Prune: true, Retries: 1}

	dest := filepath.Join(t.TempDir(), "docs")
	writeFiles(t, dest, user)
	_, err := mirror(t, src.reader, pub.key, dest, opts)
	var te *publish.TargetError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "not a packstudio mirror") {
		t.Fatalf("a folder of the user's own was mirrored into: %v", err)
	}
	stillThere(t, dest, user)
	if exists(filepath.Join(dest, publish.StateDir)) || exists(filepath.Join(dest, "index.html")) {
		t.Error("a refused mirror wrote into the folder")
	}

	forced := opts
	forced.Force = true
	if _, err := mirror(t, src.reader, pub.key, dest, forced); err != nil {
		t.Fatal(err)
	}
	stillThere(t, dest, user)
	if !exists(filepath.Join(dest, "a/2.txt")) {
		t.Fatal("the forced mirror is incomplete")
	}

	// A file the user adds inside a mirrored folder, then version 2,
	// which drops a/2.txt: only that goes.
	later := map[string]string{"a/later.txt": "added after the mirror"}
	writeFiles(t, dest, later)
	src.serve(v2)
	res, err := mirror(t, src.reader, pub.key, dest, opts)
	if err != nil {
		t.Fatal(err)
	}
	stillThere(t, dest, user)
	stillThere(t, dest, later)
	if exists(filepath.Join(dest, "a/2.txt")) || res.Removed != 1 {
		t.Errorf("the object version 2 dropped was not pruned (removed %d)", res.Removed)
	}

	// A state written before manifest copies were kept: the destination's
	// own manifest.json, when it is the one the state names, says what
	// was written.
	v3 := pub.sign(3, map[string]string{"index.html": "home 3"})
	kept, _ := filepath.Glob(filepath.Join(dest, publish.StateDir, "manifest-*.json"))
	if len(kept) != 1 {
		t.Fatalf("kept manifests: %v", kept)
	}
	os.Remove(kept[0])
	src.serve(v3)
	if _, err := mirror(t, src.reader, pub.key, dest, opts); err != nil {
		t.Fatal(err)
	}
	stillThere(t, dest, user)
	stillThere(t, dest, later)
	if exists(filepath.Join(dest, "a/1.txt")) {
		t.Error("a/1.txt, dropped by version 3, was not pruned")
	}

	// An empty or new folder needs no --force.
	empty := t.TempDir()
	if _, err := mirror(t, src.reader, pub.key, empty, opts); err != nil {
		t.Errorf("an empty folder: %v", err)
	}
}

// TestManifestDotPathsRefused: a manifest signed by the right key that
// names a dot path (the mirror's own state, a dot-folder) is refused by
// mirror, verify and unpack before anything is written.
func TestManifestDotPathsRefused(t *testing.T) {
	pub := newPublisher(t, "dots")
	good := pub.sign(1, map[string]string{"index.html": "home"})
	evilState, _ := json.Marshal(publish.MirrorState{Version: 1, KeyID: strings.Repeat("0", 64)})
	for _, p := range []string{publish.StateDir + "/state.json", "a/.x/b", ".hidden"} {
		t.Run(p, func(t *testing.T) {
			evil := pub.sign(2, map[string]string{"index.html": "home", p: string(evilState)})
			src := serveTree(t, good)
			dest := filepath.Join(t.TempDir(), "mirror")
			if _, err := mirror(t, src.reader, pub.key, dest, publish.MirrorOptions{}); err != nil {
				t.Fatal(err)
			}
			stateBefore, _ := os.ReadFile(filepath.Join(dest, publish.StateDir, "state.json"))

			src.serve(evil)
			_, err := mirror(t, src.reader, pub.key, dest, publish.MirrorOptions{Prune: true})
			if err == nil || !strings.Contains(err.Error(), "reserved for bookkeeping") {
				t.Fatalf("mirror took a manifest naming %s: %v", p, err)
			}
			if n := src.count(manifest.Name); n != 2 {
				t.Errorf("manifest read %d times for two mirrors", n)
			}
			stateAfter, _ := os.ReadFile(filepath.Join(dest, publish.StateDir, "state.json"))
			if !bytes.Equal(stateBefore, stateAfter) || exists(filepath.Join(dest, "a/.x")) || exists(filepath.Join(dest, ".hidden")) {
				t.Error("the refused manifest wrote into the mirror")
			}
			fresh := filepath.Join(t.TempDir(), "fresh")
			if _, err := mirror(t, src.reader, pub.key, fresh, publish.MirrorOptions{}); err == nil || exists(fresh) {
				t.Errorf("a fresh mirror: %v, written: %v", err, exists(fresh))
			}

			rep, err := publish.Verify(context.Background(), src.reader, pub.key, publish.VerifyOptions{})
			if err != nil || rep.OK() || !strings.Contains(rep.Failures[0].Reason, "reserved for bookkeeping") {
				t.Errorf("verify: %v %+v", err, rep)
			}

			vol := writeVolumeByHand(t, evil, p)
			out := filepath.Join(t.TempDir(), "unpacked")
			if _, _, err := publish.Unpack([]string{vol}, out, pub.key, time.Now(), false); err == nil || !strings.Contains(err.Error(), "reserved for bookkeeping") {
				t.Errorf("unpack: %v", err)
			}
			if exists(out) {
				t.Error("unpack wrote before refusing the manifest")
			}
		})
	}
}

// writeVolumeByHand writes a one-volume tar of tr holding the object p,
// as WriteVolumes would if it accepted the manifest.
func writeVolumeByHand(t *testing.T, tr *tree, p string) string {
	t.Helper()
	sum := sha256.Sum256(tr.raw)
	idx, _ := json.Marshal(publish.VolumeIndex{Volume: 1, Volumes: 1, ManifestSHA256: hex.EncodeToString(sum[:]),
		Entries: []publish.VolumeEntry{{Path: p, Name: p, Size: int64(len(tr.files[p])), Whole: true}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{manifest.Name, tr.raw}, {manifest.SigName, tr.sig}, {"volume.json", idx}, {p, tr.files[p]}} {
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
func volumesOf(t *testing.T, tr *tree, size int64) []string {
	t.Helper()
	dir := t.TempDir()
	tr.write(t, dir)
	paths, _, err := publish.WriteVolumes(dir, filepath.Join(t.TempDir(), "vols"), size)
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestUnpackRefusesRollback: unpack keeps the same state as mirror and
// refuses what mirror refuses: an older manifest, another one of the same
// version, another key, whichever of the two wrote the state.
func TestUnpackRefusesRollback(t *testing.T) {
	pub := newPublisher(t, "unpack")
	v1 := pub.sign(1, map[string]string{"index.html": "home 1", "a.txt": "old"})
	v2 := pub.sign(2, map[string]string{"index.html": "home 2", "a.txt": "new"})
	v2other := pub.sign(2, map[string]string{"index.html": "home 2", "a.txt": "other"})
	vols1, vols2, vols2other := volumesOf(t, v1, 1<<20), volumesOf(t, v2, 1<<20), volumesOf(t, v2other, 1<<20)
	now := time.Now()

	dest := filepath.Join(t.TempDir(), "unpacked")
	if _, _, err := publish.Unpack(vols2, dest, pub.key, now, false); err != nil {
		t.Fatal(err)
	}
	before := treeFiles(t, dest)
	refused := func(name string, vols []string, key *sign.Verifier, want string) {
		t.Helper()
		_, _, err := publish.Unpack(vols, dest, key, now, false)
		var te *publish.TrustError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", name, err)
		}
		after := treeFiles(t, dest)
		if len(after) != len(before) {
			t.Errorf("%s: the refused unpack changed the tree", name)
		}
		for p := range before {
			if !bytes.Equal(before[p], after[p]) {
				t.Errorf("%s: the refused unpack changed %s", name, p)
			}
		}
	}
	refused("older", vols1, pub.key, "rollback")
	refused("same version, other manifest", vols2other, pub.key, "differs")
	other := newPublisher(t, "someone else")
	refused("other key", volumesOf(t, other.sign(3, map[string]string{"a.txt": "x"}), 1<<20), other.key, "refusing to mix publishers")
	if _, _, err := publish.Unpack(vols2, dest, pub.key, now, false); err != nil {
		t.Errorf("the same volumes again: %v", err)
	}

	// A mirror's state binds unpack, and unpack's binds mirror.
	mirrored := filepath.Join(t.TempDir(), "mirror")
	if _, err := mirror(t, serveTree(t, v2).reader, pub.key, mirrored, publish.MirrorOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := publish.Unpack(vols1, mirrored, pub.key, now, false); err == nil || !strings.Contains(err.Error(), "rollback") {
		t.Errorf("older volumes onto a mirror: %v", err)
	}
	if _, err := mirror(t, serveTree(t, v1).reader, pub.key, dest, publish.MirrorOptions{}); err == nil || !strings.Contains(err.Error(), "rollback") {
		t.Errorf("an older mirror onto unpacked volumes: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "a.txt")); string(got) != "new" {
		t.Errorf("a.txt holds %q after refused rollbacks", got)
	}
}

// TestUnpackIdenticalSplitObjects: two objects with the same bytes, each
// larger than a volume, are split and joined back, both of them.
func TestUnpackIdenticalSplitObjects(t *testing.T) {
	pub := newPublisher(t, "split")
	big := strings.Repeat("0123456789abcdef", 300<<10/16) // 300 KiB
	tr := pub.sign(1, map[string]string{"index.html": "home", "r/4.6/appliance.iso": big, "r/4.7/appliance.iso": big})
	vols := volumesOf(t, tr, 128<<10)
	if len(vols) < 5 {
		t.Fatalf("%d volumes: the objects were not split", len(vols))
	}
	dest := filepath.Join(t.TempDir(), "unpacked")
	_, missing, err := publish.Unpack(vols, dest, pub.key, time.Now(), false)
	if err != nil || len(missing) != 0 {
		t.Fatalf("unpack: %v, missing %v", err, missing)
	}
	for _, p := range []string{"r/4.6/appliance.iso", "r/4.7/appliance.iso"} {
		if got, _ := os.ReadFile(filepath.Join(dest, p)); string(got) != big {
			t.Errorf("%s was not rebuilt", p)
		}
	}
	if rep := verifyDir(t, dest, pub.key, publish.VerifyOptions{}); !rep.OK() {
		t.Errorf("unpacked tree: %v", rep.Failures)
	}
}

// hugeManifest serves a manifest.json larger than the default limit.
func hugeManifest(t *testing.T, size int64, requests *int) *publish.HTTPReader {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + manifest.SigName:
			w.Write(bytes.Repeat([]byte{1}, 70))
		case "/" + manifest.Name:
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
	r, err := publish.OpenURL(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestManifestSizeCapped: a manifest over the limit is refused, unread
// beyond the limit, after one request.
func TestManifestSizeCapped(t *testing.T) {
	pub := newPublisher(t, "huge")
	requests := 0
	src := hugeManifest(t, publish.DefaultMaxManifestSize+1, &requests)
	dest := filepath.Join(t.TempDir(), "mirror")
	_, err := mirror(t, src, pub.key, dest, publish.MirrorOptions{})
	if err == nil || !strings.Contains(err.Error(), "larger than 67108864 bytes") || !strings.Contains(err.Error(), "--max-manifest-size") {
		t.Fatalf("a manifest over 64 MiB: %v", err)
	}
	if requests != 1 || exists(dest) {
		t.Errorf("%d requests for a manifest too large; written: %v", requests, exists(dest))
	}

	// The limit is an option, of verify too.
	tr := pub.sign(1, map[string]string{"index.html": "home", "a.txt": "a", "b.txt": "b"})
	s := serveTree(t, tr)
	rep, err := publish.Verify(context.Background(), s.reader, pub.key, publish.VerifyOptions{MaxManifestSize: 100})
	if err != nil || rep.OK() || !strings.Contains(rep.Failures[0].Reason, "larger than 100 bytes") {
		t.Errorf("verify with a 100-byte limit: %v %+v", err, rep)
	}
	if _, err := mirror(t, s.reader, pub.key, dest, publish.MirrorOptions{MaxManifestSize: 100}); err == nil || s.count(manifest.Name) != 2 {
		t.Errorf("mirror with a 100-byte limit: %v, %d requests", err, s.count(manifest.Name))
	}
	if _, err := mirror(t, s.reader, pub.key, dest, publish.MirrorOptions{}); err != nil {
		t.Errorf("within the limit: %v", err)
	}
}

// TestMirrorOverlongNameFailsAlone: an object whose name this filesystem
// cannot hold fails on its own; every other object is mirrored.
func TestMirrorOverlongNameFailsAlone(t *testing.T) {
	pub := newPublisher(t, "long")
	// One at the top, in a folder that exists when the mirror takes
	// stock; one in a folder made only when it is placed, an artifact,
	// whose phase comes before the pages'.
	long := strings.Repeat("x", 300) + ".txt"
	longArtifact := "artifacts/" + long
	tr := pub.sign(1, map[string]string{"index.html": "home", long: "long", longArtifact: "long", "z/last.txt": "last"})
	dest := filepath.Join(t.TempDir(), "mirror")
	src := serveTree(t, tr)
	res, err := mirror(t, src.reader, pub.key, dest, publish.MirrorOptions{})
	if !errors.Is(err, publish.ErrMirrorFailed) {
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
	if n := src.count(longArtifact); n != 1 {
		t.Errorf("an object that cannot be placed was fetched %d times", n)
	}
	if !exists(filepath.Join(dest, "index.html")) || !exists(filepath.Join(dest, "z/last.txt")) {
		t.Error("the other objects were not mirrored")
	}
	if exists(filepath.Join(dest, manifest.Name)) {
		t.Error("an incomplete mirror got its manifest")
	}
}

// TestRebaseURLChecked: rebase takes only URLs that base_url would,
// nothing that breaks `xargs curl`.
func TestRebaseURLChecked(t *testing.T) {
	pub := newPublisher(t, "rebase")
	dir := t.TempDir()
	pub.sign(1, map[string]string{"urls.txt": "https://packs.example.com/a.zst\n"}).write(t, dir)
	for _, u := range []string{"https://a/ -o /etc/x", "https://a/'x", `https://a/"x`, "https://a/\\x", "https://a/\tx", "ftp://a/", "/relative/", "https://a/?q=1"} {
		_, err := publish.Rebase(dir, u)
		var te *publish.TargetError
		if !errors.As(err, &te) {
			t.Errorf("rebase to %q: %v", u, err)
		}
	}
	if list, _ := os.ReadFile(filepath.Join(dir, "urls.txt")); string(list) != "https://packs.example.com/a.zst\n" {
		t.Errorf("a refused rebase rewrote urls.txt: %q", list)
	}
	if n, err := publish.Rebase(dir, "https://mirror.internal/packs"); err != nil || n != 1 {
		t.Errorf("a good URL: %d, %v", n, err)
	}
}

// TestMirrorPrunesAfterAKillBeforeItsState: a mirror killed after it put
// the new manifest in place but before it recorded its state still knows,
// on the next run, what the earlier mirror wrote, and prunes it.
func TestMirrorPrunesAfterAKillBeforeItsState(t *testing.T) {
	pub := newPublisher(t, "kill")
	v1 := pub.sign(1, map[string]string{"index.html": "home 1", "old.txt": "dropped by 2"})
	v2 := pub.sign(2, map[string]string{"index.html": "home 2"})
	src := serveTree(t, v1)
	dest := filepath.Join(t.TempDir(), "mirror")
	if _, err := mirror(t, src.reader, pub.key, dest, publish.MirrorOptions{Prune: true}); err != nil {
		t.Fatal(err)
	}
	// What the killed run of version 2 left: its objects and manifest,
	// and the state of version 1.
	v2.write(t, dest)
	src.serve(v2)
	res, err := mirror(t, src.reader, pub.key, dest, publish.MirrorOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(dest, "old.txt")) || res.Removed != 1 {
		t.Errorf("old.txt survived the rerun (removed %d)", res.Removed)
	}
}
