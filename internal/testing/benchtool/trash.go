package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// aside holds the trees that the bench replaces, deleted when it ends.
//
// Deleting a tree just before a timed build would time the file system's
// cleanup instead of the build: ext4 without a journal (these machines)
// passes over every inode freed in the last minute (six while its inode
// table block is unwritten) each time it allocates one, reading each on
// the way. A fresh build right after `rm -rf` of the last round's 50,000
// files spent 45% of its CPU there (perf: recently_deleted,
// find_inode_bit, find_get_block_common), and its time swung 2-3x with
// how much had been deleted lately. Renaming a tree aside frees nothing.
var aside trash

type trash struct {
	dir string
	n   int
}

// setAside moves p, if it exists, into the trash folder (on the same file
// system, so it is one rename).
func (t *trash) setAside(p string) error {
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return err
	}
	t.n++
	return os.Rename(p, filepath.Join(t.dir, strconv.Itoa(os.Getpid())+"-"+strconv.Itoa(t.n)))
}

// empty deletes everything set aside, once nothing more is timed.
func (t *trash) empty() error { return os.RemoveAll(t.dir) }

// setAside sets aside the named entries of dir.
func setAside(dir string, names ...string) error {
	for _, n := range names {
		if err := aside.setAside(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}
