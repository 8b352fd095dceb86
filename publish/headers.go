package publish

import (
	"path"
	"strings"

	"github.com/packstudio/packstudio/internal/tree"
)

// ContentType returns the media type an object is served with. Everything a
// tree holds is listed; anything else is generic binary.
func ContentType(p string) string {
	base := path.Base(p)
	switch {
	case strings.HasSuffix(base, tree.SigSuffix):
		return "application/octet-stream"
	case base == "SHA256SUMS":
		return "text/plain; charset=utf-8"
	}
	switch path.Ext(base) {
	case ".zst":
		return "application/zstd"
	case ".iso":
		return "application/x-iso9660-image"
	case ".tgz":
		return "application/gzip"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".pem":
		return "application/x-pem-file"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".sh":
		return "application/x-sh"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	}
	return "application/octet-stream"
}

// CacheControl returns the caching rule for a CDN in front of the bucket:
// versioned artifacts and their signatures never change under their name,
// so they are cached for a year; pages, lists, JSON, the manifest and the
// public key change with the site, so they are cached briefly.
func CacheControl(p string) string {
	if Immutable(p) {
		return "public, max-age=31536000, immutable"
	}
	return "public, max-age=300"
}

// Immutable reports whether an object's content is fixed by its name:
// artifacts and their signatures.
func Immutable(p string) bool {
	return strings.HasPrefix(p, "artifacts/")
}
