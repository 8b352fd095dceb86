//go:build !linux

package atomicfile

import "syscall"

// SyncFS flushes the filesystem's writes.
func SyncFS(string) error {
	syscall.Sync()
	return nil
}
