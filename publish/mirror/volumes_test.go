package mirror_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// objSize is the size of each small object of splitSite; volumes are
// sized in multiples of it, so that what goes where follows from the
// manifest rather than from counts written into the tests.
const objSize = 40 << 10

// splitSite signs a tree of small objects and one object larger than a
// volume of volSize, so that its volumes hold whole objects and parts.
func splitSite(t *testing.T, pub *treetest.Publisher, version int64, salt string) (*treetest.SignedTree, int64) {
	t.Helper()
	files := map[string]string{"index.html": "home " + salt}
	for i := range 5 {
		files[fmt.Sprintf("a/%d.bin", i)] = strings.Repeat(fmt.Sprintf("%d%s", i, salt), objSize/(1+len(salt)))
	}
	volSize := int64(4 * objSize)
	files["r/appliance.iso"] = strings.Repeat("iso"+salt, int(2*volSize)/(3+len(salt)))
	return pub.Sign(version, files), volSize
}

// indexOf reads a volume's index through the volume check itself.
func indexOf(t *testing.T, pub *treetest.Publisher, vol string) *mirror.VolumeIndex {
	t.Helper()
	rep, err := mirror.VerifyVolume(vol, pub.Key, time.Now(), false)
	if err != nil || !rep.OK() {
		t.Fatalf("%s: %v %v", vol, err, rep.Failures)
	}
	return rep.Index
}

// refusedUntouched unpacks vols into a new folder and returns the error,
// failing the test if the unpack created the folder.
func refusedUntouched(t *testing.T, pub *treetest.Publisher, vols []string) error {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "dest")
	_, _, err := mirror.Unpack(vols, dest, pub.Key, mirror.UnpackOptions{Now: time.Now()})
	if err == nil {
		t.Fatal("unpack accepted the volumes")
	}
	if treetest.Exists(dest) {
		t.Errorf("the refused unpack created %s", dest)
	}
	return err
}

// TestUnpackRefusesDuplicateVolume: a volume given twice (the same file,
// or a copy of it) is refused, naming both, before DEST is created; it
// used to drop the split object it holds a part of and say all was well.
func TestUnpackRefusesDuplicateVolume(t *testing.T) {
	pub := treetest.NewPublisher(t, "dup")
	tr, size := splitSite(t, pub, 1, "")
	vols := volumesOf(t, tr, size)
	var dup string
	var idx *mirror.VolumeIndex
	for _, v := range vols {
		if idx = indexOf(t, pub, v); slices.ContainsFunc(idx.Entries, func(e mirror.VolumeEntry) bool { return !e.Whole }) {
			dup = v
			break
		}
	}
	if dup == "" {
		t.Fatal("no volume holds a part of the split object")
	}
	cp := filepath.Join(t.TempDir(), filepath.Base(dup))
	data, _ := os.ReadFile(dup)
	os.WriteFile(cp, data, 0o644)
	for name, given := range map[string][]string{
		"the same file twice": append(slices.Clone(vols), dup),
		"a copy":              append(slices.Clone(vols), cp),
	} {
		t.Run(name, func(t *testing.T) {
			err := refusedUntouched(t, pub, given)
			want := fmt.Sprintf("volume %d of %d", idx.Volume, len(vols))
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), given[len(given)-1]) || !strings.Contains(err.Error(), "give each volume once") {
				t.Errorf("got %v, want it to name %s and %s", err, want, given[len(given)-1])
			}
		})
	}
}

// TestUnpackRefusesMissingVolumes: a set with volumes missing is refused,
// naming their numbers, before DEST is created; it used to unpack what
// was there and commit the manifest.
func TestUnpackRefusesMissingVolumes(t *testing.T) {
	pub := treetest.NewPublisher(t, "missing")
	tr, size := splitSite(t, pub, 1, "")
	vols := volumesOf(t, tr, size)
	n := len(vols)
	if n < 5 {
		t.Fatalf("%d volumes, want at least 5", n)
	}
	for _, tt := range []struct {
		name  string
		given []string
		want  string
	}{
		{"the second and the last", append(slices.Clone(vols[:1]), vols[2:n-1]...), fmt.Sprintf("volumes 2, %d of %d are missing", n, n)},
		{"all but the first two", vols[:2], fmt.Sprintf("volumes 3-%d of %d are missing", n, n)},
		{"only the last", vols[n-1:], fmt.Sprintf("volumes 1-%d of %d are missing", n-1, n)},
		{"the first", vols[1:], fmt.Sprintf("volume 1 of %d is missing", n)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := refusedUntouched(t, pub, tt.given); !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	// The whole set, in any order, unpacks.
	dest := filepath.Join(t.TempDir(), "dest")
	reversed := slices.Clone(vols)
	slices.Reverse(reversed)
	if _, missing, err := mirror.Unpack(reversed, dest, pub.Key, mirror.UnpackOptions{Now: time.Now()}); err != nil || len(missing) != 0 {
		t.Fatalf("the whole set: %v, missing %v", err, missing)
	}
	for p, data := range tr.Files {
		if got, _ := os.ReadFile(filepath.Join(dest, p)); !bytes.Equal(got, data) {
			t.Errorf("%s was not restored", p)
		}
	}
}

// TestUnpackRefusesMixedSets: volumes of two runs of one manifest, of two
// manifests of the same version, or a volume whose index was altered, are
// refused by the set digest and the manifest's SHA-256, naming the volume
// and the manifest it belongs to.
func TestUnpackRefusesMixedSets(t *testing.T) {
	pub := treetest.NewPublisher(t, "mixed")
	tr, size := splitSite(t, pub, 1, "")
	other, _ := splitSite(t, pub, 1, "x") // same version, other content
	runA, runB := volumesOf(t, tr, size), volumesOf(t, tr, size+objSize)
	otherVols := volumesOf(t, other, size)

	t.Run("two runs of one manifest", func(t *testing.T) {
		given := append(slices.Clone(runA[:1]), runB[1:]...)
		err := refusedUntouched(t, pub, given)
		if !strings.Contains(err.Error(), "two runs") || !strings.Contains(err.Error(), runA[0]) || !strings.Contains(err.Error(), runB[1]) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("two manifests of one version", func(t *testing.T) {
		given := append(slices.Clone(runA[:1]), otherVols[1:]...)
		err := refusedUntouched(t, pub, given)
		for _, want := range []string{runA[0], otherVols[1], tree.Digest(tr.Raw)[:12], tree.Digest(other.Raw)[:12]} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want it to name %s", err, want)
			}
		}
	})
	t.Run("an altered index", func(t *testing.T) {
		// The second volume loses its last entry, index and tar alike,
		// while it still claims the set's digest.
		altered := filepath.Join(t.TempDir(), filepath.Base(runA[1]))
		rewriteVolume(t, runA[1], altered, func(idx *mirror.VolumeIndex) { idx.Entries = idx.Entries[:len(idx.Entries)-1] })
		given := slices.Clone(runA)
		given[1] = altered
		err := refusedUntouched(t, pub, given)
		if !strings.Contains(err.Error(), "do not add up to their set") {
			t.Errorf("got %v", err)
		}
	})
}

// rewriteVolume copies the volume src to dst with its index changed by
// edit, keeping only the tar entries the new index lists.
func rewriteVolume(t *testing.T, src, dst string, edit func(*mirror.VolumeIndex)) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var idx mirror.VolumeIndex
	keep := map[string]bool{tree.ManifestName: true, tree.ManifestSigName: true, "volume.json": true}
	var buf bytes.Buffer
	tr, tw := tar.NewReader(f), tar.NewWriter(&buf)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if h.Name == "volume.json" {
			json.Unmarshal(data, &idx)
			edit(&idx)
			for _, e := range idx.Entries {
				keep[e.Name] = true
			}
			data, _ = json.Marshal(idx)
			h.Size = int64(len(data))
		}
		if keep[h.Name] {
			tw.WriteHeader(h)
			tw.Write(data)
		}
	}
	tw.Close()
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// entryStarts returns where each entry of a tar file begins.
func entryStarts(t *testing.T, p string) []int64 {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(data) // read, never seeked: its position is the tar's
	tr := tar.NewReader(struct{ io.Reader }{r})
	var starts []int64
	for {
		pos := int64(len(data)) - int64(r.Len())
		if _, err := tr.Next(); errors.Is(err, io.EOF) {
			return starts
		} else if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, (pos+511)/512*512)
		io.Copy(io.Discard, tr)
	}
}

// TestTruncatedVolumeNamed: a volume cut short, inside an entry or
// exactly between two, is refused naming the file and what to do, by
// unpack (before DEST is created) and by verify of the volume alone.
func TestTruncatedVolumeNamed(t *testing.T) {
	pub := treetest.NewPublisher(t, "truncated")
	tr, size := splitSite(t, pub, 1, "")
	vols := volumesOf(t, tr, size)
	fi, _ := os.Stat(vols[1])
	starts := entryStarts(t, vols[1])
	for name, at := range map[string]int64{
		"inside an entry":     fi.Size() / 2,
		"between two entries": starts[len(starts)-1],
	} {
		t.Run(name, func(t *testing.T) {
			cut := filepath.Join(t.TempDir(), filepath.Base(vols[1]))
			data, _ := os.ReadFile(vols[1])
			os.WriteFile(cut, data[:at], 0o644)
			given := slices.Clone(vols)
			given[1] = cut
			for _, err := range []error{refusedUntouched(t, pub, given), func() error {
				_, err := mirror.VerifyVolume(cut, pub.Key, time.Now(), false)
				return err
			}()} {
				if err == nil || !strings.Contains(err.Error(), cut+" is truncated") || !strings.Contains(err.Error(), "copy it again from the media") {
					t.Errorf("got %v, want it to name %s as truncated and say what to do", err, cut)
				}
			}
		})
	}
}

// TestWriteVolumesReplacesEarlierSet: writing volumes into a folder that
// holds a larger earlier set removes that set's extra volumes, so that
// vol-*.tar is the new set; a user's other files stay, and a file named
// like a volume that is not one is refused before anything is written.
func TestWriteVolumesReplacesEarlierSet(t *testing.T) {
	pub := treetest.NewPublisher(t, "leftovers")
	tr, size := splitSite(t, pub, 1, "")
	dir, out := t.TempDir(), t.TempDir()
	tr.Write(t, dir)
	notes := filepath.Join(out, "notes.txt")
	os.WriteFile(notes, []byte("mine"), 0o644)

	large, _, err := mirror.WriteVolumes(dir, out, size)
	if err != nil {
		t.Fatal(err)
	}
	small, _, err := mirror.WriteVolumes(dir, out, 3*size)
	if err != nil {
		t.Fatal(err)
	}
	if len(small) >= len(large) {
		t.Fatalf("the second run wrote %d volumes, the first %d: want fewer", len(small), len(large))
	}
	got, _ := filepath.Glob(filepath.Join(out, "vol-*.tar"))
	if !slices.Equal(got, small) {
		t.Errorf("vol-*.tar is %v, want the new set %v", got, small)
	}
	if data, _ := os.ReadFile(notes); string(data) != "mine" {
		t.Error("the user's notes.txt was touched")
	}
	if _, _, err := mirror.Unpack(got, filepath.Join(t.TempDir(), "dest"), pub.Key, mirror.UnpackOptions{Now: time.Now()}); err != nil {
		t.Errorf("unpack vol-*.tar: %v", err)
	}

	// A file named like a volume that is not one of ours: refused, and the
	// set in place is left as it was.
	before := treetest.Files(t, out)
	foreign := filepath.Join(out, fmt.Sprintf("vol-%03d.tar", len(large)+1))
	os.WriteFile(foreign, []byte("my own tar"), 0o644)
	_, _, err = mirror.WriteVolumes(dir, out, size)
	var te *tree.TargetError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), foreign) || !strings.Contains(err.Error(), "not a packstudio volume") {
		t.Errorf("a foreign %s: %v, want a TargetError naming it", filepath.Base(foreign), err)
	}
	after := treetest.Files(t, out)
	if len(after) != len(before)+1 {
		t.Errorf("%d files after the refused run, %d before (and the foreign one)", len(after), len(before))
	}
	for p, data := range before {
		if !bytes.Equal(after[p], data) {
			t.Errorf("the refused run changed %s", p)
		}
	}
}

// TestVolumeFIFONeverBlocks: a FIFO given as a volume, or named like one
// in the --volumes folder, is refused without opening it, which would
// block until someone writes to it.
func TestVolumeFIFONeverBlocks(t *testing.T) {
	pub := treetest.NewPublisher(t, "fifo")
	tr, size := splitSite(t, pub, 1, "")
	src := t.TempDir()
	tr.Write(t, src)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "vol-001.tar")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan [2]error, 1)
	go func() {
		_, _, unpackErr := mirror.Unpack([]string{fifo}, filepath.Join(t.TempDir(), "dest"), pub.Key, mirror.UnpackOptions{Now: time.Now()})
		_, _, writeErr := mirror.WriteVolumes(src, dir, size)
		done <- [2]error{unpackErr, writeErr}
	}()
	select {
	case errs := <-done:
		if errs[0] == nil || !strings.Contains(errs[0].Error(), "is not a regular file") {
			t.Errorf("unpack of a FIFO: %v", errs[0])
		}
		var te *tree.TargetError
		if !errors.As(errs[1], &te) || !strings.Contains(errs[1].Error(), fifo) {
			t.Errorf("volumes into a folder holding a FIFO vol-001.tar: %v", errs[1])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocked on the FIFO") // the goroutine stays blocked; the test binary exits
	}
}
