package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildsReadOnlyWhatChanged counts, through the tree's own counter,
// the output files a build opens to compare: none on a fresh build, none
// on a rebuild with nothing changed (the last manifest and the stamps
// recorded in the cache say what every file holds), none into a deleted
// tree.
func TestBuildsReadOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	first := s.mustBuild()
	if first.FilesCompared != 0 || first.FilesWritten == 0 {
		t.Errorf("fresh build: %d files compared, %d written; want 0 compared", first.FilesCompared, first.FilesWritten)
	}
	before := snapshot(t, s.out(""))
	second := s.mustBuild()
	// Every file but the artifacts, which the artifact cache vouches for.
	pages := first.FilesWritten - int64(first.Packed)
	if second.FilesCompared != 0 || second.FilesWritten != 0 || second.FilesUnchanged != pages {
		t.Errorf("unchanged rebuild: %d compared, %d written, %d unchanged; want 0, 0, %d", second.FilesCompared, second.FilesWritten, second.FilesUnchanged, pages)
	}
	if changed := snapshot(t, s.out("")).diff(before); len(changed) > 0 {
		t.Errorf("unchanged rebuild touched %v", changed)
	}
	os.RemoveAll(s.out(""))
	third := s.mustBuild()
	if third.FilesCompared != 0 || third.FilesWritten != first.FilesWritten {
		t.Errorf("build into a deleted tree: %d compared, %d written; want 0, %d", third.FilesCompared, third.FilesWritten, first.FilesWritten)
	}
}

// TestHandEditedOutputIsRestored edits a page in the output (new content,
// new size): the next build reads that file only and writes it back.
func TestHandEditedOutputIsRestored(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.mustBuild()
	const page = "packs/ubuntu/index.html"
	want := s.read(page)
	if err := os.WriteFile(s.out(page), []byte("defaced"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := s.mustBuild()
	if got := s.read(page); got != want {
		t.Fatalf("the edited page was not restored: %q", got[:min(len(got), 40)])
	}
	if st.FilesWritten != 1 || st.FilesCompared != 1 {
		t.Errorf("restoring one page: %d written, %d compared; want 1, 1", st.FilesWritten, st.FilesCompared)
	}
}

// TestCheckOutputCatchesHiddenEdits edits a page and an artifact in place
// keeping size, time and inode. A plain rebuild trusts them (that is what
// makes it cheap, and why this edit needs the flag); --check-output reads
// every file and restores both.
func TestCheckOutputCatchesHiddenEdits(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	first := s.mustBuild()
	files := []string{"packs/ubuntu/index.html", "artifacts/packs/ubuntu/ubuntu-22.04.zst"}
	want := map[string]string{}
	for _, f := range files {
		want[f] = s.read(f)
		hideEdit(t, s.out(f))
	}
	if st := s.mustBuild(); st.FilesWritten != 0 || st.Packed != 0 {
		t.Fatalf("a rebuild noticed an edit that kept size, time and inode (%d written, %d packed): the stamps are not what decides", st.FilesWritten, st.Packed)
	}
	s.checkOutput = true
	st := s.mustBuild()
	for _, f := range files {
		if s.read(f) != want[f] {
			t.Errorf("--check-output left the edit in %s", f)
		}
	}
	// Every file is read: the pages, and the artifacts to hash them.
	if st.FilesWritten != 2 || st.Packed != 1 || st.FilesCompared < first.FilesWritten {
		t.Errorf("--check-output: %d written, %d packed, %d compared; want 2, 1, at least %d", st.FilesWritten, st.Packed, st.FilesCompared, first.FilesWritten)
	}
}

// hideEdit changes one byte of the file in place and puts its time back.
func hideEdit(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	f.ReadAt(b, fi.Size()/2)
	b[0] ^= 0x20
	if _, err := f.WriteAt(b, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// TestSymlinkInTheWayIsNotFollowed replaces an output directory with a
// link to a directory outside the tree: the build must not write there.
func TestSymlinkInTheWayIsNotFollowed(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.mustBuild()
	outside := t.TempDir()
	dir := s.out("packs/ubuntu")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, dir); err != nil {
		t.Fatal(err)
	}
	_, err := s.build()
	if err == nil || !strings.Contains(err.Error(), filepath.Join("packs", "ubuntu")+" is in the way") {
		t.Errorf("build over a linked directory: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) > 0 {
		t.Errorf("the build wrote %d files through the link", len(entries))
	}
}

// TestOnlyNewFoldersAreWrittenInPlace: a file in a folder this build made
// is created where it belongs (no page from before links into that
// folder); a file in a folder that was there goes through the temp folder
// and a rename, since a reader may hold a link to it. With the temp folder
// taken away, only the second kind of write fails.
func TestOnlyNewFoldersAreWrittenInPlace(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	tr, err := openTree(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(tr.tmp); err != nil {
		t.Fatal(err)
	}
	if err := tr.write("new/deep/a.html", []byte("a")); err != nil {
		t.Errorf("a file in a new folder: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(root, "new", "deep", "a.html")); string(got) != "a" {
		t.Errorf("a file in a new folder holds %q (%v)", got, err)
	}
	for _, rel := range []string{"old/b.html", "c.html"} {
		if err := tr.write(rel, []byte("b")); err == nil {
			t.Errorf("%s, in a folder that was there, did not go through the temp folder", rel)
		}
		if _, err := os.Lstat(filepath.Join(root, rel)); err == nil {
			t.Errorf("%s was written in place", rel)
		}
	}

	// A new output folder: every file in place, and a file written twice
	// in one build is replaced (by rename), not left as it was.
	fresh, err := openTree(filepath.Join(t.TempDir(), "public"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.write("index.html", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := fresh.write("index.html", []byte("second")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(fresh.root, "index.html")
	if got, _ := os.ReadFile(p); string(got) != "second" {
		t.Errorf("written twice, the file holds %q, want the second", got)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v (%v), want 0644", fi.Mode().Perm(), err)
	}
}
