package tree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/packstudio/packstudio/internal/bytesize"
)

// ErrNotExist is returned by a Reader for an object that is not there.
var ErrNotExist = errors.New("object does not exist")

// Reader reads the objects of a tree by slash path.
type Reader interface {
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	String() string
}

// Lister is a Reader that can also list every object it holds, so that
// objects no manifest mentions can be reported.
type Lister interface {
	List(ctx context.Context) ([]ObjectInfo, error)
}

// ObjectInfo describes a stored object of a tree, a bucket or a mirror. SHA256 is empty when the store
// has no record of it (an object put by another tool).
type ObjectInfo struct {
	Key    string
	Size   int64
	SHA256 string
}

// DirReader reads a tree in a local directory. Paths cannot leave it,
// through ".." or symlinks, because every access goes through os.Root.
type DirReader struct {
	root *os.Root
	dir  string
}

// OpenDir opens a directory tree for reading.
func OpenDir(dir string) (*DirReader, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &DirReader{root: r, dir: dir}, nil
}

func (d *DirReader) String() string { return d.dir }

// Root is the directory, for writers that must stay inside it too.
func (d *DirReader) Root() *os.Root { return d.root }

// Close releases the directory.
func (d *DirReader) Close() error { return d.root.Close() }

func (d *DirReader) Open(_ context.Context, p string) (io.ReadCloser, error) {
	f, err := d.OpenFile(p)
	if err != nil {
		return nil, err // not f: a nil *os.File in an interface is not nil
	}
	return f, nil
}

// List returns every regular file under the directory, with its size,
// except ignored ones.
func (d *DirReader) List(ctx context.Context) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := fs.WalkDir(d.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && Ignored(p) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, ObjectInfo{Key: p, Size: fi.Size()})
		return ctx.Err()
	})
	return out, err
}

// HTTPReader reads a published tree over HTTP(S) from a base URL.
type HTTPReader struct {
	base   *url.URL
	client *http.Client
}

// OpenURL returns a reader for the site at base.
func OpenURL(base string, client *http.Client) (*HTTPReader, error) {
	u, ok := ParseHTTPURL(base)
	if !ok {
		return nil, &TargetError{Target: base, Reason: "not an http(s) URL with a host"}
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &HTTPReader{base: u, client: client}, nil
}

func (h *HTTPReader) String() string { return h.base.String() }

// URL returns the absolute URL of a path.
func (h *HTTPReader) URL(p string) string {
	return h.base.ResolveReference(&url.URL{Path: p}).String()
}

func (h *HTTPReader) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	rc, _, err := h.OpenFrom(ctx, p, 0)
	return rc, err
}

// ReadAll reads one whole object, refusing anything over limit bytes,
// under the default Limits.
func ReadAll(ctx context.Context, r Reader, p string, limit int64) ([]byte, error) {
	return Limits{}.ReadAll(ctx, r, p, limit)
}

// TooLargeError is an object larger than its reader would take: asking
// again does not make it smaller.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes (%s)", e.Path, e.Limit, bytesize.Format(e.Limit))
}

// OpenFile opens a regular file of the tree for reading and seeking.
func (d *DirReader) OpenFile(p string) (*os.File, error) {
	if err := CheckPath(p); err != nil {
		return nil, err
	}
	f, err := d.root.Open(filepath.FromSlash(p))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, ErrNotExist
	}
	return f, nil
}

// RangeReader reads an object from a byte offset on, so that an
// interrupted download resumes instead of starting over. start is where
// the returned body begins: offset, or 0 when the store ignored the range.
type RangeReader interface {
	OpenFrom(ctx context.Context, key string, offset int64) (body io.ReadCloser, start int64, err error)
}

func (d *DirReader) OpenFrom(ctx context.Context, p string, offset int64) (io.ReadCloser, int64, error) {
	f, err := d.OpenFile(p)
	if err != nil {
		return nil, 0, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, offset, nil
}

func (h *HTTPReader) OpenFrom(ctx context.Context, p string, offset int64) (io.ReadCloser, int64, error) {
	if err := CheckPath(p); err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL(p), nil)
	if err != nil {
		return nil, 0, err
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		return resp.Body, offset, nil
	case http.StatusOK:
		return resp.Body, 0, nil
	case http.StatusNotFound, http.StatusForbidden:
		resp.Body.Close()
		return nil, 0, ErrNotExist
	case http.StatusRequestedRangeNotSatisfiable:
		if offset > 0 { // the partial copy is stale (say, longer): start over
			resp.Body.Close()
			return h.OpenFrom(ctx, p, 0)
		}
	}
	resp.Body.Close()
	return nil, 0, fmt.Errorf("GET %s: %s", h.URL(p), resp.Status)
}
