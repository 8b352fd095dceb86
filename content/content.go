// Package content renders markdown (pack readmes and the site's own pages)
// to HTML with goldmark. Raw HTML in the markdown is never passed through:
// goldmark escapes it, and drops javascript: and similar link targets.
package content

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// md is safe for concurrent use; goldmark's default renderer has raw HTML
// off (html.WithUnsafe is deliberately not set).
var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
)

// Markdown renders markdown source to HTML safe to embed in a page.
func Markdown(src []byte) (template.HTML, error) {
	var b bytes.Buffer
	if err := md.Convert(src, &b); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// Page is a markdown page of the site's content directory.
type Page struct {
	Slug  string // output folder: <slug>/index.html; "" for _index.md (the home intro)
	Title string // the first "# " heading, or the slug
	HTML  template.HTML
	File  string
}

var slugText = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Files is how the content folder is read: io/fs's interfaces over OS
// paths. A build passes the one way it reads its inputs, which refuses the
// signing key and records every read; nothing here reads any other way.
type Files interface {
	fs.ReadDirFS
}

// Options are how LoadPages reads and what a build adds to its checks.
type Options struct {
	// Files reads the folder and its pages; required when there is a folder.
	Files Files
	// Reserved maps each name a page may not take, since the site writes
	// its own file or folder there, to what that is.
	Reserved map[string]string
	// Check, when set, returns why a page's file may not be read and how
	// to fix that, or "" (the build's sources_within).
	Check func(file string) (msg, fix string)
}

// PageError is a content page that cannot be one, named by its file.
type PageError struct {
	File, Msg, Fix string
}

func (e *PageError) Error() string { return e.File + ": " + e.Msg + "; " + e.Fix }

// PageErrors is every page of a content directory that cannot be one.
type PageErrors []*PageError

func (es PageErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// LoadPages reads dir/*.md through o.Files. _index.md becomes the home
// page's introduction; every other <slug>.md a page at <slug>/index.html.
// Every page's name is checked before any is read: see CheckPages.
func LoadPages(dir string, o Options) ([]Page, error) {
	files, err := listPages(dir, o)
	if err != nil {
		return nil, err
	}
	var pages []Page
	for _, file := range files {
		slug := pageSlug(file)
		src, err := fs.ReadFile(o.Files, file)
		if err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
		html, err := Markdown(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		pages = append(pages, Page{Slug: slug, Title: title(src, slug), HTML: html, File: file})
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].Slug < pages[j].Slug })
	return pages, nil
}

// CheckPages checks the names of dir's pages without reading them; the
// bad ones come back together as PageErrors.
func CheckPages(dir string, o Options) error {
	_, err := listPages(dir, o)
	return err
}

// listPages returns dir's page files, or why some of them cannot be pages.
func listPages(dir string, o Options) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := o.Files.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	var files []string
	var bad PageErrors
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".md") {
			continue
		}
		file := filepath.Join(dir, name)
		if pe := checkPage(file, o); pe != nil {
			bad = append(bad, pe)
			continue
		}
		files = append(files, file)
	}
	if len(bad) > 0 {
		return nil, bad
	}
	return files, nil
}

// pageSlug is the folder a page file becomes: "" for _index.md.
func pageSlug(file string) string {
	slug := strings.TrimSuffix(filepath.Base(file), ".md")
	if slug == "_index" {
		return ""
	}
	return slug
}

// checkPage returns why file cannot be a page, or nil.
func checkPage(file string, o Options) *PageError {
	slug := pageSlug(file)
	switch {
	case slug == "":
	case !slugText.MatchString(slug):
		return &PageError{File: file, Msg: fmt.Sprintf("page name %q may hold only lower-case letters, digits and '-'", slug),
			Fix: "rename the file"}
	case isReserved(o.Reserved, slug):
		return &PageError{File: file, Msg: fmt.Sprintf("page name %q is a name the site uses itself: %s", slug, o.Reserved[slug]),
			Fix: "rename the file"}
	}
	if o.Check != nil {
		if msg, fix := o.Check(file); msg != "" {
			return &PageError{File: file, Msg: msg, Fix: fix}
		}
	}
	return nil
}

func title(src []byte, slug string) string {
	for _, line := range strings.Split(string(src), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return slug
}

func isReserved(reserved map[string]string, name string) bool {
	_, ok := reserved[name]
	return ok
}
