package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/tree"
)

// LocalBucket is a bucket in a local directory (file://DIR). Every write
// goes to a temp file that is synced, then renamed into place, and the
// directory synced: an object is never seen half-written, even after a
// crash. Access goes through os.Root, so no key can leave the directory.
type LocalBucket struct {
	dir    string
	reader *tree.DirReader
	root   *os.Root
	dirs   sync.Map
}

// OpenLocal opens (creating if needed) a directory as a bucket.
func OpenLocal(dir string) (*LocalBucket, error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, &tree.TargetError{Target: "file://" + dir, Reason: "is a file, not a directory"}
	}
	if err := os.MkdirAll(filepath.Join(dir, tree.TmpDir), 0o755); err != nil {
		return nil, &tree.TargetError{Target: "file://" + dir, Reason: err.Error()}
	}
	r, err := tree.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	return &LocalBucket{dir: dir, reader: r, root: r.Root()}, nil
}

func (b *LocalBucket) String() string { return "file://" + b.dir }

// Close releases the directory and removes leftover temp files.
func (b *LocalBucket) Close() error {
	b.root.RemoveAll(tree.TmpDir)
	return b.root.Close()
}

func (b *LocalBucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return b.reader.Open(ctx, key)
}

func (b *LocalBucket) List(ctx context.Context) ([]tree.ObjectInfo, error) {
	return b.reader.List(ctx)
}

// Head hashes the file: a directory keeps no metadata, and reading a local
// file costs less than uploading it again.
func (b *LocalBucket) Head(ctx context.Context, key string) (tree.ObjectInfo, error) {
	rc, err := b.Open(ctx, key)
	if err != nil {
		return tree.ObjectInfo{}, err
	}
	defer rc.Close()
	digest, n, err := tree.DigestReader(rc)
	if err != nil {
		return tree.ObjectInfo{}, err
	}
	return tree.ObjectInfo{Key: key, Size: n, SHA256: digest}, nil
}

func (b *LocalBucket) Put(ctx context.Context, key string, body io.ReadSeeker, meta Meta) error {
	if err := tree.CheckPath(key); err != nil || tree.Ignored(key) {
		return fmt.Errorf("put %q: not a valid object key", key)
	}
	if err := b.mkdirs(path.Dir(key)); err != nil {
		return err
	}
	// Through the root, like every other access: a folder swapped for a
	// symlink after mkdirs checked it cannot lead the rename outside.
	f, err := atomicfile.CreateIn(b.root, tree.TmpDir, filepath.FromSlash(key))
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if err == nil && (n != meta.Size || hex.EncodeToString(h.Sum(nil)) != meta.SHA256) {
		err = fmt.Errorf("put %s: %w", key, ErrContentMismatch)
	}
	if err != nil {
		f.Abort()
		return err
	}
	return f.Commit(0o644)
}

func (b *LocalBucket) mkdirs(dir string) error {
	if dir == "." {
		return nil
	}
	if _, ok := b.dirs.Load(dir); ok {
		return nil
	}
	// MkdirAll through the root refuses symlinks that lead outside it.
	if err := b.root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
		return err
	}
	b.dirs.Store(dir, true)
	return nil
}

func (b *LocalBucket) Delete(ctx context.Context, key string) error {
	if err := tree.CheckPath(key); err != nil {
		return fmt.Errorf("delete %q: not a valid object key", key)
	}
	err := b.root.Remove(filepath.FromSlash(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// Remove folders left empty, up to the bucket's root.
	for dir := path.Dir(key); dir != "." && !strings.HasPrefix(dir, "."); dir = path.Dir(dir) {
		if b.root.Remove(filepath.FromSlash(dir)) != nil {
			break
		}
		b.dirs.Delete(dir)
	}
	return nil
}

func (b *LocalBucket) OpenFrom(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	return b.reader.OpenFrom(ctx, key, offset)
}
