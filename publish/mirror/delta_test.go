package mirror_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// airgap is the generator's small site, built, mirrored to a stage on the
// connected side and carried as volumes to far sides.
type airgap struct {
	t     *testing.T
	site  *treetest.Site
	key   string // the site's public key file
	stage string
}

func newAirgap(t *testing.T) *airgap {
	s := treetest.NewSite(t)
	return &airgap{t: t, site: s, key: filepath.Join(s.Dir, "key", "site.pub.pem"), stage: filepath.Join(t.TempDir(), "stage")}
}

// carry mirrors the built site into the stage and writes its volumes,
// full or --since since, into a folder of their own.
func (a *airgap) carry(since string) *mirror.JobResult {
	a.t.Helper()
	src, err := tree.OpenDir(a.site.Public())
	if err != nil {
		a.t.Fatal(err)
	}
	defer src.Close()
	j := mirror.Job{KeyFile: a.key, VolumesDir: filepath.Join(a.t.TempDir(), "vols"), VolumeSize: 4 << 20, Since: since,
		Mirror: mirror.Options{SourceName: "file://" + a.site.Public()}}
	r, err := mirror.Run(context.Background(), src, a.stage, j)
	if err != nil {
		a.t.Fatalf("mirror --volumes --since %q: %v", since, err)
	}
	return r
}

// fresh is the built tree: what a fresh mirror of it holds, byte for
// byte (TestMirrorOverHTTP), without mirroring it again.
func (a *airgap) fresh() string { return a.site.Public() }

func (a *airgap) unpack(vols []string, dest string) (*mirror.Unpacked, error) {
	return mirror.UnpackSet(vols, dest, a.site.Key, mirror.UnpackOptions{Now: time.Now()})
}

// change edits one pack's source and one page, and rebuilds.
func (a *airgap) change(n int) {
	a.t.Helper()
	treetest.WriteFiles(a.t, a.site.Dir, map[string]string{
		"catalog/payload/metallb/values.yaml": "version: 0.14.9\npatch: " + strconv.Itoa(n) + "\n",
		"content/about.md":                    "# About\n\nRevision " + strconv.Itoa(n) + ".\n",
	})
	a.site.Build()
}

// treeFiles reads a mirror's files, its bookkeeping left out.
func treeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := treetest.Files(t, dir)
	for p := range files {
		if strings.HasPrefix(p, mirror.StateDir+"/") {
			delete(files, p)
		}
	}
	return files
}

// sameAsFresh fails unless got holds exactly want's files, byte for byte,
// besides the extra ones.
func sameAsFresh(t *testing.T, got, want string, extra ...string) {
	t.Helper()
	g, w := treeFiles(t, got), treeFiles(t, want)
	for _, p := range extra {
		delete(g, p)
	}
	for p, data := range w {
		if !bytes.Equal(g[p], data) {
			t.Errorf("%s differs from a fresh mirror's (or is missing)", p)
		}
	}
	for p := range g {
		if _, ok := w[p]; !ok {
			t.Errorf("%s is not in a fresh mirror", p)
		}
	}
}

// changedSince lists the objects of the manifest in dir that base lacks or
// holds with other bytes: what a delta from base must carry.
func changedSince(t *testing.T, base, now *tree.Manifest) []string {
	old := base.Index()
	var out []string
	for _, o := range now.Objects {
		if b, ok := old[o.Path]; !ok || b.SHA256 != o.SHA256 {
			out = append(out, o.Path)
		}
	}
	sort.Strings(out)
	return out
}

// symDiff lists, up to 5, what is in one of two sorted lists only.
func symDiff(a, b []string) []string {
	var out []string
	for _, p := range a {
		if _, ok := slices.BinarySearch(b, p); !ok {
			out = append(out, "+"+p)
		}
	}
	for _, p := range b {
		if _, ok := slices.BinarySearch(a, p); !ok {
			out = append(out, "-"+p)
		}
	}
	return out[:min(len(out), 5)]
}

// entriesOf lists the objects a set's volumes hold, each checked alone.
func entriesOf(t *testing.T, a *airgap, vols []string) ([]string, *mirror.VolumeIndex) {
	t.Helper()
	var paths []string
	var idx *mirror.VolumeIndex
	for _, v := range vols {
		rep, err := mirror.VerifyVolume(v, a.site.Key, time.Now(), false)
		if err != nil || !rep.OK() {
			t.Fatalf("%s does not verify alone: %v %v", v, err, rep.Failures)
		}
		idx = rep.Index
		for _, e := range rep.Index.Entries {
			paths = append(paths, e.Path)
		}
	}
	sort.Strings(paths)
	return slices.Compact(paths), idx
}

// stamps are the files under dir by path, with size, mode and time: what
// any write changes, read without reading the files.
func stamps(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = fmt.Sprint(fi.Size(), fi.Mode(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// untouched fails if dir changed since before (nil: if it exists).
func untouched(t *testing.T, dir string, before map[string]string, what string) {
	t.Helper()
	if before == nil {
		if treetest.Exists(dir) {
			t.Errorf("%s: created %s", what, dir)
		}
		return
	}
	after := stamps(t, dir)
	if len(after) != len(before) {
		t.Errorf("%s: %d files and folders before, %d after", what, len(before), len(after))
	}
	for p, st := range before {
		if after[p] != st {
			t.Errorf("%s: changed %s", what, p)
		}
	}
}

// TestDeltaMonthAfterMonth: v1 goes across as a full set; v2 (one pack and
// one page changed) as a delta --since last holding exactly what changed,
// each volume verifying alone; unpacked on the far side it gives a fresh
// mirror of v2, byte for byte, and again it is a no-op. v3 (a pack
// dropped) goes --since the manifest the far side holds (mirror-state):
// in order it gives a fresh mirror of v3, removes the dropped objects and
// keeps the user's file beside them; out of order it is refused, and so is
// a delta onto an empty folder, onto a mirror ahead of its base, and onto
// another site's mirror, each with nothing written.
func TestDeltaMonthAfterMonth(t *testing.T) {
	a := newAirgap(t)
	v1 := a.site.Manifest()
	full := a.carry("")
	if full.Set.Base != nil || full.Set.Objects != full.Set.FullObjects {
		t.Fatalf("the first set is a delta, or partial: %+v", full.Set)
	}
	far, behind := filepath.Join(t.TempDir(), "far"), filepath.Join(t.TempDir(), "behind")
	if _, err := a.unpack(full.Volumes, far); err != nil {
		t.Fatal(err)
	}
	treetest.CopyTree(t, far, behind) // a second far side at v1

	a.change(2)
	v2 := a.site.Manifest()
	d12 := a.carry(mirror.SinceLast)
	held, idx := entriesOf(t, a, d12.Volumes)
	if want := changedSince(t, v1, v2); !slices.Equal(held, want) || len(want) == 0 {
		t.Errorf("the delta holds %d objects, want the %d that changed (not both: %v)", len(held), len(want), symDiff(held, want))
	}
	if idx.Format != 2 || idx.Base == nil || idx.Base.Version != v1.Version || idx.Base.ManifestSHA256 != tree.Digest(mustRead(t, filepath.Join(far, tree.ManifestName))) {
		t.Errorf("the delta's index does not name v1 as its base: format %d, base %+v", idx.Format, idx.Base)
	}
	if d12.Set.Bytes >= d12.Set.FullBytes || d12.Set.Objects != len(held) {
		t.Errorf("delta of %d objects (%d bytes) of %d (%d bytes)", d12.Set.Objects, d12.Set.Bytes, d12.Set.FullObjects, d12.Set.FullBytes)
	}

	t.Run("refused onto an empty folder", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "empty")
		_, err := a.unpack(d12.Volumes, dest)
		wantBoth(t, err, v1, v2, nil, "holds no mirror")
		untouched(t, dest, nil, "a delta onto nothing")
	})
	t.Run("refused onto another site's mirror", func(t *testing.T) {
		other := treetest.NewPublisher(t, "another site")
		ot := other.Sign(v1.Version, map[string]string{"index.html": "another site"})
		dest := filepath.Join(t.TempDir(), "other")
		if _, err := mirror.UnpackSet(volumesOf(t, ot, 1<<20), dest, other.Key, mirror.UnpackOptions{}); err != nil {
			t.Fatal(err)
		}
		before := stamps(t, dest)
		_, err := a.unpack(d12.Volumes, dest)
		wantBoth(t, err, v1, v2, ot.Raw, "another site")
		untouched(t, dest, before, "a delta onto another site's mirror")
	})

	res, err := a.unpack(d12.Volumes, far)
	if err != nil || res.AlreadyApplied || res.Base == nil || res.Placed != len(held) || len(res.Missing) != 0 {
		t.Fatalf("delta v1→v2: %v %+v", err, res)
	}
	sameAsFresh(t, far, a.fresh())
	before := stamps(t, far)
	if res, err := a.unpack(d12.Volumes, far); err != nil || !res.AlreadyApplied {
		t.Errorf("the same delta again: %v, already applied %v", err, res.AlreadyApplied)
	}
	untouched(t, far, before, "the same delta again")

	// v3 drops a pack; the far side holds a file of its own beside it.
	dropped := "artifacts/packs/addon-dashboard"
	user := map[string]string{dropped + "/NOTES.txt": "ours"}
	treetest.WriteFiles(t, far, user)
	os.Remove(filepath.Join(a.site.Dir, "catalog/packs/dashboard.toml"))
	a.site.Build()
	v3 := a.site.Manifest()
	h, err := mirror.HeldManifest(far, nil)
	if err != nil {
		t.Fatal(err)
	}
	carried := filepath.Join(t.TempDir(), "far-manifest.json")
	if _, err := h.Save(carried); err != nil {
		t.Fatal(err)
	}
	d23 := a.carry(carried)
	if d23.Set.Base == nil || d23.Set.Base.Version != v2.Version {
		t.Fatalf("--since FILE: base %+v, want v2", d23.Set.Base)
	}

	t.Run("out of order", func(t *testing.T) {
		before := stamps(t, behind)
		_, err := a.unpack(d23.Volumes, behind)
		wantBoth(t, err, v2, v3, mustRead(t, filepath.Join(behind, tree.ManifestName)), "behind")
		untouched(t, behind, before, "v2→v3 onto v1")
		if _, err := a.unpack(d12.Volumes, behind); err != nil {
			t.Fatal(err)
		}
		if _, err := a.unpack(d23.Volumes, behind); err != nil {
			t.Fatalf("in order: %v", err)
		}
		sameAsFresh(t, behind, a.fresh())
	})
	t.Run("refused onto a mirror past its base", func(t *testing.T) {
		before := stamps(t, behind) // at v3 now
		_, err := a.unpack(d12.Volumes, behind)
		wantBoth(t, err, v1, v2, mustRead(t, filepath.Join(behind, tree.ManifestName)), "past")
		untouched(t, behind, before, "v1→v2 onto v3")
	})

	res, err = a.unpack(d23.Volumes, far)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(res.Removed, func(p string) bool { return strings.HasPrefix(p, dropped+"/") }) {
		t.Errorf("removed %v, want the dropped pack's objects", res.Removed)
	}
	sameAsFresh(t, far, a.fresh(), dropped+"/NOTES.txt")
	treetest.StillThere(t, far, user)
}

// wantBoth checks a refusal names the delta's base and manifest, and the
// manifest dest holds (when held is not nil), each by version and digest.
func wantBoth(t *testing.T, err error, base, next *tree.Manifest, held []byte, why string) {
	t.Helper()
	if err == nil {
		t.Fatal("the delta was unpacked")
	}
	want := []string{"version " + strconv.FormatInt(base.Version, 10), "version " + strconv.FormatInt(next.Version, 10), why, "nothing was written"}
	if held != nil {
		want = append(want, tree.Digest(held)[:12])
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%v\nwant it to say %q", err, w)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// smallDelta is a hand-signed v1, unpacked on a far side, and a delta set
// to v2 (objects changed, added and dropped) of at least three volumes.
type smallDelta struct {
	pub    *treetest.Publisher
	v1, v2 *treetest.SignedTree
	far    string   // at v1
	vols   []string // the delta v1→v2
}

func newSmallDelta(t *testing.T) *smallDelta {
	t.Helper()
	d := &smallDelta{pub: treetest.NewPublisher(t, "small delta")}
	files := map[string]string{"index.html": "home"}
	for i := range 8 {
		files["a/"+strconv.Itoa(i)+".bin"] = strings.Repeat(strconv.Itoa(i), objSize)
	}
	d.v1 = d.pub.Sign(1, files)
	for i := range 5 {
		files["a/"+strconv.Itoa(i)+".bin"] = strings.Repeat("v2 "+strconv.Itoa(i), objSize/4)
	}
	files["b/new.bin"] = strings.Repeat("new", objSize/3)
	delete(files, "a/7.bin")
	d.v2 = d.pub.Sign(2, files)

	d.far = filepath.Join(t.TempDir(), "far")
	if _, err := mirror.UnpackSet(volumesOf(t, d.v1, 1<<20), d.far, d.pub.Key, mirror.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	stage, base := t.TempDir(), filepath.Join(t.TempDir(), "v1.json")
	d.v2.Write(t, stage)
	os.WriteFile(base, d.v1.Raw, 0o644)
	os.WriteFile(base+".sig.bin", d.v1.Sig, 0o644)
	b, err := mirror.LoadBase(stage, base, "", d.pub.Key)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mirror.WriteDelta(stage, filepath.Join(t.TempDir(), "vols"), 3*objSize, b)
	if err != nil {
		t.Fatal(err)
	}
	if d.vols = w.Paths; len(d.vols) < 3 || w.Objects != 6 {
		t.Fatalf("%d volumes holding %d objects, want 3 or more holding the 6 new or changed", len(d.vols), w.Objects)
	}
	return d
}

// farCopy is a copy of the far side, to refuse or unpack onto.
func (d *smallDelta) farCopy(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "far")
	treetest.CopyTree(t, d.far, dir)
	return dir
}

// TestDeltaVolumeFaults: a delta set with a volume missing, given twice,
// truncated, or with an altered index is refused before the far side is
// touched; one with an altered object is refused before its manifest and
// state go in, and the whole set, given again, then finishes the unpack.
func TestDeltaVolumeFaults(t *testing.T) {
	d := newSmallDelta(t)
	n := len(d.vols)
	cut := filepath.Join(t.TempDir(), filepath.Base(d.vols[1]))
	data := mustRead(t, d.vols[1])
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	altered := filepath.Join(t.TempDir(), filepath.Base(d.vols[1]))
	rewriteVolume(t, d.vols[1], altered, func(idx *mirror.VolumeIndex) { idx.Base.ManifestSHA256 = tree.Digest(d.v2.Raw) })
	full := filepath.Join(t.TempDir(), filepath.Base(d.vols[1]))
	rewriteVolume(t, d.vols[1], full, func(idx *mirror.VolumeIndex) { idx.Format = 1 })
	for _, tt := range []struct {
		name  string
		given []string
		want  string
	}{
		{"missing", d.vols[1:], "volume 1 of " + strconv.Itoa(n) + " is missing"},
		{"given twice", append(slices.Clone(d.vols), d.vols[0]), "give each volume once"},
		{"truncated", replaced(d.vols, 1, cut), cut + " is truncated"},
		{"an altered base", replaced(d.vols, 1, altered), "two runs"},
		{"a delta index claiming to be full", replaced(d.vols, 1, full), "does not go with its base"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			far := d.farCopy(t)
			before := stamps(t, far)
			_, err := mirror.UnpackSet(tt.given, far, d.pub.Key, mirror.UnpackOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
			untouched(t, far, before, tt.name)
		})
	}

	t.Run("an altered object, then the whole set again", func(t *testing.T) {
		last := d.vols[n-1]
		rep, err := mirror.VerifyVolume(last, d.pub.Key, time.Now(), false)
		if err != nil || len(rep.Index.Entries) == 0 {
			t.Fatalf("%v, %d entries", err, len(rep.Index.Entries))
		}
		obj := d.v2.Files[rep.Index.Entries[0].Path]
		data := mustRead(t, last)
		at := bytes.Index(data, obj[:64])
		data[at] ^= 1
		bad := filepath.Join(t.TempDir(), filepath.Base(last))
		os.WriteFile(bad, data, 0o644)
		if rep, err := mirror.VerifyVolume(bad, d.pub.Key, time.Now(), false); err != nil || rep.OK() {
			t.Errorf("verify of the altered volume alone: %v, ok %v", err, rep.OK())
		}

		far := d.farCopy(t)
		_, err = mirror.UnpackSet(replaced(d.vols, n-1, bad), far, d.pub.Key, mirror.UnpackOptions{})
		if err == nil || !strings.Contains(err.Error(), "does not match the manifest") {
			t.Fatalf("got %v", err)
		}
		st, _ := mirror.ReadState(far)
		if st.Version != 1 || !bytes.Equal(mustRead(t, filepath.Join(far, tree.ManifestName)), d.v1.Raw) {
			t.Fatalf("the failed delta moved the far side to version %d", st.Version)
		}
		res, err := mirror.UnpackSet(d.vols, far, d.pub.Key, mirror.UnpackOptions{})
		if err != nil || res.AlreadyApplied {
			t.Fatalf("the whole set again: %v %+v", err, res)
		}
		want := t.TempDir()
		d.v2.Write(t, want)
		sameAsFresh(t, far, want)
	})

	t.Run("killed after the manifest went in, before the state", func(t *testing.T) {
		// What such a kill leaves: every object of v2 in place, the dropped
		// one gone, v2's manifest, and the state still at v1.
		far := d.farCopy(t)
		d.v2.Write(t, far)
		os.Remove(filepath.Join(far, "a/7.bin"))
		if _, err := mirror.HeldManifest(far, d.pub.Key); err == nil || !strings.Contains(err.Error(), "cut short") {
			t.Errorf("mirror-state of a far side cut short: %v", err)
		}
		if _, err := mirror.UnpackSet(d.vols, far, d.pub.Key, mirror.UnpackOptions{}); err != nil {
			t.Fatalf("run again: %v", err)
		}
		if h, err := mirror.HeldManifest(far, d.pub.Key); err != nil || h.Manifest.Version != 2 {
			t.Errorf("after the run again: %v", err)
		}
	})
}

func replaced(list []string, i int, with string) []string {
	out := slices.Clone(list)
	out[i] = with
	return out
}

// TestDeltaBaseRefused: --since names a base that will not do: nothing
// written to volumes yet (last), a manifest of another key, one without
// its signature, the stage's own manifest, or a newer one.
func TestDeltaBaseRefused(t *testing.T) {
	d := newSmallDelta(t)
	stage := t.TempDir()
	d.v2.Write(t, stage)
	write := func(tr *treetest.SignedTree, sig bool) string {
		p := filepath.Join(t.TempDir(), "held.json")
		os.WriteFile(p, tr.Raw, 0o644)
		if sig {
			os.WriteFile(p+".sig.bin", tr.Sig, 0o644)
		}
		return p
	}
	other := treetest.NewPublisher(t, "another site")
	noSig := write(d.v1, false)
	var te *tree.TargetError
	var trust *mirror.TrustError
	if _, err := mirror.LoadBase(stage, mirror.SinceLast, "", d.pub.Key); !errors.As(err, &te) || !strings.Contains(err.Error(), "has written no volumes yet") {
		t.Errorf("--since last with no volumes written: %v", err)
	}
	if _, err := mirror.LoadBase(stage, write(other.Sign(1, map[string]string{"x": "y"}), true), "", d.pub.Key); !errors.As(err, &trust) || !strings.Contains(err.Error(), "another site") {
		t.Errorf("a base of another key: %v", err)
	}
	if _, err := mirror.LoadBase(stage, noSig, "", d.pub.Key); !errors.As(err, &te) || !strings.Contains(err.Error(), noSig+".sig.bin") {
		t.Errorf("a base without its signature: %v", err)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	if _, err := mirror.Run(context.Background(), openDir(t, stage), dest, mirror.Job{KeyFile: d.pub.KeyFile, Since: write(d.v1, true)}); !errors.As(err, &te) || treetest.Exists(dest) {
		t.Errorf("--since without volumes: %v", err)
	}
	for name, tt := range map[string]struct {
		base *treetest.SignedTree
		want string
	}{
		"the stage's own": {d.v2, "nothing to carry"},
		"newer":           {d.pub.Sign(3, map[string]string{"x": "y"}), "newer than the stage's manifest version 2"},
	} {
		b, err := mirror.LoadBase(stage, write(tt.base, true), "", d.pub.Key)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "vols")
		if _, err := mirror.WriteDelta(stage, out, 1<<20, b); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
		if treetest.Exists(out) {
			t.Errorf("%s: the refused delta created %s", name, out)
		}
	}
}

// TestDeltaManifestOnly: a new manifest with no object changed (renewed)
// still travels as a delta of one volume holding no object, and takes the
// far side to it.
func TestDeltaManifestOnly(t *testing.T) {
	pub := treetest.NewPublisher(t, "renewed")
	files := map[string]string{"index.html": "home", "a.bin": "a"}
	v1, v2 := pub.Sign(1, files), pub.Sign(2, files)
	far := filepath.Join(t.TempDir(), "far")
	if _, err := mirror.UnpackSet(volumesOf(t, v1, 1<<20), far, pub.Key, mirror.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	stage := t.TempDir()
	v2.Write(t, stage)
	h, err := mirror.HeldManifest(far, pub.Key)
	if err != nil {
		t.Fatal(err)
	}
	held := filepath.Join(t.TempDir(), "held.json")
	if _, err := h.Save(held); err != nil {
		t.Fatal(err)
	}
	b, err := mirror.LoadBase(stage, held, "", pub.Key)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mirror.WriteDelta(stage, filepath.Join(t.TempDir(), "vols"), 1<<20, b)
	if err != nil || len(w.Paths) != 1 || w.Objects != 0 {
		t.Fatalf("%v: %d volumes holding %d objects, want one holding none", err, len(w.Paths), w.Objects)
	}
	res, err := mirror.UnpackSet(w.Paths, far, pub.Key, mirror.UnpackOptions{})
	if err != nil || res.Placed != 0 || len(res.Missing) != 0 {
		t.Fatalf("%v %+v", err, res)
	}
	if st, _ := mirror.ReadState(far); st.Version != 2 || !bytes.Equal(mustRead(t, filepath.Join(far, tree.ManifestName)), v2.Raw) {
		t.Errorf("the far side is at version %d, want 2", st.Version)
	}
	sameAsFresh(t, far, stage)
}
