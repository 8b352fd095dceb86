// Package pack turns a source file or directory into an artifact, byte for
// byte the same on every run: a directory becomes a tar with sorted entries,
// fixed times, owners and modes; then zstd in independent frames of
// FrameSize input each (or gzip for Helm charts). The input is read once;
// the caller hashes the output as it streams past.
package pack

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Format names the packing rules. Caches keyed by input must include it, so
// that a change to these rules re-packs everything.
const Format = "pack/v2"

// Method is how a source becomes an artifact.
type Method int

const (
	// Zstd compresses a file as is, or a directory as a tar.
	Zstd Method = iota
	// Tgz copies a file as is (a packaged chart), or makes a directory a
	// gzip-compressed tar (the form Helm reads).
	Tgz
	// Copy copies a file as is (ISO images).
	Copy
)

func (m Method) String() string {
	return [...]string{"zstd", "tgz", "copy"}[m]
}

// epoch is the modification time of every tar entry.
var epoch = time.Unix(0, 0).UTC()

// Opener opens each input file to read. A build passes its key guard's,
// which refuses the signing key and checks the bytes as they stream
// through; nil means os.Open.
type Opener func(name string) (io.ReadCloser, error)

// Write packs src into w. root names the top-level directory inside a
// tar. Every file is read once, through open. The input is not hashed:
// nothing needs its digest, and on a large artifact that hash cost as much
// CPU as a tenth of the compression.
func Write(w io.Writer, src string, method Method, root string, open Opener) error {
	if open == nil {
		open = func(name string) (io.ReadCloser, error) { return os.Open(name) }
	}
	src, fi, err := resolve(src)
	if err != nil {
		return err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is neither a file nor a directory", src)
	}
	if method == Copy && fi.IsDir() {
		return fmt.Errorf("%s is a directory; this artifact must be a file", src)
	}
	switch {
	case method == Zstd:
		enc := newFrameWriter(w)
		if err := writeInput(enc, src, fi, root, open); err != nil {
			enc.abort()
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
	case method == Tgz && fi.IsDir():
		gz, _ := gzip.NewWriterLevel(w, gzip.BestCompression)
		if err := writeInput(gz, src, fi, root, open); err != nil {
			return err
		}
		if err := gz.Close(); err != nil {
			return err
		}
	default: // a file copied as is
		if err := copyFile(w, src, open); err != nil {
			return err
		}
	}
	return nil
}

// resolve follows a source given as a symlink: WalkDir does not follow one
// at its root, so a linked directory would otherwise pack as the bare link.
func resolve(src string) (string, fs.FileInfo, error) {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return "", nil, err
	}
	fi, err := os.Stat(real)
	return real, fi, err
}

func writeInput(w io.Writer, src string, fi fs.FileInfo, root string, open Opener) error {
	if fi.IsDir() {
		return writeTar(w, src, root, open)
	}
	return copyFile(w, src, open)
}

func copyFile(w io.Writer, src string, open Opener) error {
	f, err := open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	_, err = io.CopyBuffer(w, f, *buf)
	return err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// writeTar writes dir as a tar: entries sorted by path (WalkDir reads
// directories in lexical order), times fixed, owners root, modes 0755/0644.
// Symlinks are kept only when they point inside dir; anything else is refused.
func writeTar(w io.Writer, dir, root string, open Opener) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Join(root, filepath.ToSlash(rel))
		hdr := &tar.Header{Name: name, ModTime: epoch, Format: tar.FormatPAX}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
			hdr.Typeflag, hdr.Mode, hdr.Name = tar.TypeDir, 0o755, name+"/"
		case mode.IsRegular():
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, info.Size()
			if mode&0o111 != 0 {
				hdr.Mode = 0o755
			}
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := linkStaysInside(dir, filepath.ToSlash(rel), target); err != nil {
				return fmt.Errorf("%s: symlink to %s %w", p, target, err)
			}
			hdr.Typeflag, hdr.Mode, hdr.Linkname = tar.TypeSymlink, 0o777, target
		default:
			return fmt.Errorf("%s: %s files cannot be packed", p, mode.Type())
		}
		if rel == "." {
			if root == "" {
				return nil
			}
			hdr.Name = root + "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			return copyExactly(tw, p, hdr.Size, open)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// copyExactly copies size bytes of the file, failing if it changed size
// while being packed (the header already promised that size).
func copyExactly(w io.Writer, p string, size int64, open Opener) error {
	f, err := open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	n, err := io.CopyBuffer(w, io.LimitReader(f, size), *buf)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%s changed size while being packed", p)
	}
	return nil
}

// maxLinks is how many links one resolution may follow, as Linux's ELOOP.
const maxLinks = 40

var errLinkOutside = errors.New("points outside the source directory")

// linkStaysInside follows target, the link at rel (a slash path under
// dir), component by component as the file system will once the tar is
// extracted: each component that is a link in the source (the tar holds
// the same links) is replaced by its target before the next "..". Lexical
// cleaning is not enough: with sub/up -> .., "sub/up/.." is "sub" as a
// string but the extracted tree's parent on disk. A missing component
// counts as a directory, which can only make the check stricter.
func linkStaysInside(dir, rel, target string) error {
	var cur []string // the resolved directory so far, from dir
	if d := path.Dir(rel); d != "." {
		cur = strings.Split(d, "/") // real directories: WalkDir does not follow links
	}
	pending := strings.Split(filepath.ToSlash(target), "/")
	if filepath.IsAbs(target) {
		return errLinkOutside
	}
	for links := 0; len(pending) > 0; {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return errLinkOutside
			}
			cur = cur[:len(cur)-1]
			continue
		}
		next := filepath.Join(dir, filepath.FromSlash(path.Join(append(cur, c)...)))
		fi, err := os.Lstat(next)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			cur = append(cur, c)
			continue
		}
		if links++; links > maxLinks {
			return errors.New("goes through too many links")
		}
		t, err := os.Readlink(next)
		if err != nil {
			return err
		}
		if filepath.IsAbs(t) {
			return errLinkOutside
		}
		pending = append(strings.Split(filepath.ToSlash(t), "/"), pending...)
	}
	return nil
}

// Fingerprint summarizes the names, sizes, modes, modification times and
// identities (device, inode, change time: what git's index keeps) of src and
// everything under it. Equal fingerprints let a cache skip reading the
// source again; a differing one means it must be read. A file rewritten
// with its size and mtime put back still changes its change time.
func Fingerprint(src string) (string, error) {
	h := sha256.New()
	src, fi, err := resolve(src)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return Stamp(fi), nil
	}
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		stamp(h, rel, info)
		if info.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			io.WriteString(h, target+"\n")
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// Stamp is the fingerprint of the one file or directory fi describes (as
// a stat that followed links saw it). For a file it is what Fingerprint
// gives; for a directory it covers the entry alone: its times move when a
// name is added to it or removed, but not when a file under it is edited.
func Stamp(fi fs.FileInfo) string {
	h := sha256.New()
	stamp(h, ".", fi)
	return fmt.Sprintf("%x", h.Sum(nil))
}

func stamp(h hash.Hash, rel string, fi fs.FileInfo) {
	io.WriteString(h, rel+"\x00"+fi.Mode().String()+"\x00"+strconv.FormatInt(fi.Size(), 10)+"\x00"+
		strconv.FormatInt(fi.ModTime().UnixNano(), 10)+"\x00"+identity(fi)+"\n")
}
