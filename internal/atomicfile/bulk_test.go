package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPutFreshWritesInPlace: a fresh folder's file is created at its path
// without touching tmp; a second Put of the same path (written twice in
// one run) falls back to tmp and a rename, and the stamp is the file's.
func TestPutFreshWritesInPlace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.html")
	tmp := filepath.Join(dir, "no-such-folder", "w-1") // unusable: must not be needed
	st, err := Put(path, tmp, []byte("first"), true, false)
	if err != nil {
		t.Fatalf("fresh Put went through tmp: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || StampOf(fi) != st || st.Size != 5 {
		t.Fatalf("stamp %+v, file %v (%v)", st, fi, err)
	}
	if _, err := Put(path, tmp, []byte("second"), true, false); err == nil {
		t.Fatal("second Put of one path did not fall back to tmp (tmp's folder is missing, so it must fail)")
	}
	tmp = filepath.Join(dir, "w-2")
	if _, err := Put(path, tmp, []byte("second"), true, false); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "second" {
		t.Fatalf("path holds %q", data)
	}
	if _, err := os.Lstat(tmp); !os.IsNotExist(err) {
		t.Fatalf("tmp left behind: %v", err)
	}
}

// TestPutNotFreshGoesThroughTmp: in a folder that was there before, the
// file is never opened at its path: a reader of the old file keeps it
// whole, and a symlink planted at the path is replaced, not followed.
func TestPutNotFreshGoesThroughTmp(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "page.html")
	if err := os.Symlink(outside, path); err != nil {
		t.Fatal(err)
	}
	if _, err := Put(path, filepath.Join(dir, "w-1"), []byte("new"), false, true); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(outside); string(data) != "keep" {
		t.Fatalf("write went through the link: %q", data)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("path is %v (%v), want a regular 0644 file", fi, err)
	}
}

// TestPutFreshNeverFollowsALink: even in place, a link at the path is not
// written through.
func TestPutFreshNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(outside, []byte("keep"), 0o644)
	path := filepath.Join(dir, "page.html")
	os.Symlink(outside, path)
	if _, err := Put(path, filepath.Join(dir, "w-1"), []byte("new"), true, false); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(outside); string(data) != "keep" {
		t.Fatalf("write went through the link: %q", data)
	}
}
