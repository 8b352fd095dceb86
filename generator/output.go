package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/tree"
)

// Files being written go to tree.TmpDir inside the output directory,
// so that each appears at its place by one rename and a killed build
// leaves its debris in one place, removed by the next build. A folder
// this build made is the exception: no page from before links into it,
// so its files are written in place (see writeFile).

// tree is the output directory. It writes a file only when its bytes
// differ from what is there, by temp file and rename unless its folder is
// new, and records every object for the manifest. What is there is known
// from the last manifest and a stat; bytes are read only for a file that
// changed since the last build wrote it.
type outTree struct {
	root string
	tmp  string

	mu      sync.Mutex
	objects map[string]tree.Object

	dirs sync.Map // directory known to exist → whether this build made it

	// What the last build left: its verified manifest and the stamps of
	// its files (read only during the build), and the stamps of this one.
	prev      map[string]tree.Object
	oldStamps map[string]stamp
	stamps    map[string]stamp // under mu
	checkAll  bool             // --check-output: compare every file's bytes
	fixMode   bool             // the umask would not leave new files 0644
	tmpSeq    atomic.Int64

	written, unchanged, bytesWritten, compared atomic.Int64
}

func openTree(root string) (*outTree, error) {
	root = filepath.Clean(root) // prune compares it with cleaned paths
	_, err := os.Lstat(root)
	rootMade := errors.Is(err, fs.ErrNotExist)
	t := &outTree{root: root, tmp: filepath.Join(root, tree.TmpDir), objects: map[string]tree.Object{},
		stamps: map[string]stamp{}, fixMode: atomicfile.UmaskStrips(0o644)}
	if err := os.RemoveAll(t.tmp); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(t.tmp, 0o755); err != nil {
		return nil, err
	}
	t.dirs.Store(root, rootMade)
	t.dirs.Store(t.tmp, false)
	return t, nil
}

// close removes the temp directory.
func (t *outTree) close() error { return os.RemoveAll(t.tmp) }

func (t *outTree) path(rel string) string { return filepath.Join(t.root, filepath.FromSlash(rel)) }

func (t *outTree) record(rel string, size int64, sum []byte) {
	t.mu.Lock()
	t.objects[rel] = tree.Object{Path: rel, Size: size, SHA256: hex.EncodeToString(sum)}
	t.mu.Unlock()
}

// object returns the recorded object at rel.
func (t *outTree) object(rel string) (tree.Object, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.objects[rel]
	return o, ok
}

// sortedObjects returns every recorded object sorted by path.
func (t *outTree) sortedObjects() []tree.Object {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]tree.Object, 0, len(t.objects))
	for _, o := range t.objects {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// write puts data at rel unless the file there already holds exactly data.
// A file the last build wrote and nobody touched since holds what the last
// manifest says: no need to read it. A file the last manifest did not list
// is written without looking.
func (t *outTree) write(rel string, data []byte) error {
	sum := sha256.Sum256(data)
	t.record(rel, int64(len(data)), sum[:])
	switch state, old, st := t.state(rel); state {
	case fileKnown:
		if old.SHA256 == hex.EncodeToString(sum[:]) {
			t.keep(rel, st)
			return nil
		}
	case fileUnknown:
		t.compared.Add(1)
		if fi, ok := contentMatches(t.path(rel), data); ok {
			t.keep(rel, atomicfile.StampOf(fi))
			return nil
		}
	}
	st, err := t.writeFile(rel, data)
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	t.setStamp(rel, st)
	t.written.Add(1)
	t.bytesWritten.Add(int64(len(data)))
	return nil
}

// keep counts a file left as it was.
func (t *outTree) keep(rel string, st stamp) {
	t.setStamp(rel, st)
	t.unchanged.Add(1)
}

func (t *outTree) setStamp(rel string, st stamp) {
	t.mu.Lock()
	t.stamps[rel] = st
	t.mu.Unlock()
}

// writeFile writes data to rel and returns the new file's stamp: in place
// in a folder this build made (no page from before the build links into
// it), else by temp file and rename (atomicfile.Put).
func (t *outTree) writeFile(rel string, data []byte) (stamp, error) {
	full := t.path(rel)
	made, err := t.mkdirs(filepath.Dir(full))
	if err != nil {
		return stamp{}, err
	}
	return atomicfile.Put(full, t.tempName(), data, made, t.fixMode)
}

// tempName names a new file in the temp directory, which this build
// made empty: no other writer picks the same name.
func (t *outTree) tempName() string {
	return filepath.Join(t.tmp, "w-"+strconv.FormatInt(t.tmpSeq.Add(1), 36))
}

// create opens a new temp file for content that will be placed later.
func (t *outTree) create() (*os.File, error) {
	return os.CreateTemp(t.tmp, "f-*")
}

// place closes the temp file f and renames it to rel.
func (t *outTree) place(f *os.File, rel string, size int64) error {
	tmp := f.Name()
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	full := t.path(rel)
	if _, err := t.mkdirs(filepath.Dir(full)); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := atomicfile.Rename(tmp, full); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", rel, err)
	}
	t.written.Add(1)
	t.bytesWritten.Add(size)
	return nil
}

// mkdirs makes dir and its missing parents inside the tree, each once per
// build: one mkdir for a new directory, none for one already seen (the
// root is seen from the start, so the walk up stops there). It reports
// whether this build made dir. What stands in the way of a directory, a
// symlink included, is an error: the build never writes through a link
// out of the tree.
func (t *outTree) mkdirs(dir string) (made bool, err error) {
	if v, ok := t.dirs.Load(dir); ok {
		return v.(bool), nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if _, err := t.mkdirs(parent); err != nil {
			return false, err
		}
	}
	err = os.Mkdir(dir, 0o755)
	made = err == nil
	if errors.Is(err, fs.ErrExist) {
		if fi, lerr := os.Lstat(dir); lerr != nil || !fi.IsDir() {
			return false, fmt.Errorf("%s is in the way of a directory of the site; remove it", dir)
		}
		err = nil
	}
	if err != nil {
		return false, err
	}
	// Another writer may have made it a moment before: its answer stands.
	if v, loaded := t.dirs.LoadOrStore(dir, made); loaded {
		made = v.(bool)
	}
	return made, nil
}

// sameContent reports whether the file at p holds exactly data.
func sameContent(p string, data []byte) bool {
	_, ok := contentMatches(p, data)
	return ok
}

// contentMatches reports whether the file at p holds exactly data, and
// returns its stat.
func contentMatches(p string, data []byte) (fs.FileInfo, bool) {
	f, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		return nil, false
	}
	buf := cmpBufs.Get().(*[]byte)
	defer cmpBufs.Put(buf)
	for rest := data; ; {
		n, err := f.Read(*buf)
		if n > len(rest) || !bytes.Equal((*buf)[:n], rest[:n]) {
			return nil, false
		}
		rest = rest[n:]
		if err == io.EOF {
			return fi, len(rest) == 0
		}
		if err != nil {
			return nil, false
		}
	}
}

var cmpBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// hashFile hashes an output file, counted as a file read to compare.
func (t *outTree) hashFile(p string) ([]byte, int64, error) {
	t.compared.Add(1)
	return fileSHA256(p)
}

// fileSHA256 hashes the file at p.
func fileSHA256(p string) ([]byte, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, 0, err
	}
	return h.Sum(nil), n, nil
}

// prune removes files that an earlier manifest listed and this build did
// not write, then the directories left empty.
func (t *outTree) prune(old []tree.Object) (int, error) {
	removed := 0
	dirs := map[string]bool{}
	for _, o := range old {
		if _, ok := t.object(o.Path); ok || tree.CheckPath(o.Path) != nil {
			continue
		}
		full := t.path(o.Path)
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed++
		for d := filepath.Dir(full); d != t.root && strings.HasPrefix(d, t.root); d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	// Deepest first, so that parents are empty when their turn comes.
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	for _, d := range list {
		os.Remove(d) // fails, as it should, when the directory is not empty
	}
	return removed, nil
}
