package generator

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/tree"
)

// stamp is what a stat of an output file says about it: when size, time
// and inode are those recorded as the build wrote it, nobody has replaced
// or edited it since (an edit that restores all three is caught by
// --check-output and by verify, not by a rebuild).
type stamp = atomicfile.Stamp

// stampsFile is the local sidecar, in the cache directory, of the stamps
// of every file of the last build's output. It is never published: the
// signed manifest says what the files hold, this only says whether they
// are still the ones the build wrote.
const stampsFile = "outputs.json"

type stampsData struct {
	Output string           `json:"output"` // absolute, so another --out does not use them
	Files  map[string]stamp `json:"files"`
}

// loadStamps returns the stamps recorded for the output root, or none.
func loadStamps(cacheDir, root string) map[string]stamp {
	data, err := os.ReadFile(filepath.Join(cacheDir, stampsFile))
	if err != nil {
		return nil
	}
	var d stampsData
	// A damaged sidecar only costs comparing bytes; never fail for it.
	if json.Unmarshal(data, &d) != nil || d.Output != abs(root) {
		return nil
	}
	return d.Files
}

// saveStamps records the stamps of the files of this build.
func (t *outTree) saveStamps(cacheDir string) error {
	t.mu.Lock()
	d := stampsData{Output: abs(t.root), Files: make(map[string]stamp, len(t.objects))}
	for rel := range t.objects {
		if s, ok := t.stamps[rel]; ok {
			d.Files[rel] = s
		}
	}
	t.mu.Unlock()
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(cacheDir, stampsFile), data, 0o644)
}

// setPrevious gives the tree the last build's verified manifest and the
// stamps of its files; with checkAll the stamps are not trusted and every
// file there is compared byte for byte.
func (t *outTree) setPrevious(m *tree.Manifest, stamps map[string]stamp, checkAll bool) {
	t.prev = map[string]tree.Object{}
	if m != nil {
		for _, o := range m.Objects {
			t.prev[o.Path] = o
		}
	}
	t.oldStamps, t.checkAll = stamps, checkAll
}

// fileState is what the tree knows about the file at rel before writing.
type fileState int

const (
	fileAbsent  fileState = iota // not in the last manifest, or gone: just write
	fileKnown                    // as the last build wrote it: its digest is the manifest's
	fileUnknown                  // there, but maybe edited: compare its bytes
)

// state says how far the file at rel can be trusted, by one lstat at most.
func (t *outTree) state(rel string) (fileState, tree.Object, stamp) {
	o, listed := t.prev[rel]
	if !listed {
		return fileAbsent, o, stamp{}
	}
	fi, err := os.Lstat(t.path(rel))
	if err != nil || !fi.Mode().IsRegular() {
		return fileAbsent, o, stamp{} // a rename puts the file in place of a link
	}
	now := atomicfile.StampOf(fi)
	if old, ok := t.oldStamps[rel]; ok && !t.checkAll && old == now && o.Size == now.Size {
		return fileKnown, o, now
	}
	return fileUnknown, o, now
}

// inPrevious reports whether the last manifest listed rel (so a file
// there may hold its bytes already).
func (t *outTree) inPrevious(rel string) bool {
	_, ok := t.prev[rel]
	return ok
}

// trustArtifact reports whether the artifact at full may be taken as the
// cache says without reading it: always, unless --check-output asked for
// every file to be read.
func (t *outTree) trustArtifact(full, sha256Hex string) bool {
	if !t.checkAll {
		return true
	}
	sum, _, err := t.hashFile(full)
	return err == nil && hex.EncodeToString(sum) == sha256Hex
}
