package generator

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/packstudio/packstudio/internal/keyguard"
)

// inputFS is the one way a build reads its inputs (site config, catalog,
// registries, readmes, content pages, theme overlay): every file is opened
// through the key guard, and every file and folder opened, listed or
// stat'ed, or found missing, is recorded for the no-change check
// (inputs.go). The loaders take it as the small interface each declares
// (fs.FS, fs.ReadDirFS, fs.StatFS and an Lstat), so they read nothing any
// other way; TestLoadersReadOnlyThroughInputFS keeps it so.
//
// Names are the OS paths the loaders use (relative to the working
// directory or absolute), not io/fs's slash paths under one root;
// fs.WalkDir and fs.ReadFile work over them since they only join names.
// Pack sources are read by the packer through the guard alone: their
// fingerprints in artifacts.json are what the check compares.
type inputFS struct {
	guard *keyguard.Guard
	rec   *inputRecorder // nil: nothing is recorded
}

// Open opens a file or folder through the key guard, recorded as fstat
// saw it at opening, before any byte is read.
func (in inputFS) Open(name string) (fs.File, error) {
	rc, err := in.guard.Open(name)
	if err != nil {
		in.rec.failedAt(name, err, true)
		return nil, err
	}
	f, ok := rc.(fs.File)
	if !ok { // the guard returns an *os.File or its checking reader
		rc.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a file")}
	}
	if in.rec != nil {
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		in.rec.file(name, fi)
	}
	return f, nil
}

// ReadFile reads a whole file through Open.
func (in inputFS) ReadFile(name string) ([]byte, error) {
	f, err := in.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// ReadDir lists a folder sorted by name, as os.ReadDir does; the folder
// is recorded as it was before the listing, so a name added or removed
// meanwhile shows as a change later.
func (in inputFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := os.Open(name)
	if err != nil {
		in.rec.failedAt(name, err, true)
		return nil, err
	}
	defer f.Close()
	if in.rec != nil {
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		in.rec.add(name, fi, true)
	}
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// Stat stats a file or folder, links followed.
func (in inputFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := os.Stat(name)
	if err != nil {
		in.rec.failedAt(name, err, true)
		return nil, err
	}
	in.rec.add(name, fi, true)
	return fi, nil
}

// Lstat stats a file or folder itself, a link not followed.
func (in inputFS) Lstat(name string) (fs.FileInfo, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		in.rec.failedAt(name, err, false)
		return nil, err
	}
	in.rec.add(name, fi, false)
	return fi, nil
}
