package publish

import (
	"context"
	"strings"

	"github.com/packstudio/packstudio/internal/tree"
)

// OpenTarget opens a bucket from its URL: file://DIR (relative or
// absolute) or s3://BUCKET/PREFIX.
func OpenTarget(ctx context.Context, target string, o S3Options) (Bucket, error) {
	switch {
	case strings.HasPrefix(target, "file://"):
		dir := strings.TrimPrefix(target, "file://")
		if dir == "" {
			return nil, &tree.TargetError{Target: target, Reason: "no directory; write file://DIR"}
		}
		return OpenLocal(dir)
	case strings.HasPrefix(target, "s3://"):
		return OpenS3(ctx, target, o)
	case target == "":
		return nil, &tree.TargetError{Target: `""`, Reason: "no target; pass --to file://DIR or s3://BUCKET/PREFIX, or set [publish] target in site.toml"}
	}
	return nil, &tree.TargetError{Target: target, Reason: "not a bucket URL; write file://DIR or s3://BUCKET/PREFIX"}
}

// Closer is implemented by buckets that hold resources.
type Closer interface{ Close() error }

// CloseBucket releases a bucket's resources, if it holds any.
func CloseBucket(b Bucket) {
	if c, ok := b.(Closer); ok {
		c.Close()
	}
}
