//go:build !linux

package generator

import (
	"io/fs"
	"os"
	"path/filepath"
)

// writeFile writes data to a new temp file and renames it to rel, and
// returns the new file's stamp.
func (t *outTree) writeFile(rel string, data []byte) (stamp, error) {
	full := t.path(rel)
	if err := t.mkdirs(filepath.Dir(full)); err != nil {
		return stamp{}, err
	}
	tmp := t.tempName()
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
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
	if err == nil {
		err = rename(tmp, full)
	}
	if err != nil {
		os.Remove(tmp)
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
