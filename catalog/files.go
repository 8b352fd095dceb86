package catalog

import (
	"io/fs"
	"os"
)

// Files is how the catalog reads its files and folders, registries
// included: io/fs's interfaces over OS paths (relative to the working
// directory or absolute). A build passes the one way it reads its inputs,
// which refuses the signing key and records every read for its
// no-change check; nothing here reads any other way.
type Files interface {
	fs.ReadDirFS
	fs.StatFS
	Lstat(name string) (fs.FileInfo, error)
}

// osFiles is the plain file system, for Load outside a build (tools and
// tests that look at a catalog).
type osFiles struct{}

func (osFiles) Open(name string) (fs.File, error)          { return os.Open(name) }
func (osFiles) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (osFiles) Stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
func (osFiles) Lstat(name string) (fs.FileInfo, error)     { return os.Lstat(name) }
