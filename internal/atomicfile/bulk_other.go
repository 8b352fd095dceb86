//go:build !linux

package atomicfile

import (
	"io/fs"
	"os"
)

// createNew writes data to a new file at path, never over a file that is
// there (an error matching fs.ErrExist); on any other failure it removes
// what it wrote.
func createNew(path string, data []byte, _ bool) (Stamp, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return Stamp{}, err
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
		return Stamp{}, err
	}
	return StampOf(fi), nil
}

// Rename renames from over to.
func Rename(from, to string) error { return os.Rename(from, to) }

// StampOf has no inode here: size and time only.
func StampOf(fi fs.FileInfo) Stamp {
	return Stamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
}

// UmaskStrips cannot read the umask here, so it says yes (chmod each file).
func UmaskStrips(os.FileMode) bool { return true }
