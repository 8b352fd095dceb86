package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestTargetUnchangedUntilCommit: until Commit the target keeps its old
// bytes; Commit replaces it whole with the new mode; Abort leaves no trace.
func TestTargetUnchangedUntilCommit(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "volume-001.tar")
	os.WriteFile(target, []byte("old"), 0o600)
	f, err := Create(target)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new and longer"))
	if data, _ := os.ReadFile(target); string(data) != "old" {
		t.Fatalf("target changed before Commit: %q", data)
	}
	if err := f.Commit(0o644); err != nil {
		t.Fatal(err)
	}
	f.Abort() // after Commit: nothing
	data, _ := os.ReadFile(target)
	fi, _ := os.Stat(target)
	if string(data) != "new and longer" || fi.Mode().Perm() != 0o644 {
		t.Fatalf("after Commit: %q, mode %v", data, fi.Mode().Perm())
	}
	g, _ := Create(target)
	g.Write([]byte("abandoned"))
	g.Abort()
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("after Abort the directory holds %v, want only the target", names)
	}
	if data, _ := os.ReadFile(target); string(data) != "new and longer" {
		t.Errorf("Abort changed the target: %q", data)
	}
}

// TestCreateInStaysInsideTheRoot: a folder of the root swapped for a
// symlink to outside cannot lead the rename there.
func TestCreateInStaysInsideTheRoot(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	os.Mkdir(filepath.Join(dir, ".tmp"), 0o755)
	os.Symlink(outside, filepath.Join(dir, "packs"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	f, err := CreateIn(root, ".tmp", filepath.Join("packs", "x.html"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	if err := f.Commit(0o644); err == nil {
		t.Fatal("Commit renamed through a symlink out of the root")
	}
	if names := entries(t, outside); len(names) != 0 {
		t.Errorf("outside the root: %v", names)
	}
	if names := entries(t, filepath.Join(dir, ".tmp")); len(names) != 0 {
		t.Errorf("temp files left after a failed Commit: %v", names)
	}
	g, _ := CreateIn(root, ".tmp", "index.html")
	g.Write([]byte("<p>"))
	if err := g.Commit(0o644); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "index.html")); string(data) != "<p>" {
		t.Errorf("index.html = %q", data)
	}
}
