package generator

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/content"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/internal/workers"
)

// siteData is what every page template sees as .Site.
type siteData struct {
	Title         string
	BaseURL       string
	PublicKeyName string
	KeyID         string
	KeyShort      string
	Pages         []content.Page // content pages, for the navigation
	BrowseAll     string         // the browse folder that lists everything, with a final slash
}

// pageData is embedded in every page's template data.
type pageData struct {
	Site    *siteData
	Root    string // relative path from the page to the site root: "", "../", …
	Title   string
	Section string
	// Base, when set, is the page's <base href> (the path to the site
	// root); Root is then "" and Dir is the page's own folder from the
	// root, for links to its neighbours and to itself.
	Base, Dir string
}

// rootOf returns the relative path from a file in dir to the site root.
func rootOf(dir string) string {
	if dir == "" {
		return ""
	}
	return strings.Repeat("../", strings.Count(dir, "/")+1)
}

func (b *builder) page(dir, title, section string) pageData {
	return pageData{Site: b.site, Root: rootOf(dir), Title: title, Section: section}
}

// render writes every page, list and JSON file.
func (b *builder) render(ctx context.Context) error {
	keyID := b.opts.Signer.KeyID()
	b.site = &siteData{Title: b.cfg.Title, BaseURL: b.cfg.BaseURL, PublicKeyName: b.cfg.PublicKeyName,
		KeyID: keyID, KeyShort: sign.KeyIDPrefix(keyID), BrowseAll: tree.BrowseAllPath()}
	for _, p := range b.pages {
		if p.Slug != "" {
			b.site.Pages = append(b.site.Pages, p)
		}
	}
	// The steps write different files and only read the catalog, plan
	// and artifacts. One after the other, the bundle builders and pack
	// pages left a core idle for half of the render stage of a large
	// catalog; so they share the cores (the long single steps first, the
	// builder pages filling in beside them), and then the browse
	// combinations do. Never more than Jobs goroutines write at once: on
	// these disks a file's creation costs more system time the more
	// writers wait on the same folders.
	steps := []func() error{b.renderPacks, b.renderCompat, b.renderSearch, b.renderCatalog}
	steps = append(steps, b.bundlePages()...)
	steps = append(steps, b.renderReleases, b.renderHome, b.renderStatic, b.renderVerify, b.renderContentPages)
	if err := workers.Each(ctx, b.opts.Jobs, len(steps), func(i int) error { return steps[i]() }); err != nil {
		return err
	}
	return b.renderBrowse(ctx)
}

func (b *builder) execute(name, path string, data any) error {
	var buf bytes.Buffer
	if err := b.html.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return b.out.write(path, buf.Bytes())
}

func (b *builder) writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return b.out.write(path, append(data, '\n'))
}

func (b *builder) url(path string) string { return b.cfg.BaseURL + path }

func (b *builder) renderStatic() error {
	for _, a := range b.assets {
		if err := b.out.write(a.Path, a.Data); err != nil {
			return err
		}
	}
	// The mirror note marks nothing on a built site; pages load it so a
	// partial mirror's copy can mark what it left out (tree.MirrorNotePath).
	note, err := tree.MirrorNote{}.Render()
	if err != nil {
		return err
	}
	if err := b.out.write(tree.MirrorNotePath, note); err != nil {
		return err
	}
	return b.out.write(b.cfg.PublicKeyName, b.opts.Signer.PublicKeyPEM())
}

// artifactRow is an artifact as the "artifacts" template shows it.
type artifactRow struct {
	Label, Name, Href, Size, SigName, SigHref, SHA256 string
}

var kindLabels = map[string]string{"bundle": "Content bundle", "iso": "Appliance ISO", "helm": "Helm chart", "pack": "Pack"}

func (b *builder) artifactRows(root string, list []*Artifact) []artifactRow {
	rows := make([]artifactRow, 0, len(list))
	for _, a := range list {
		rows = append(rows, artifactRow{Label: kindLabels[a.Kind], Name: a.Name(), Href: root + a.Path, Size: humanSize(a.Size),
			SigName: a.SigName(), SigHref: root + a.SigPath, SHA256: a.SHA256})
	}
	return rows
}

type releaseLink struct {
	Version, Date, Href string
	Current             bool
	Artifacts           []artifactRow
}

type productView struct {
	ID, Name   string
	LatestHref string // releases/<product>/latest/index.html
	Latest     *releaseLink
	Releases   []releaseLink // newest first
}

type layerLink struct {
	Name, Href string
	Count      int
}

func (b *builder) renderHome() error {
	data := struct {
		pageData
		Intro                   template.HTML
		Products                []productView
		PackCount, VersionCount int
		Layers                  []layerLink
	}{pageData: b.page("", "Install", "home"), PackCount: len(b.cat.Packs), VersionCount: len(b.cat.Versions)}
	for _, p := range b.pages {
		if p.Slug == "" {
			data.Intro = p.HTML
		}
	}
	for _, p := range b.cat.Products {
		pv := productView{ID: p.ID, Name: p.Name, LatestHref: latestDir(p) + "/index.html"}
		for i := len(p.Releases) - 1; i >= 0; i-- {
			r := p.Releases[i]
			pv.Releases = append(pv.Releases, releaseLink{Version: r.Version.Raw, Date: r.Date, Href: releaseDir(r) + "/index.html"})
		}
		if n := len(p.Releases); n > 0 {
			latest := pv.Releases[0]
			latest.Artifacts = b.artifactRows("", b.releaseArtifacts[p.Releases[n-1]])
			pv.Latest = &latest
		}
		data.Products = append(data.Products, pv)
	}
	for _, l := range b.cat.Layers {
		f := tree.AllFolder().With("layer", l.ID)
		data.Layers = append(data.Layers, layerLink{Name: l.Name, Href: f.File("index.html"), Count: len(b.plan.listed(f))})
	}
	return b.execute("home.html", "index.html", data)
}

// latestDir is releases/<product>/latest/: the newest release's files,
// under one address scripts can keep.
func latestDir(p *catalog.Product) string { return "releases/" + p.ID + "/latest" }

func (b *builder) renderReleases() error {
	for _, p := range b.cat.Products {
		for i, r := range p.Releases {
			files, err := b.releaseFiles(p, r)
			if err != nil {
				return err
			}
			dirs := []string{releaseDir(r)}
			if i == len(p.Releases)-1 {
				// The same bytes: latest/ sits as deep as <version>/, so
				// every relative link works from both.
				dirs = append(dirs, latestDir(p))
			}
			for _, dir := range dirs {
				for _, f := range files {
					if err := b.out.write(dir+"/"+f.name, f.data); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

type namedFile struct {
	name string
	data []byte
}

// releaseFiles are a release folder's index.html, index.json, urls.txt and
// SHA256SUMS.
func (b *builder) releaseFiles(p *catalog.Product, r *catalog.Release) ([]namedFile, error) {
	dir := releaseDir(r)
	root := rootOf(dir)
	arts := b.releaseArtifacts[r]
	var urls, sums strings.Builder
	var names []artifactName
	for _, a := range arts {
		urls.WriteString(b.url(a.Path) + "\n" + b.url(a.SigPath) + "\n")
		sums.WriteString(a.SHA256 + "  " + a.Name() + "\n") // sha256sum -c format, names as curl -O saves them
		names = append(names, artifactName{a.Name(), a.SigName()})
	}
	record, err := json.MarshalIndent(b.releaseRecord(r), "", " ")
	if err != nil {
		return nil, fmt.Errorf("%s/index.json: %w", dir, err)
	}
	browse := releaseFolder(r)
	data := struct {
		pageData
		Product, Version, Date string
		Artifacts              []artifactRow
		Names                  []artifactName
		URLsURL, SumsURL       string
		KeyURL, LatestURL      string
		BrowseHref             string
		PackCount              int
		Others                 []releaseLink
	}{
		pageData: b.page(dir, p.Name+" "+r.Version.Raw, "home"),
		Product:  p.Name, Version: r.Version.Raw, Date: r.Date,
		Artifacts: b.artifactRows(root, arts), Names: names,
		URLsURL: b.url(dir + "/urls.txt"), SumsURL: b.url(dir + "/SHA256SUMS"), KeyURL: b.url(b.cfg.PublicKeyName),
		LatestURL:  b.url(latestDir(p) + "/urls.txt"),
		BrowseHref: root + browse.File("index.html"), PackCount: len(b.plan.listed(browse)),
	}
	for i := len(p.Releases) - 1; i >= 0; i-- {
		o := p.Releases[i]
		data.Others = append(data.Others, releaseLink{Version: o.Version.Raw, Href: root + releaseDir(o) + "/index.html", Current: o == r})
	}
	var page bytes.Buffer
	if err := b.html.ExecuteTemplate(&page, "release.html", data); err != nil {
		return nil, fmt.Errorf("%s/index.html: %w", dir, err)
	}
	return []namedFile{
		{"index.html", page.Bytes()},
		{"index.json", append(record, '\n')},
		{"urls.txt", []byte(urls.String())},
		{"SHA256SUMS", []byte(sums.String())},
	}, nil
}

// artifactName is an artifact's file name and its signature's, as curl -O
// saves them.
type artifactName struct{ File, Sig string }

// ruleView is a rule in words: Lead ("needs"), Target (linked by Href
// when it is a pack), and Range, the versions in words, or Versions
// shown as written when they have no simpler words.
type ruleView struct {
	Lead, Target, Versions, Range, Href string
}

type constrainedBy struct {
	Pack, Version, Href, Lead, Target, Versions string
}

// ruleLead says what a kind of rule asks of the bundle.
func ruleLead(k catalog.RuleKind) string {
	switch k {
	case catalog.Required:
		return "needs"
	case catalog.NotSupported:
		return "not with"
	}
	return "only with"
}

// rangeWords says a range of the forms registries write in words:
// ">=3.3.2" is "3.3.2 or later", "<=3.26.7" "3.26.7 and earlier",
// ">=1.29 <=1.30" "1.29 to 1.30", "*" "any version"; "" for any other.
func rangeWords(raw string) string {
	parts := strings.Fields(raw)
	switch {
	case raw == "*":
		return "any version"
	case len(parts) == 1 && strings.HasPrefix(raw, ">=") && !strings.ContainsAny(raw[2:], "<>=|,~^*xX"):
		return raw[2:] + " or later"
	case len(parts) == 1 && strings.HasPrefix(raw, "<=") && !strings.ContainsAny(raw[2:], "<>=|,~^*xX"):
		return raw[2:] + " and earlier"
	case len(parts) == 2 && strings.HasPrefix(parts[0], ">=") && strings.HasPrefix(parts[1], "<=") &&
		!strings.ContainsAny(parts[0][2:]+parts[1][2:], "<>=|,~^*xX"):
		return parts[0][2:] + " to " + parts[1][2:]
	}
	return ""
}

// packTitle is a pack's display name, or the name as written when the
// catalog has no such pack.
func (b *builder) packTitle(name string) string {
	if p := b.cat.PackByName(name); p != nil {
		return p.DisplayName
	}
	return name
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

type productConstraint struct {
	Name, Constraint string
}

type versionView struct {
	Version, FileName, Href, SigName, SigHref, Size, SHA256 string
	FIPS, Deprecated                                        bool
	EOL                                                     string
	Clouds, Arch                                            []string
	Products                                                []productConstraint
	Requires                                                []ruleView
	UpgradeFrom                                             []ruleView
	Images                                                  []string
	Charts                                                  []catalog.Chart
}

func (b *builder) renderPacks() error {
	byPack, byLayer := rulesAbout(b.cat.Versions)
	for _, p := range b.cat.Packs {
		dir := "packs/" + p.Name
		root := rootOf(dir)
		if err := b.writeJSON(dir+"/index.json", b.packRecord(p)); err != nil {
			return err
		}
		var readme template.HTML
		if p.Readme.Path != "" {
			var err error
			if readme, err = content.Markdown(b.readmes[p.Readme.Path]); err != nil {
				return fmt.Errorf("%s: %w", p.Readme.Path, err)
			}
		}
		layer := b.cat.Layers[p.LayerOrder]
		data := struct {
			pageData
			Name, DisplayName, Description, AddonType, LayerName, LayerHref string
			DocsURL                                                         string
			Readme                                                          template.HTML
			Versions                                                        []versionView
			ConstrainedBy                                                   []constrainedBy // for a theme's own pack.html
			RulesAbout                                                      template.HTML   // ConstrainedBy as the built-in theme shows it
		}{
			pageData: b.page(dir, p.DisplayName+" ("+p.Name+")", "browse"),
			Name:     p.Name, DisplayName: p.DisplayName, Description: p.Description, AddonType: p.AddonType,
			LayerName: layer.Name, LayerHref: root + tree.AllFolder().With("layer", p.Layer).File("index.html"),
			Readme: readme, DocsURL: p.DocsURL,
		}
		for i := len(p.Versions) - 1; i >= 0; i-- { // newest first
			v := p.Versions[i]
			a := b.packArtifacts[v.Index]
			vv := versionView{Version: v.Version.Raw, FileName: a.Name(), Href: root + a.Path, SigName: a.SigName(),
				SigHref: root + a.SigPath, Size: humanSize(a.Size), SHA256: a.SHA256, FIPS: v.FIPS,
				Clouds: facetNames(b.cat.Clouds, v.Clouds), Arch: v.Arch,
				Deprecated: v.Deprecated, EOL: v.EOL, Images: v.Images, Charts: v.Charts}
			for _, u := range v.UpgradeFrom {
				uv := ruleView{Lead: "upgrades from", Target: b.packTitle(u.Pack), Versions: u.Versions.Raw, Range: rangeWords(u.Versions.Raw)}
				if u.Pack != p.Name && b.cat.PackByName(u.Pack) != nil {
					uv.Href = root + packPage(u.Pack)
				}
				vv.UpgradeFrom = append(vv.UpgradeFrom, uv)
			}
			for _, prod := range b.cat.Products {
				if c, ok := v.Products[prod.ID]; ok {
					vv.Products = append(vv.Products, productConstraint{Name: prod.Name, Constraint: c.Raw})
				}
			}
			for _, r := range v.Requires {
				rv := ruleView{Lead: ruleLead(r.Kind), Target: b.ruleTarget(r), Versions: r.Versions.Raw, Range: rangeWords(r.Versions.Raw)}
				if r.Pack != "" {
					rv.Target = b.packTitle(r.Pack)
					rv.Href = root + packPage(r.Pack)
				} else if r.Kind == catalog.Required {
					rv.Target = strings.Replace(rv.Target, "every ", "a ", 1)
				}
				vv.Requires = append(vv.Requires, rv)
			}
			data.Versions = append(data.Versions, vv)
		}
		// Deprecated versions after the current ones, each group newest first.
		slices.SortStableFunc(data.Versions, func(x, y versionView) int {
			return cmp.Compare(boolInt(x.Deprecated), boolInt(y.Deprecated))
		})
		for _, ref := range mergeRefs(byPack[p.Name], byLayer[p.Layer]) {
			o := b.cat.Versions[ref.version]
			r := o.Requires[ref.rule]
			// A layer rule of an add-on about its own multiple-choice
			// layer is about the other packs, not this one.
			if o.Pack != p {
				data.ConstrainedBy = append(data.ConstrainedBy, constrainedBy{Pack: o.Pack.Name, Version: o.Version.Raw,
					Href: root + packPage(o.Pack.Name), Lead: ruleLead(r.Kind), Target: b.ruleTarget(r), Versions: r.Versions.Raw})
			}
		}
		data.RulesAbout = rulesAboutList(data.ConstrainedBy)
		if err := b.execute("pack.html", dir+"/index.html", data); err != nil {
			return err
		}
	}
	return nil
}

// ruleRef is the rule-th requires rule of the version-th pack version of
// the catalog.
type ruleRef struct{ version, rule int }

// rulesAbout indexes every requires rule by the pack it names and by the
// layer it names. A pack page lists the rules about its pack and its
// layer; scanning every rule of the catalog for each pack was quadratic
// in the number of packs (25 million checks at 2,500 x 4). Validation
// lets a rule name a pack or a layer, never both; each list is in catalog
// order.
func rulesAbout(versions []*catalog.PackVersion) (byPack, byLayer map[string][]ruleRef) {
	byPack, byLayer = map[string][]ruleRef{}, map[string][]ruleRef{}
	for i, v := range versions {
		for j, r := range v.Requires {
			if r.Pack != "" {
				byPack[r.Pack] = append(byPack[r.Pack], ruleRef{i, j})
			} else {
				byLayer[r.Layer] = append(byLayer[r.Layer], ruleRef{i, j})
			}
		}
	}
	return byPack, byLayer
}

// rulesAboutList writes the rules of other packs about a pack as the
// built-in pack.html once did with {{range .ConstrainedBy}}, byte for
// byte: thousands of layer rules name each Kubernetes pack of a large
// catalog (400 KB pages at 2,500 x 4), and html/template escaped their
// five fields each through reflection (see sidebar). Hrefs are paths of
// pack names, which need no URL escaping.
func rulesAboutList(rules []constrainedBy) template.HTML {
	var b markup
	for _, r := range rules {
		b.WriteString("\n<li><a href=\"")
		b.text(r.Href)
		b.WriteString("\">")
		b.text(r.Pack)
		b.WriteByte(' ')
		b.text(r.Version)
		b.WriteString("</a> ")
		b.text(r.Lead)
		b.WriteByte(' ')
		b.text(r.Target)
		b.WriteString(" <code>")
		b.text(r.Versions)
		b.WriteString("</code></li>")
	}
	return template.HTML(b.String())
}

// mergeRefs returns the rules of two lists in catalog order, as the page
// lists them.
func mergeRefs(a, b []ruleRef) []ruleRef {
	refs := slices.Concat(a, b)
	slices.SortFunc(refs, func(x, y ruleRef) int {
		return cmp.Or(cmp.Compare(x.version, y.version), cmp.Compare(x.rule, y.rule))
	})
	return refs
}

func jsonString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// renderCatalog writes catalog.json, search.json and the root urls.txt.
func (b *builder) renderCatalog() error {
	rec := catalogRecord{Title: b.cfg.Title, BaseURL: b.cfg.BaseURL, PublicKey: b.cfg.PublicKeyName, KeyID: b.site.KeyID}
	for _, p := range b.cat.Products {
		pr := productRecord{ID: p.ID, Name: p.Name, Releases: []releaseRecord{}}
		for _, r := range p.Releases {
			pr.Releases = append(pr.Releases, b.releaseRecord(r))
		}
		rec.Products = append(rec.Products, pr)
	}
	for _, c := range b.cat.Clouds {
		rec.Clouds = append(rec.Clouds, facetRecord{ID: c.ID, Name: c.Name, Kind: c.Kind})
	}
	for i, l := range b.cat.Layers {
		rec.Layers = append(rec.Layers, facetRecord{ID: l.ID, Name: l.Name, Order: i + 1, Multiple: l.Multiple})
	}
	for _, a := range b.cat.Arches {
		rec.Arches = append(rec.Arches, facetRecord{ID: a.ID, Name: a.Name})
	}
	var urls strings.Builder
	for _, p := range b.cat.Packs {
		rec.Packs = append(rec.Packs, b.packRecord(p))
		for _, v := range p.Versions {
			a := b.packArtifacts[v.Index]
			urls.WriteString(b.url(a.Path) + "\n" + b.url(a.SigPath) + "\n")
		}
	}
	for _, p := range b.cat.Products {
		for _, r := range p.Releases {
			for _, a := range b.releaseArtifacts[r] {
				urls.WriteString(b.url(a.Path) + "\n" + b.url(a.SigPath) + "\n")
			}
		}
	}
	if err := b.writeJSON("catalog.json", rec); err != nil {
		return err
	}
	data, err := json.Marshal(b.searchIndex())
	if err != nil {
		return err
	}
	if err := b.out.write("search.json", append(data, '\n')); err != nil {
		return err
	}
	return b.out.write("urls.txt", []byte(urls.String()))
}

func (b *builder) renderVerify() error {
	script, err := b.theme.Text("verify-signatures.sh")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	// Every value is quoted, so no title or name can run a command on the
	// machine of whoever runs the script.
	values := map[string]string{"Title": shellQuote(b.cfg.Title), "PublicKeyName": shellQuote(b.cfg.PublicKeyName), "KeyID": shellQuote(b.site.KeyID)}
	if err := script.Execute(&buf, values); err != nil {
		return fmt.Errorf("verify-signatures.sh: %w", err)
	}
	if err := b.out.write("verify/verify-signatures.sh", buf.Bytes()); err != nil {
		return err
	}
	data := struct {
		pageData
		KeyType, ScriptURL string
	}{b.page("verify", "Verify downloads", "verify"), keyType(b.opts.Signer.PublicKeyPEM()), b.url("verify/verify-signatures.sh")}
	return b.execute("verify.html", "verify/index.html", data)
}

// shellQuote makes s one POSIX shell word that the shell takes literally:
// single quotes, each ' inside written as '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (b *builder) renderContentPages() error {
	for _, p := range b.pages {
		if p.Slug == "" {
			continue
		}
		data := struct {
			pageData
			HTML template.HTML
		}{b.page(p.Slug, p.Title, p.Slug), p.HTML}
		if err := b.execute("page.html", p.Slug+"/index.html", data); err != nil {
			return err
		}
	}
	return nil
}

// ruleTarget says in words what a requires rule constrains.
func (b *builder) ruleTarget(r catalog.Rule) string {
	if r.Pack != "" {
		return r.Pack
	}
	for _, l := range b.cat.Layers {
		if l.ID == r.Layer {
			return "every " + l.Name + " pack"
		}
	}
	return r.Target()
}

// facetNames returns the names of the facets with the given ids, in order.
func facetNames(all []catalog.Facet, ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		for _, f := range all {
			if f.ID == id {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

// humanSize formats a byte count for people.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// keyType names the key's algorithm for the verify page.
func keyType(pubPEM []byte) string {
	block, _ := pem.Decode(pubPEM)
	if block == nil {
		return "unknown key type"
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return "unknown key type"
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d, PKCS#1 v1.5 signatures", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name + ", DER-encoded signatures"
	}
	return fmt.Sprintf("%T", pub)
}
