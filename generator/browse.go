package generator

import (
	"bytes"
	"context"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
)

// fragments are the pieces of browse files for each pack version, made
// once and copied into every combination that lists it, so the cost of a
// browse file is the cost of copying its rows.
type fragments struct {
	packHead map[*catalog.Pack][]byte // HTML row head, written when the pack changes
	html     [][]byte                 // HTML version link
	json     [][]byte
	urls     [][]byte
	sums     [][]byte
}

func (b *builder) fragments() *fragments {
	n := len(b.cat.Versions)
	f := &fragments{packHead: map[*catalog.Pack][]byte{}, html: make([][]byte, n), json: make([][]byte, n), urls: make([][]byte, n), sums: make([][]byte, n)}
	shared := sharedDisplayNames(b.cat.Packs)
	for _, p := range b.cat.Packs {
		f.packHead[p] = b.packHead(p, shared[nameSkeleton(p.DisplayName)])
	}
	for i, v := range b.cat.Versions {
		a := b.packArtifacts[i]
		// Each version links to its artifact and nothing more: the row
		// repeats in many combinations, so its bytes count many times.
		// browse.js adds the signature link (the same path ending in
		// .sig.bin), the "name@version" pick and the copied URL list.
		link := `<a href="` + template.HTMLEscapeString(a.Path) + `">` + template.HTMLEscapeString(v.Version.Raw) + "</a>"
		if v.FIPS { // in words, not only bold: a screen reader says it
			link = "<b>" + link + " FIPS</b>"
		}
		f.html[i] = []byte(" " + link)
		var j bytes.Buffer
		j.WriteString(`{"name":`)
		j.WriteString(jsonString(v.Pack.Name))
		j.WriteString(`,"version":`)
		j.WriteString(jsonString(v.Version.Raw))
		j.WriteByte('}')
		f.json[i] = j.Bytes()
		f.urls[i] = []byte(b.url(a.Path) + "\n" + b.url(a.SigPath) + "\n")
		f.sums[i] = []byte(a.SHA256 + "  " + a.Name() + "\n")
	}
	return f
}

// packHead is the start of a pack's browse row. data-pack names the pack
// for scripts. A display name that several packs share (six "Ubuntu" packs)
// is followed by what tells them apart: the pack name and its clouds.
func (b *builder) packHead(p *catalog.Pack, ambiguous bool) []byte {
	var h strings.Builder
	h.WriteString("\n<tr data-pack=\"" + template.HTMLEscapeString(p.Name) + "\"><th scope=\"row\"><a href=\"" + template.HTMLEscapeString(packPage(p.Name)) + "\">" +
		template.HTMLEscapeString(p.DisplayName) + "</a>")
	if ambiguous {
		h.WriteString(" <small>" + template.HTMLEscapeString(p.Name+" · "+strings.Join(packCloudNames(b.cat.Clouds, p), ", ")) + "</small>")
	}
	h.WriteString("<td>" + template.HTMLEscapeString(b.cat.Layers[p.LayerOrder].Name) + "<td>")
	return []byte(h.String())
}

// sharedDisplayNames returns the skeletons (nameSkeleton) of display names
// that more than one pack has, so that "Ubuntu" and "ubuntu", or a Latin
// name and its twin spelled with a Cyrillic letter, both show their pack.
func sharedDisplayNames(packs []*catalog.Pack) map[string]bool {
	seen := map[string]int{}
	for _, p := range packs {
		seen[nameSkeleton(p.DisplayName)]++
	}
	shared := map[string]bool{}
	for name, n := range seen {
		if n > 1 {
			shared[name] = true
		}
	}
	return shared
}

// nameSkeleton is what a display name looks like to a reader: lower case,
// letters that look like Latin ones (Cyrillic, Greek, full-width) as those,
// and without spaces, punctuation and invisible characters. Two names of
// one skeleton cannot be told apart on a page.
func nameSkeleton(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		if l, ok := latinTwin[r]; ok {
			r = l
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// latinTwin maps the lower-case letters of other scripts that render like a
// Latin letter (the common part of Unicode's confusables list) to it.
var latinTwin = map[rune]rune{
	'а': 'a', 'в': 'b', 'с': 'c', 'ԁ': 'd', 'е': 'e', 'ё': 'e', 'һ': 'h', 'і': 'i', 'ї': 'i', 'ј': 'j',
	'к': 'k', 'ӏ': 'l', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'ԛ': 'q', 'ѕ': 's', 'т': 't', 'ц': 'u',
	'ѵ': 'v', 'ԝ': 'w', 'х': 'x', 'у': 'y', 'ӯ': 'y', 'ʏ': 'y',
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'γ': 'y',
	'ı': 'i', 'ℓ': 'l', '0': 'o', '1': 'l',
}

// packCloudNames returns, in catalog order, the names of the clouds any
// version of p is offered for.
func packCloudNames(clouds []catalog.Facet, p *catalog.Pack) []string {
	var names []string
	for _, c := range clouds {
		if slices.ContainsFunc(p.Versions, func(v *catalog.PackVersion) bool { return slices.Contains(v.Clouds, c.ID) }) {
			names = append(names, c.Name)
		}
	}
	return names
}

type facetValue struct {
	Label, Href string
	Count       int
	Current     bool
}

type facetGroup struct {
	Name   string
	Values []facetValue
}

type browseData struct {
	pageData
	Heading          string
	Count            int
	Facets           []facetGroup  // for a theme's own browse.html
	Sidebar          template.HTML // Facets as the built-in theme shows them
	Rows             template.HTML
	URLsURL, SumsURL string
}

// sidebar writes the facet groups as sections of links, the markup the
// built-in browse.html once made with {{range .Facets}}, byte for byte.
// html/template calls its escapers through reflection, three for each of
// the sixty-odd links of every browse page: that was a third of a fresh
// build's CPU.
func sidebar(groups []facetGroup) template.HTML {
	var b markup
	for _, g := range groups {
		b.WriteString("\n<section>\n<h2>")
		b.text(g.Name)
		b.WriteString("</h2>\n<ul>")
		for _, v := range g.Values {
			// Hrefs are paths of catalog IDs and versions, which need no
			// URL escaping; only what HTML escapes is.
			b.WriteString("\n<li><a href=\"")
			b.text(v.Href)
			b.WriteByte('"')
			if v.Current {
				b.WriteString(` aria-current="true"`)
			}
			if v.Count == 0 {
				b.WriteString(` class="none"`)
			}
			b.WriteByte('>')
			b.text(v.Label)
			b.WriteString(` <span class="n">` + strconv.Itoa(v.Count) + "</span></a></li>")
		}
		b.WriteString("\n</ul>\n</section>")
	}
	return template.HTML(b.String())
}

// htmlText escapes as html/template does in text and quoted attributes.
var htmlText = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// markup is HTML written by the builder instead of a template: markup as
// is, and text escaped as html/template escapes it (htmlText).
type markup struct{ strings.Builder }

func (m *markup) text(s string) { htmlText.WriteString(&m.Builder, s) }

// renderBrowse writes the four files of every combination, in parallel.
func (b *builder) renderBrowse(ctx context.Context) error {
	frags := b.fragments()
	// Writers keep their grown buffers from one combination to the next.
	writers := sync.Pool{New: func() any { return &browseWriter{b: b, frags: frags} }}
	return workers.Each(ctx, b.opts.Jobs, b.plan.count(), func(id int) error {
		w := writers.Get().(*browseWriter)
		defer writers.Put(w)
		return w.write(id)
	})
}

// browseWriter renders combinations with buffers reused across them.
type browseWriter struct {
	b                     *builder
	frags                 *fragments
	page, rows, list, aux bytes.Buffer
}

func (w *browseWriter) write(id int) error {
	b, p := w.b, w.b.plan
	c := p.combo(id)
	dir := p.dir(c)
	rows := p.list(id)

	w.list.Reset()
	w.list.WriteString(`{"count":` + strconv.Itoa(len(rows)) + `,"packs":[`)
	for i, v := range rows {
		if i > 0 {
			w.list.WriteByte(',')
		}
		w.list.WriteByte('\n')
		w.list.Write(w.frags.json[v])
	}
	w.list.WriteString("\n]}\n")
	if err := b.out.write(dir+"/index.json", w.list.Bytes()); err != nil {
		return err
	}

	w.list.Reset()
	w.aux.Reset()
	for _, v := range rows {
		w.list.Write(w.frags.urls[v])
		w.aux.Write(w.frags.sums[v])
	}
	if err := b.out.write(dir+"/urls.txt", w.list.Bytes()); err != nil {
		return err
	}
	if err := b.out.write(dir+"/SHA256SUMS", w.aux.Bytes()); err != nil {
		return err
	}

	w.rows.Reset()
	var last *catalog.Pack
	for _, v := range rows {
		if pk := b.cat.Versions[v].Pack; pk != last {
			w.rows.Write(w.frags.packHead[pk])
			last = pk
		}
		w.rows.Write(w.frags.html[v])
	}
	heading := w.heading(c)
	page := b.page("", "Browse: "+heading, "browse")
	// The path to the root is the page's <base href>, so the links of its
	// rows, repeated in every combination, are written from the root and
	// len(tree.BrowseRoot) bytes shorter each.
	page.Base, page.Dir = tree.BrowseRoot, dir+"/"
	facets := w.facets(c)
	data := browseData{
		pageData: page,
		Heading:  heading,
		Count:    len(rows),
		Facets:   facets,
		Sidebar:  sidebar(facets),
		Rows:     template.HTML(w.rows.String()),
		URLsURL:  b.url(dir + "/urls.txt"),
		SumsURL:  b.url(dir + "/SHA256SUMS"),
	}
	w.page.Reset()
	if err := b.html.ExecuteTemplate(&w.page, "browse.html", data); err != nil {
		return err
	}
	return b.out.write(dir+"/index.html", w.page.Bytes())
}

// heading describes a combination in words, one part per dimension.
func (w *browseWriter) heading(c combo) string {
	var parts []string
	for k, a := range w.b.plan.axes {
		parts = append(parts, a.values[c[k]].words)
	}
	return strings.Join(parts, " · ")
}

// facets lists, for each dimension, every value with the link to the
// combination that changes only that value and its number of pack versions.
func (w *browseWriter) facets(c combo) []facetGroup {
	p := w.b.plan
	var groups []facetGroup
	for k, a := range p.axes {
		for _, g := range a.sidebar(c[k]) {
			group := facetGroup{Name: g.name}
			for _, l := range g.links {
				to := c
				to[k] = l.to
				group.Values = append(group.Values, facetValue{Label: l.label, Href: p.dir(to) + "/index.html",
					Count: p.size(p.id(to)), Current: l.current})
			}
			groups = append(groups, group)
		}
	}
	return groups
}
