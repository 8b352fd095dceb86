package publish

import (
	"context"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/packstudio/packstudio/internal/tree"
)

// kind is one sort of location, known by its URL scheme. Adding a bucket
// kind is one entry here, its implementation of Bucket (which must pass
// publish/buckettest) and, to be read, of tree.Reader.
type kind struct {
	scheme string // "s3://"; a bare directory path is a source of no kind (OpenSource)
	// source opens the location to read a tree from (mirror, verify).
	source func(ctx context.Context, loc string, o Options) (tree.Reader, error)
	// bucket opens it to publish to; nil for kinds that cannot be written.
	bucket func(ctx context.Context, loc string, o Options) (Bucket, error)
}

var kinds = []kind{
	{scheme: "s3://",
		source: func(ctx context.Context, loc string, o Options) (tree.Reader, error) { return OpenS3(ctx, loc, o) },
		bucket: func(ctx context.Context, loc string, o Options) (Bucket, error) { return OpenS3(ctx, loc, o) }},
	{scheme: "file://",
		source: func(_ context.Context, loc string, _ Options) (tree.Reader, error) {
			dir, err := fileDir(loc)
			if err != nil {
				return nil, err
			}
			return openDir(loc, dir)
		},
		bucket: func(_ context.Context, loc string, _ Options) (Bucket, error) {
			dir, err := fileDir(loc)
			if err != nil {
				return nil, err
			}
			return OpenLocal(dir)
		}},
	{scheme: "https://", source: openHTTP},
	{scheme: "http://", source: openHTTP},
}

// The forms a location may take, for messages.
const (
	sourceForms = "https://HOST/PATH, file://DIR, DIR or s3://BUCKET/PREFIX"
	targetForms = "file://DIR or s3://BUCKET/PREFIX"
)

// OpenSource opens a tree to read: a site over http(s)://, a directory
// (file://DIR or a plain path) or a bucket (s3://).
func OpenSource(ctx context.Context, loc string, o Options) (tree.Reader, error) {
	for _, k := range kinds {
		if strings.HasPrefix(loc, k.scheme) {
			return k.source(ctx, loc, o)
		}
	}
	if fi, err := os.Stat(loc); err == nil && fi.IsDir() {
		return openDir(loc, loc)
	}
	return nil, &tree.TargetError{Target: loc, Reason: "not a source: write " + sourceForms}
}

// OpenTarget opens a bucket to publish to: file://DIR (relative or
// absolute) or s3://BUCKET/PREFIX.
func OpenTarget(ctx context.Context, loc string, o Options) (Bucket, error) {
	if loc == "" {
		return nil, &tree.TargetError{Target: `""`, Reason: "no target; pass --to " + targetForms + ", or set [publish] target in site.toml"}
	}
	for _, k := range kinds {
		if strings.HasPrefix(loc, k.scheme) && k.bucket != nil {
			return k.bucket(ctx, loc, o)
		}
	}
	return nil, &tree.TargetError{Target: loc, Reason: "not a bucket URL; write " + targetForms}
}

// openDir opens a directory tree; one that cannot be opened is a
// location the user must correct, not a failure of the tree.
func openDir(loc, dir string) (tree.Reader, error) {
	r, err := tree.OpenDir(dir)
	if err != nil {
		return nil, &tree.TargetError{Target: loc, Reason: err.Error()}
	}
	return r, nil
}

func fileDir(loc string) (string, error) {
	dir := strings.TrimPrefix(loc, "file://")
	if dir == "" {
		return "", &tree.TargetError{Target: loc, Reason: "no directory; write file://DIR"}
	}
	return dir, nil
}

// openHTTP reads a published site with a connection pool sized for the
// parallel downloads and a bound on a silent server.
func openHTTP(_ context.Context, loc string, o Options) (tree.Reader, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(o.Jobs, 8)
	tr.ResponseHeaderTimeout = time.Minute
	return tree.OpenURL(loc, &http.Client{Transport: tr})
}

// Closer is implemented by buckets and readers that hold resources.
type Closer interface{ Close() error }

// CloseBucket releases a bucket's resources, if it holds any.
func CloseBucket(b Bucket) {
	if c, ok := b.(Closer); ok {
		c.Close()
	}
}
