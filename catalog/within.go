package catalog

import (
	"fmt"
	"path/filepath"
	"strings"
)

// sourcesWithin is LoadOptions.SourcesWithin: the directory as written
// (for messages) and where it really is.
type sourcesWithin struct {
	dir, real string
}

// check returns why the source at p is not inside the directory once its
// links are resolved, or "". A folder's own links need no check here: the
// packer keeps only those that stay inside the folder.
func (w *sourcesWithin) check(p string) string {
	if w.real == "" {
		return fmt.Sprintf("cannot be checked: sources_within %s does not exist", w.dir)
	}
	real, err := RealPath(p)
	if err != nil {
		return fmt.Sprintf("cannot be resolved: %v", unwrapPathError(err))
	}
	if !Within(real, w.real) {
		if abs, _ := filepath.Abs(p); real != abs {
			return fmt.Sprintf("leads to %s, outside sources_within %s", real, w.dir)
		}
		return fmt.Sprintf("is outside sources_within %s", w.dir)
	}
	return ""
}

// RealPath is where p really is: absolute, every link resolved.
func RealPath(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return filepath.Abs(real)
}

// Within reports whether the path p is dir or inside it, by their text:
// resolve links first (filepath.EvalSymlinks) to compare where they are.
func Within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
