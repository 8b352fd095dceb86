package generator

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestNoStaleGoldenFiles: every file under testdata/golden is one that
// TestGolden compares, so a page that is no longer checked leaves no
// golden file behind to mislead a reader; -update removes the strays.
func TestNoStaleGoldenFiles(t *testing.T) {
	t.Parallel()
	want := map[string]bool{}
	for _, f := range goldenFiles {
		want[filepath.FromSlash(f)] = true
	}
	root := filepath.Join("testdata", "golden")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if want[rel] {
			return nil
		}
		if *update {
			return os.Remove(p)
		}
		t.Errorf("%s is not a golden file TestGolden compares: remove it, or run go test ./generator -run TestNoStaleGoldenFiles -update", p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if *update { // folders the removals emptied
		removeEmptyDirs(root)
	}
}

func removeEmptyDirs(dir string) {
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if e.IsDir() {
			removeEmptyDirs(filepath.Join(dir, e.Name()))
		}
	}
	os.Remove(dir) // fails, as wanted, unless empty
}
