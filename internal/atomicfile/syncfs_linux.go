package publish

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes every write of the filesystem holding dir: one call
// instead of an fsync per object.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
