package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// SyncFS flushes every write of the filesystem holding dir: one call
// instead of an fsync per object.
func SyncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
