package serve

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
)

// leftOutServer serves a partial mirror whose note (tree.MirrorNotePath)
// holds note.
func leftOutServer(t *testing.T, note []byte) (*httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"index.html":                  []byte("home"),
		"artifacts/packs/a/a-1.zst":   []byte("kept"),
		tree.MirrorNotePath:           note,
		"artifacts/packs/c/other.txt": []byte("x"),
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, data, 0o644)
	}
	h, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, dir
}

// A request for an artifact the mirror left out answers 404 with a page
// that says so and shows how to fetch it; anything else missing stays a
// plain 404, and what the note says is shown as text, never as markup.
func TestLeftOutArtifactPage(t *testing.T) {
	hostile := "artifacts/packs/b/b-<img src=x onerror=alert(1)>.zst"
	note, err := tree.MirrorNote{Source: "https://packs.example.com/site/", Filter: "--bundle bundle.json",
		LeftOut: []string{"artifacts/packs/b/b-2.0.zst", "artifacts/packs/b/b-2.0.sig.bin", hostile}}.Render()
	if err != nil {
		t.Fatal(err)
	}
	srv, dir := leftOutServer(t, note)

	resp, body := get(t, srv.URL+"/artifacts/packs/b/b-2.0.zst", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("left-out artifact: %s %s, want 404 text/html", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"Not in this mirror", "left it out by choice", "<code>--bundle bundle.json</code>",
		"curl -fsSO https://packs.example.com/site/artifacts/packs/b/b-2.0.zst\ncurl -fsSO https://packs.example.com/site/artifacts/packs/b/b-2.0.sig.bin",
		"packstudio mirror https://packs.example.com/site/ DEST --bundle bundle.json   # with \"b@2.0\" in"} {
		if !strings.Contains(body, want) {
			t.Errorf("left-out page does not say %q:\n%s", want, body)
		}
	}
	if resp, body := get(t, srv.URL+"/artifacts/packs/b/b-"+strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20").Replace(hostile[len("artifacts/packs/b/b-"):]), nil); resp.StatusCode != 404 || strings.Contains(body, "<img") {
		t.Errorf("a hostile name in the note: %s, markup in the page:\n%s", resp.Status, body)
	}
	for _, p := range []string{"/artifacts/packs/b/b-3.0.zst", "/nothing.html"} {
		if resp, body := get(t, srv.URL+p, nil); resp.StatusCode != 404 || strings.Contains(body, "mirror") {
			t.Errorf("%s (not left out): %s %q, want a plain 404", p, resp.Status, body)
		}
	}
	if resp, body := get(t, srv.URL+"/artifacts/packs/a/a-1.zst", nil); resp.StatusCode != 200 || body != "kept" {
		t.Errorf("a held artifact: %s %q", resp.Status, body)
	}

	// A note that is not packstudio's marks nothing: the page is a plain 404.
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(tree.MirrorNotePath)), append(note, "alert(1);\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, srv.URL+"/artifacts/packs/b/b-2.0.zst", nil); resp.StatusCode != 404 || strings.Contains(body, "mirror") {
		t.Errorf("with a tampered note: %s %q, want a plain 404", resp.Status, body)
	}
}
