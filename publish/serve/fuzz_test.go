package serve

import (
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCleanPath: any request path is refused or maps inside the tree to
// the resource it names, with no dot segment, backslash or NUL, so the
// handler never opens anything outside the tree or a dot-file.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/index.html", "/browse/all/", "/browse/all", "/artifacts/packs/a/a-1.zst",
		"/../etc/passwd", "/a/../../b", "//etc/passwd", "/.packstudio-tmp/f-123", "/a/.x/b", "/a/./b/", "/a\\..\\b", "/a%2e%2e/b", "/a\x00b", "relative"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, ok := cleanPath(raw)
		if !ok {
			return
		}
		if p == "" {
			if path.Clean(raw) != "/" {
				t.Fatalf("%q maps to the root", raw)
			}
			return
		}
		file := strings.TrimSuffix(p, "/")
		if !filepath.IsLocal(file) || strings.ContainsAny(file, "\\\x00") {
			t.Fatalf("%q maps to %q, not a path inside the tree", raw, p)
		}
		for _, seg := range strings.Split(file, "/") {
			if seg == "" || strings.HasPrefix(seg, ".") {
				t.Fatalf("%q maps to %q, which has an empty or dot segment", raw, p)
			}
		}
		if path.Clean("/"+p) != path.Clean(raw) {
			t.Fatalf("%q maps to %q, another resource", raw, p)
		}
		if strings.HasSuffix(p, "/") != strings.HasSuffix(raw, "/") {
			t.Fatalf("%q maps to %q: the trailing slash changed", raw, p)
		}
	})
}
