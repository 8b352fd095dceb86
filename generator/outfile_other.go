//go:build !linux

package generator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// writeFile writes data to rel and returns the new file's stamp: in
// place in a folder this build made, else by temp file and rename (see
// outfile_linux.go).
func (t *outTree) writeFile(rel string, data []byte) (stamp, error) {
	full := t.path(rel)
	made, err := t.mkdirs(filepath.Dir(full))
	if err != nil {
		return stamp{}, err
	}
	if made {
		st, err := createFile(full, data)
		if !errors.Is(err, fs.ErrExist) { // written twice in one build: replace it below
			return st, err
		}
	}
	tmp := t.tempName()
	st, err := createFile(tmp, data)
	if err != nil {
		return stamp{}, err
	}
	if err := rename(tmp, full); err != nil {
		os.Remove(tmp)
		return stamp{}, err
	}
	return st, nil
}

// createFile writes data to a new file at path, never over a file that is
// there; on any other failure it removes what it wrote.
func createFile(path string, data []byte) (stamp, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return stamp{}, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return stamp{}, err
	}
	return stampOf(fi), nil
}

func rename(from, to string) error { return os.Rename(from, to) }

// stampOf has no inode here: size and time only.
func stampOf(fi fs.FileInfo) stamp {
	return stamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
}

func umaskStrips(os.FileMode) bool { return true }
