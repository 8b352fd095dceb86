package content

import (
	"errors"
	"io/fs"
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
	pages, err := LoadPages(".", Options{Files: os.DirFS(dir).(Files)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 || pages[0].Slug != "" || pages[1].Slug != "about" || pages[1].Title != "About us" {
		t.Fatalf("pages: %+v", pages)
	}
	if !strings.Contains(string(pages[0].HTML), "<em>here</em>") {
		t.Errorf("home intro not rendered: %s", pages[0].HTML)
	}
}

// TestLoadPagesRefusesNames: a page named like a file or folder the site
// writes itself, or with a name that is no slug, or that Check refuses, is
// refused by its file with a fix, all of them at once and before any page
// is read.
func TestLoadPagesRefusesNames(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"about.md": "# About", "search.md": "# Search", "Bad Name.md": "x", "secret.md": "x"} {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	files := &openLog{Files: os.DirFS(dir).(Files)}
	o := Options{
		Reserved: map[string]string{"search": "the search page (search/)"},
		Files:    files,
		Check: func(file string) (string, string) {
			if filepath.Base(file) == "secret.md" {
				return "is outside sources_within", "move it"
			}
			return "", ""
		},
	}
	_, err := LoadPages(".", o)
	var pe PageErrors
	if !errors.As(err, &pe) {
		t.Fatalf("want PageErrors, got %v", err)
	}
	msg := err.Error()
	want := `Bad Name.md: page name "Bad Name" may hold only lower-case letters, digits and '-'; rename the file
search.md: page name "search" is a name the site uses itself: the search page (search/); rename the file
secret.md: is outside sources_within; move it`
	if msg != want {
		t.Errorf("got\n%s\nwant\n%s", msg, want)
	}
	if len(files.opened) > 0 {
		t.Errorf("pages were read before their names were checked: %v", files.opened)
	}
}

// openLog remembers which files were opened.
type openLog struct {
	Files
	opened []string
}

func (l *openLog) Open(name string) (fs.File, error) {
	l.opened = append(l.opened, name)
	return l.Files.Open(name)
}
