//go:build !linux

package publish

import "syscall"

// syncFS flushes the filesystem's writes.
func syncFS(string) error {
	syscall.Sync()
	return nil
}
