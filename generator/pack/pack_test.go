package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func packBytes(t *testing.T, src string, m Method, root string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, src, m, root, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDirectoryIsDeterministic(t *testing.T) {
	files := map[string]string{"values.yaml": "a: 1\n", "charts/x/Chart.yaml": "name: x\n", "b.txt": "bee", "empty": ""}
	a := writeTree(t, files)
	b := writeTree(t, files)
	// Different times, modes and creation order must not matter.
	os.Chtimes(filepath.Join(b, "b.txt"), time.Unix(1e9, 0), time.Unix(1e9, 0))
	os.Chmod(filepath.Join(b, "values.yaml"), 0o600)
	outA := packBytes(t, a, Zstd, "pack-1.0")
	outB := packBytes(t, b, Zstd, "pack-1.0")
	if !bytes.Equal(outA, outB) {
		t.Fatal("the same files packed to different bytes")
	}
	again := packBytes(t, a, Zstd, "pack-1.0")
	if !bytes.Equal(outA, again) {
		t.Fatal("packing twice gave different bytes")
	}
	// Content changes must change the output.
	os.WriteFile(filepath.Join(b, "b.txt"), []byte("bea"), 0o644)
	outC := packBytes(t, b, Zstd, "pack-1.0")
	if bytes.Equal(outA, outC) {
		t.Fatal("a content change did not change the artifact")
	}

	dec, _ := zstd.NewReader(bytes.NewReader(outA))
	defer dec.Close()
	raw, err := io.ReadAll(dec)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(raw))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(time.Unix(0, 0)) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" {
			t.Errorf("%s: time/owner not fixed: %v %d %d %q", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname)
		}
		if h.Typeflag == tar.TypeReg && h.Mode != 0o644 {
			t.Errorf("%s: mode %o", h.Name, h.Mode)
		}
	}
	want := "pack-1.0/ pack-1.0/b.txt pack-1.0/charts/ pack-1.0/charts/x/ pack-1.0/charts/x/Chart.yaml pack-1.0/empty pack-1.0/values.yaml"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("tar entries:\n got %s\nwant %s", got, want)
	}
}

func TestFileIsCompressedAsIs(t *testing.T) {
	dir := writeTree(t, map[string]string{"os.img": strings.Repeat("ubuntu 22.04 ", 1000)})
	out := packBytes(t, filepath.Join(dir, "os.img"), Zstd, "ignored")
	dec, _ := zstd.NewReader(bytes.NewReader(out))
	defer dec.Close()
	raw, _ := io.ReadAll(dec)
	if string(raw) != strings.Repeat("ubuntu 22.04 ", 1000) {
		t.Fatal("a file source did not round-trip")
	}
}

func TestTgzAndCopy(t *testing.T) {
	dir := writeTree(t, map[string]string{"chart/Chart.yaml": "name: palette\n", "appliance.iso": "ISO stand-in"})
	tgz := packBytes(t, filepath.Join(dir, "chart"), Tgz, "palette-4.7.3")
	tgz2 := packBytes(t, filepath.Join(dir, "chart"), Tgz, "palette-4.7.3")
	if !bytes.Equal(tgz, tgz2) {
		t.Fatal("tgz is not deterministic")
	}
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	h, err := tar.NewReader(zr).Next()
	if err != nil || h.Name != "palette-4.7.3/" {
		t.Fatalf("tgz first entry: %v %v", h, err)
	}
	iso := packBytes(t, filepath.Join(dir, "appliance.iso"), Copy, "")
	if string(iso) != "ISO stand-in" {
		t.Fatal("copy changed the bytes")
	}
	if err := Write(io.Discard, filepath.Join(dir, "chart"), Copy, "", nil); err == nil {
		t.Fatal("a directory was accepted where a file is needed")
	}
}

func TestSymlinksStayInside(t *testing.T) {
	dir := writeTree(t, map[string]string{"a/file.txt": "x"})
	if err := os.Symlink("file.txt", filepath.Join(dir, "a", "link")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if err := Write(io.Discard, filepath.Join(dir, "a"), Zstd, "p", nil); err != nil {
		t.Fatalf("an inside symlink was refused: %v", err)
	}
	os.Symlink("../../etc/passwd", filepath.Join(dir, "a", "escape"))
	if err := Write(io.Discard, filepath.Join(dir, "a"), Zstd, "p", nil); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("a symlink leaving the source was packed: %v", err)
	}
}

// TestSymlinkChainsResolved packs source folders whose links reach
// outside only through other links, which a lexical check of each
// target lets through. Each case is judged by the file system itself: a
// refused link really resolves outside the source on disk, and every
// link of an accepted tree, extracted by the real tar, resolves inside it.
func TestSymlinkChainsResolved(t *testing.T) {
	tests := []struct {
		name  string
		links [][2]string // link, target, made in order
		bad   string      // the link that must be refused; "" when all stay inside
	}{
		{"plain link", [][2]string{{"link", "sub/f"}}, ""},
		{"link to the root", [][2]string{{"sub/up", ".."}}, ""},
		{"up through a link to the parent", [][2]string{{"sub/up", ".."}, {"esc", "sub/up/.."}}, "esc"},
		{"up through a link to the root", [][2]string{{"here", "."}, {"esc", "here/.."}}, "esc"},
		{"deeper through a link", [][2]string{{"sub/up", ".."}, {"sub/in", "up/sub/f"}}, ""},
		{"a chain of links", [][2]string{{"sub/up", ".."}, {"c1", "sub/up"}, {"c2", "c1/sub/f"}}, ""},
		{"a chain out", [][2]string{{"sub/up", ".."}, {"c1", "sub/up"}, {"c2", "c1/../secret"}}, "c2"},
		{"a lexical escape", [][2]string{{"sub/esc", "../../secret"}}, "sub/esc"},
		{"an absolute target", [][2]string{{"abs", "/etc/passwd"}}, "abs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outer, err := filepath.EvalSymlinks(writeTree(t, map[string]string{"secret": "s", "src/sub/f": "f"}))
			if err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(outer, "src")
			for _, l := range tt.links {
				if err := os.Symlink(l[1], filepath.Join(src, filepath.FromSlash(l[0]))); err != nil {
					t.Skip("no symlinks here:", err)
				}
			}
			var b bytes.Buffer
			err = Write(&b, src, Tgz, "p", nil)
			if tt.bad != "" {
				real, _ := filepath.EvalSymlinks(filepath.Join(src, tt.bad))
				if rel, _ := filepath.Rel(src, real); !strings.HasPrefix(rel, "..") && real != "/etc/passwd" {
					t.Fatalf("test case is wrong: %s resolves to %s, inside the source", tt.bad, real)
				}
				want := filepath.Join(src, filepath.FromSlash(tt.bad)) + ": symlink to "
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "points outside the source directory") {
					t.Fatalf("a link resolving to %s was packed, or refused for another reason: %v", real, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("links that stay inside were refused: %v", err)
			}
			out := t.TempDir()
			tarCmd := exec.Command("tar", "-xzf", "-", "-C", out)
			tarCmd.Stdin = &b
			if msg, err := tarCmd.CombinedOutput(); err != nil {
				t.Fatalf("tar: %v: %s", err, msg)
			}
			root := filepath.Join(out, "p")
			for _, l := range tt.links {
				real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(l[0])))
				if err != nil {
					t.Fatalf("extracted link %s: %v", l[0], err)
				}
				if rel, _ := filepath.Rel(root, real); strings.HasPrefix(rel, "..") {
					t.Errorf("extracted link %s resolves to %s, outside %s", l[0], real, root)
				}
			}
		})
	}
}

// TestZstdToolAccepts checks packs with the reference zstd command line,
// including an empty file, which must still be a valid frame.
func TestZstdToolAccepts(t *testing.T) {
	zstdBin, err := exec.LookPath("zstd")
	if err != nil {
		t.Fatal("zstd is not installed; packs must pass `zstd -t`")
	}
	dir := writeTree(t, map[string]string{"d/a": "alpha", "d/b/c": strings.Repeat("c", 100000), "empty": ""})
	for _, src := range []string{filepath.Join(dir, "d"), filepath.Join(dir, "empty")} {
		out := packBytes(t, src, Zstd, "x")
		f := filepath.Join(t.TempDir(), "x.zst")
		os.WriteFile(f, out, 0o644)
		if b, err := exec.Command(zstdBin, "-t", f).CombinedOutput(); err != nil {
			t.Errorf("zstd -t %s: %v\n%s", src, err, b)
		}
	}
}

func TestFingerprintNoticesChanges(t *testing.T) {
	dir := writeTree(t, map[string]string{"a": "1", "b/c": "2"})
	f1, _ := Fingerprint(dir)
	f2, _ := Fingerprint(dir)
	if f1 != f2 {
		t.Fatal("fingerprint is not stable")
	}
	os.WriteFile(filepath.Join(dir, "b", "c"), []byte("22"), 0o644)
	if f3, _ := Fingerprint(dir); f3 == f1 {
		t.Fatal("fingerprint missed a size change")
	}
}

// TestSymlinkedSourceIsFollowed: a source that is a link to a directory
// packs as that directory, and its fingerprint follows the contents.
func TestSymlinkedSourceIsFollowed(t *testing.T) {
	dir := writeTree(t, map[string]string{"real/a.txt": "a", "real/sub/b.txt": "b"})
	link := filepath.Join(dir, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	viaDir := packBytes(t, filepath.Join(dir, "real"), Zstd, "p-1")
	viaLink := packBytes(t, link, Zstd, "p-1")
	if !bytes.Equal(viaDir, viaLink) {
		t.Error("a symlinked directory packs differently from the directory")
	}
	before, err := Fingerprint(link)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "real/sub/b.txt"), []byte("changed"), 0o644)
	if after, _ := Fingerprint(link); after == before {
		t.Error("the fingerprint of a symlinked directory ignores its contents")
	}
}
