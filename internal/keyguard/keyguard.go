// Package keyguard keeps the private signing key out of everything a build
// publishes. A Guard is made once per build from the key file; every loader
// opens its inputs through it. Opening refuses the key file itself, found by
// identity (device and inode of the file a path resolves to, links
// followed), and reading refuses any file whose bytes hold the key: a line
// of its PEM body, its DER, or a private number of the key. The bytes are
// checked as the loader reads them, so a large source is read only once.
package keyguard

import (
	"bufio"
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Error is an input refused because it is or holds the private key.
type Error struct {
	File string // the input, as the loader named it
	Key  string // the key file, as configured
	Why  string // "is" or "holds"
}

func (e *Error) Error() string {
	how := ""
	if e.Why == "holds" {
		how = " (a line of its PEM, its DER or one of its private numbers)"
	}
	return fmt.Sprintf("%s %s the private signing key %s%s; keep the key outside every catalog, source, readme, content and theme file, and remove any copy of it",
		e.File, e.Why, e.Key, how)
}

// Guard checks inputs against one private key. A nil Guard checks nothing.
type Guard struct {
	keyFile string
	key     os.FileInfo // the file keyFile resolves to
	m       *matcher
	// seen, when set, is told of every file opened (see Recording).
	seen func(name string, fi fs.FileInfo)
}

// New reads the key file and prepares the checks. secrets are the key's
// private numbers as big-endian bytes (the ECDSA scalar, the RSA exponent
// and primes), which the file alone does not show when it is encrypted.
func New(keyFile string, secrets ...[]byte) (*Guard, error) {
	fi, err := os.Stat(keyFile)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	defer clear(data)
	needles := append(pemNeedles(data), secrets...)
	return &Guard{keyFile: keyFile, key: fi, m: newMatcher(needles)}, nil
}

// pemNeedles returns what a copy of a PEM file holds: each body line (a
// copy of the file, or of part of it, holds whole lines) and each block's
// DER (a decoded copy). The first line of an encrypted block is left out:
// it holds only the cipher's fixed parameters, the same in every key of
// that kind (sigstore's starts {"kdf":{"name":"scrypt",...), so another
// encrypted key would match it.
func pemNeedles(data []byte) [][]byte {
	var needles [][]byte
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		needles = append(needles, block.Bytes)
	}
	first, encrypted := false, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		switch {
		case bytes.HasPrefix(line, []byte("-----BEGIN")):
			first, encrypted = true, bytes.Contains(line, []byte("ENCRYPTED"))
		case bytes.HasPrefix(line, []byte("-----")) || len(line) == 0:
		case bytes.Contains(line, []byte(":")): // a header, e.g. Proc-Type: 4,ENCRYPTED
			encrypted = encrypted || bytes.Contains(line, []byte("ENCRYPTED"))
		case first && encrypted:
			first = false
		default:
			first = false
			needles = append(needles, bytes.Clone(line))
		}
	}
	return needles
}

// Recording returns a guard that checks as g does and also calls seen with
// each file it opens, as fstat saw it at opening: before any byte is read,
// so an edit made while the file is read shows as a change later. A build
// records its inputs this way, since every input passes through here.
// seen may be called from many goroutines at once.
func (g *Guard) Recording(seen func(name string, fi fs.FileInfo)) *Guard {
	if g == nil {
		return nil
	}
	r := *g
	r.seen = seen
	return &r
}

// Open opens a file for reading, following links, and refuses it when it is
// the key file. Reading it returns an *Error as soon as the bytes read so
// far hold the key.
func (g *Guard) Open(name string) (io.ReadCloser, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	rf, err := g.check(name, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return rf, nil
}

// ReadFile reads a whole file through Open.
func (g *Guard) ReadFile(name string) ([]byte, error) {
	f, err := g.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// check looks at an open file: fstat tells what the name resolved to,
// whatever links were followed on the way.
func (g *Guard) check(name string, f *os.File) (fs.File, error) {
	if g == nil {
		return f, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if os.SameFile(fi, g.key) {
		return nil, &Error{File: name, Key: g.keyFile, Why: "is"}
	}
	if g.seen != nil {
		g.seen(name, fi)
	}
	if fi.IsDir() || len(g.m.needles) == 0 {
		return f, nil
	}
	return &file{f: f, name: name, size: fi.Size(), s: g.m.scanner(), g: g}, nil
}

// Find returns path, or the file under the directory path, that is the key
// file by identity with links followed, or "". It is the cheap check made
// before anything is read, so that the usual mistake is reported with the
// catalog's line.
func (g *Guard) Find(path string) string {
	if g == nil {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if !fi.IsDir() {
		if os.SameFile(fi, g.key) {
			return path
		}
		return ""
	}
	root, err := filepath.EvalSymlinks(path) // WalkDir does not follow a linked root
	if err != nil {
		return ""
	}
	var found string
	stop := errors.New("found")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := os.Stat(p); err == nil && os.SameFile(fi, g.key) {
			rel, _ := filepath.Rel(root, p)
			found = filepath.Join(path, rel)
			return stop
		}
		return nil
	})
	return found
}

// Inside reports whether keyFile, links resolved, lies in dir (which need
// not exist yet).
func Inside(keyFile, dir string) bool {
	key, d := resolved(keyFile), resolved(dir)
	rel, err := filepath.Rel(d, key)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolved is p made absolute with every link followed, as far as it exists.
func resolved(p string) string {
	p, _ = filepath.Abs(p)
	for dir, rest := p, ""; ; {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		dir, rest = parent, filepath.Join(filepath.Base(dir), rest)
	}
}

// Exposed reports whether a key file may be read by group or others.
func Exposed(keyFile string) (os.FileMode, bool) {
	fi, err := os.Stat(keyFile)
	if err != nil {
		return 0, false
	}
	return fi.Mode().Perm(), fi.Mode().Perm()&0o077 != 0
}

// file scans the bytes as they are read. It has only the methods of
// fs.File: an *os.File's WriteTo would let io.Copy read around the scan.
type file struct {
	f    *os.File
	name string
	size int64 // as opened: the scan ends there or at EOF
	read int64
	s    *scanner
	g    *Guard
	err  error
}

func (f *file) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.f.Read(p)
	f.read += int64(n)
	f.s.write(p[:n])
	if err == io.EOF || f.read >= f.size {
		f.s.finish()
	}
	if f.s.found {
		f.err = &Error{File: f.name, Key: f.g.keyFile, Why: "holds"}
		return 0, f.err
	}
	return n, err
}

func (f *file) Stat() (fs.FileInfo, error) { return f.f.Stat() }

func (f *file) Close() error { return f.f.Close() }
