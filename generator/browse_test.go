package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/catalog"
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

// choicesByTemplate is the same for the pack versions of a bundle
// builder's layer, which a theme's bundle.html may range over as .Packs.
const choicesByTemplate = `
{{- $layer := .}}
{{- range .Packs}}
<li><a href="{{.Href}}">{{.DisplayName}}</a>{{with .Name}} <small>{{.}}</small>{{end}}
<ul>
{{- range .Entries}}
<li><label><input type="{{if $layer.Multiple}}checkbox{{else}}radio{{end}}" name="{{$layer.ID}}" value="{{.ID}}"> {{.Label}}</label>
<small>{{.Arch}}{{if .FIPS}} · <span class="tag">FIPS</span>{{end}} · {{.Size}}{{range .Rules}} · {{.}}{{end}}</small>
<a href="{{.Href}}">.zst</a> <a href="{{.SigHref}}">.sig.bin</a></li>
{{- end}}
</ul></li>
{{- else}}
<li class="empty">No {{.Name}} pack version is offered here.</li>
{{- end}}`

// TestSidebarIsWhatTheTemplateMade builds the site with the built-in
// browse.html, then with a theme whose browse.html renders .Facets
// through html/template: the sidebar of every browse page must be the
// same bytes, so a theme keeps its facets and the built-in markup did not
// drift when it moved out of the template.
func TestSidebarIsWhatTheTemplateMade(t *testing.T) {
	t.Parallel()
	sameAsTemplate(t, "browse.html", "{{.Sidebar}}", facetsByTemplate, "browse", `<nav class="facets"`, "</nav>", "<li><a href=")
}

// TestBuilderChoicesAreWhatTheTemplateMade does the same for every bundle
// builder's list of pack versions.
func TestBuilderChoicesAreWhatTheTemplateMade(t *testing.T) {
	t.Parallel()
	sameAsTemplate(t, "bundle.html", "{{- .Choices}}", choicesByTemplate, "bundle", `<form id="bundle"`, "</form>", `<input type="checkbox"`)
}

// sameAsTemplate builds the site, then again with a theme whose template
// name has placeholder replaced by markup, and compares the part from
// start to end of every page under dir that has it: it must be the same
// bytes both times, and hold want.
func sameAsTemplate(t *testing.T, name, placeholder, markup, dir, start, end, want string) {
	s := newSite(t)
	s.mustBuild()
	pages := pagesUnder(t, s, dir, start)
	builtIn := map[string]string{}
	for _, p := range pages {
		builtIn[p] = partOf(t, s.read(p), start, end)
	}

	tmpl, err := os.ReadFile("../theme/templates/" + name)
	if err != nil {
		t.Fatal(err)
	}
	themed := strings.Replace(string(tmpl), placeholder, markup, 1)
	if themed == string(tmpl) {
		t.Fatalf("the built-in %s no longer holds %s", name, placeholder)
	}
	writeFile(t, s.path("theme/templates/"+name), themed)
	s.edit("site.toml", `content = "content"`, "content = \"content\"\ntheme = \"theme\"")
	s.mustBuild()
	found := false
	for _, p := range pages {
		got := partOf(t, s.read(p), start, end)
		found = found || strings.Contains(got, want)
		if got != builtIn[p] {
			t.Fatalf("%s: the built-in markup differs from the template's:\nbuilt-in:\n%s\ntemplate:\n%s", p, builtIn[p], got)
		}
	}
	if !found {
		t.Fatalf("no page under %s holds %q", dir, want)
	}
}

// pagesUnder lists the index.html files under dir of the built site that
// hold start.
func pagesUnder(t *testing.T, s *site, dir, start string) []string {
	t.Helper()
	var pages []string
	err := filepath.WalkDir(s.out(dir), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "index.html" {
			return err
		}
		rel, _ := filepath.Rel(s.out(""), p)
		if data, err := os.ReadFile(p); err == nil && strings.Contains(string(data), start) {
			pages = append(pages, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil || len(pages) < 2 {
		t.Fatalf("found %d pages under %s with %s: %v", len(pages), dir, start, err)
	}
	return pages
}

func partOf(t *testing.T, page, start, end string) string {
	t.Helper()
	i := strings.Index(page, start)
	j := strings.Index(page[max(i, 0):], end)
	if i < 0 || j < 0 {
		t.Fatalf("no %s…%s in the page:\n%s", start, end, page)
	}
	return page[i : i+j]
}

// TestLookAlikeDisplayNamesAreShared: a display name spelled with a
// Cyrillic letter, in another case or with other spacing is the same name
// to a reader, so every pack of it shows its pack name.
func TestLookAlikeDisplayNamesAreShared(t *testing.T) {
	packs := []*catalog.Pack{{Name: "calico", DisplayName: "Calico"}, {Name: "evil", DisplayName: "C\u0430lico"},
		{Name: "a", DisplayName: "Local Path"}, {Name: "b", DisplayName: "local-path"}, {Name: "c", DisplayName: "Cilium"}}
	shared := sharedDisplayNames(packs)
	for _, p := range packs {
		want := p.Name != "c"
		if got := shared[nameSkeleton(p.DisplayName)]; got != want {
			t.Errorf("%s (%q): shared %v, want %v", p.Name, p.DisplayName, got, want)
		}
	}
}
