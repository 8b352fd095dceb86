package content

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMarkdownDropsRawHTML(t *testing.T) {
	tests := []struct {
		name, src   string
		want, avoid string
	}{
		{"script block", "# Hi\n\n<script>alert(1)</script>\n", "<h1", "<script"},
		{"inline html", "text <img src=x onerror=alert(1)> more\n", "text", "<img"},
		{"javascript link", "[x](javascript:alert(1))\n", "<a", "javascript:"},
		{"table from GFM", "| a | b |\n|---|---|\n| 1 | 2 |\n", "<table>", "<script"},
		{"fenced code keeps text", "```\n<b>bold</b>\n```\n", "&lt;b&gt;", "<b>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			html, err := Markdown([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(html), tt.want) {
				t.Errorf("missing %q in %s", tt.want, html)
			}
			if strings.Contains(string(html), tt.avoid) {
				t.Errorf("%q got through: %s", tt.avoid, html)
			}
		})
	}
}

func TestLoadPages(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "_index.md"), []byte("Welcome *here*.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "about.md"), []byte("# About us\n\nText.\n"), 0o644)
	pages, err := LoadPages(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0].Slug != "" || pages[1].Slug != "about" || pages[1].Title != "About us" {
		t.Fatalf("pages: %+v", pages)
	}
	if !strings.Contains(string(pages[0].HTML), "<em>here</em>") {
		t.Errorf("home intro not rendered: %s", pages[0].HTML)
	}
	os.WriteFile(filepath.Join(dir, "browse.md"), []byte("x"), 0o644)
	if _, err := LoadPages(dir, nil); err == nil || !strings.Contains(err.Error(), "browse.md") {
		t.Errorf("a page named like a reserved folder was accepted: %v", err)
	}
}
