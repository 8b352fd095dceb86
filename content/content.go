// Package content renders markdown (pack readmes and the site's own pages)
// to HTML with goldmark. Raw HTML in the markdown is never passed through:
// goldmark escapes it, and drops javascript: and similar link targets.
package content

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"os"
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

// Reserved are top-level names of the output tree a page may not take.
var Reserved = []string{"assets", "artifacts", "browse", "bundle", "compat", "packs", "releases", "verify", "all"}

// Opener opens a file to read. A build passes its key guard's, which
// refuses the signing key; nil means os.Open.
type Opener func(name string) (io.ReadCloser, error)

// LoadPages reads dir/*.md through open. _index.md becomes the home page's
// introduction; every other <slug>.md a page at <slug>/index.html.
func LoadPages(dir string, open Opener) ([]Page, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	var pages []Page
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".md") {
			continue
		}
		file := filepath.Join(dir, name)
		slug := strings.TrimSuffix(name, ".md")
		if slug == "_index" {
			slug = ""
		} else if !slugText.MatchString(slug) || contains(Reserved, slug) {
			return nil, fmt.Errorf("%s: page name %q must be lower-case letters, digits and '-', and not one of %s; rename the file",
				file, slug, strings.Join(Reserved, ", "))
		}
		src, err := readFile(open, file)
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

func readFile(open Opener, name string) ([]byte, error) {
	if open == nil {
		return os.ReadFile(name)
	}
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func title(src []byte, slug string) string {
	for _, line := range strings.Split(string(src), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return slug
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
