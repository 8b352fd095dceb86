package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// facetsByTemplate is the sidebar markup the built-in browse.html made
// with html/template before the builder wrote it itself; a theme's own
// browse.html may still range over .Facets this way.
const facetsByTemplate = `
{{- range .Facets}}
<section>
<h2>{{.Name}}</h2>
<ul>
{{- range .Values}}
<li><a href="{{.Href}}"{{if .Current}} aria-current="true"{{end}}{{if not .Count}} class="none"{{end}}>{{.Label}} <span class="n">{{.Count}}</span></a></li>
{{- end}}
</ul>
</section>
{{- end}}`

// TestSidebarIsWhatTheTemplateMade builds the site with the built-in
// browse.html, then with a theme whose browse.html renders .Facets
// through html/template: the sidebar of every browse page must be the
// same bytes, so a theme keeps its facets and the built-in markup did not
// drift when it moved out of the template.
func TestSidebarIsWhatTheTemplateMade(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.mustBuild()
	pages := browsePages(t, s)
	builtIn := map[string]string{}
	for _, p := range pages {
		builtIn[p] = navOf(t, s.read(p))
	}

	tmpl, err := os.ReadFile("../theme/templates/browse.html")
	if err != nil {
		t.Fatal(err)
	}
	themed := strings.Replace(string(tmpl), "{{.Sidebar}}", facetsByTemplate, 1)
	if themed == string(tmpl) {
		t.Fatal("the built-in browse.html no longer shows {{.Sidebar}}")
	}
	writeFile(t, s.path("theme/templates/browse.html"), themed)
	s.edit("site.toml", `content = "content"`, "content = \"content\"\ntheme = \"theme\"")
	s.mustBuild()
	for _, p := range pages {
		got := navOf(t, s.read(p))
		if !strings.Contains(got, "<li><a href=") {
			t.Fatalf("%s: the themed sidebar has no facet links:\n%s", p, got)
		}
		if got != builtIn[p] {
			t.Fatalf("%s: the built-in sidebar differs from .Facets through the template:\nbuilt-in:\n%s\ntemplate:\n%s", p, builtIn[p], got)
		}
	}
}

// browsePages lists the browse index.html files of the built site.
func browsePages(t *testing.T, s *site) []string {
	t.Helper()
	var pages []string
	err := filepath.WalkDir(s.out("browse"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "index.html" {
			rel, _ := filepath.Rel(s.out(""), p)
			pages = append(pages, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil || len(pages) < 10 {
		t.Fatalf("found %d browse pages: %v", len(pages), err)
	}
	return pages
}

func navOf(t *testing.T, page string) string {
	t.Helper()
	start := strings.Index(page, `<nav class="facets"`)
	end := strings.Index(page[max(start, 0):], "</nav>")
	if start < 0 || end < 0 {
		t.Fatalf("no facet sidebar in the page:\n%s", page)
	}
	return page[start : start+end]
}
