// Package atomicfile writes whole files so that no reader, and no crash,
// ever sees half of one: a temp file, synced, then renamed over the
// target, then the directory synced. It is the one atomic write of the
// local bucket, the volumes, mirror bookkeeping and keys.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
)

// File is a new file that takes its target's place only on Commit; until
// then it is a temp file nobody links to.
type File struct {
	*os.File
	root   *os.Root // nil: tmp and target are plain paths
	tmp    string
	target string
	done   bool
}

// Create starts a file that will replace path, its temp file beside it
// (same directory, so the rename stays on one file system).
func Create(path string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: f, tmp: f.Name(), target: path}, nil
}

// CreateIn starts a file that will replace target inside root, its temp
// file in root's tmpDir (which must exist). Every step goes through the
// root, so a folder swapped for a symlink cannot lead the file outside.
func CreateIn(root *os.Root, tmpDir, target string) (*File, error) {
	var b [12]byte
	rand.Read(b[:])
	tmp := filepath.Join(tmpDir, "w-"+hex.EncodeToString(b[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &File{File: f, root: root, tmp: tmp, target: target}, nil
}

// Commit gives the file perm, flushes it to disk, renames it over its
// target and flushes the target's directory. On failure the temp file is
// removed and the target is as it was.
func (f *File) Commit(perm os.FileMode) error {
	if err := f.commit(perm); err != nil {
		f.Abort()
		return err
	}
	return nil
}

func (f *File) commit(perm os.FileMode) error {
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if f.root != nil {
		if err := f.root.Rename(f.tmp, f.target); err != nil {
			return err
		}
		f.done = true
		d, err := f.root.Open(filepath.Dir(f.target))
		if err != nil {
			return err
		}
		defer d.Close()
		return syncDir(d)
	}
	if err := os.Rename(f.tmp, f.target); err != nil {
		return err
	}
	f.done = true
	return SyncDir(filepath.Dir(f.target))
}

// Abort closes and removes the temp file; after Commit it does nothing.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	if f.root != nil {
		f.root.Remove(f.tmp)
	} else {
		os.Remove(f.tmp)
	}
}

// Write replaces path with data, with the given permissions.
func Write(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit(perm)
}

// SyncDir flushes a directory's entries (a rename into it) to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return syncDir(d)
}

func syncDir(d *os.File) error {
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
