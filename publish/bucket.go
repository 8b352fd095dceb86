package publish

import (
	"context"
	"errors"
	"io"

	"github.com/packstudio/packstudio/internal/tree"
)

// Bucket is where a tree is published, and where a mirror can read it
// from: a local directory or an S3 bucket. Keys are slash paths of the
// tree; a bucket maps them under its prefix. Retries belong to the
// implementation (the AWS SDK's retryer for S3); concurrency to the caller.
type Bucket interface {
	tree.Reader
	// List returns every object under the bucket's prefix, keys relative
	// to it. Objects under dot-folders (temp files) are left out.
	List(ctx context.Context) ([]tree.ObjectInfo, error)
	// Head returns an object's size and the SHA-256 recorded when it was
	// put, or tree.ErrNotExist.
	Head(ctx context.Context, key string) (tree.ObjectInfo, error)
	// Put stores body under key. The object appears whole or not at all,
	// and Put fails, leaving any earlier object as it was, when the body's
	// size or SHA-256 differ from meta.
	Put(ctx context.Context, key string, body io.ReadSeeker, meta Meta) error
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// Meta is what Put records with an object, and checks its body against.
type Meta struct {
	Size         int64
	SHA256       string // lower-case hex
	ContentType  string
	CacheControl string
}

// MetaFor returns the metadata a tree object is published with.
func MetaFor(key string, size int64, sha256 string) Meta {
	return Meta{Size: size, SHA256: sha256, ContentType: ContentType(key), CacheControl: CacheControl(key)}
}

// ErrContentMismatch is returned by Put when the body is not what meta says.
var ErrContentMismatch = errors.New("content does not match its size and SHA-256")
