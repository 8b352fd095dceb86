package keyguard

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/packstudio/packstudio/internal/sign"
)

// TestRecordingSeesEveryOpenedFile: a recording guard reports each file it
// opens, links followed (the file the link resolves to), still refuses the
// key, and the guard it was made from records nothing.
func TestRecordingSeesEveryOpenedFile(t *testing.T) {
	dir := t.TempDir()
	key, _, err := sign.GenerateKey(sign.ECDSAP256, nil)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, page, link := filepath.Join(dir, "site.pem"), filepath.Join(dir, "page.md"), filepath.Join(dir, "link.md")
	os.WriteFile(keyFile, key, 0o600)
	os.WriteFile(page, []byte("# page\n"), 0o644)
	if err := os.Symlink(page, link); err != nil {
		t.Fatal(err)
	}
	plain, err := New(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen, calls := map[string]fs.FileInfo{}, 0
	g := plain.Recording(func(name string, fi fs.FileInfo) {
		mu.Lock()
		seen[name] = fi
		calls++
		mu.Unlock()
	})
	for _, f := range []string{page, link} {
		if _, err := g.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	var ke *Error
	if _, err := g.ReadFile(keyFile); !errors.As(err, &ke) {
		t.Errorf("the recording guard opened the key: %v", err)
	}
	want, _ := os.Stat(page)
	if len(seen) != 2 || !os.SameFile(seen[page], want) || !os.SameFile(seen[link], want) || seen[link].Mode().Type() != 0 {
		t.Errorf("recorded %v; want page.md and link.md, both as the page file", seen)
	}
	if _, err := plain.ReadFile(page); err != nil || calls != 2 {
		t.Errorf("%d files recorded after the plain guard read one more (%v); want 2", calls, err)
	}
}
