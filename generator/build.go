// Package generator builds the output tree from a site config and its
// catalog: load → check → plan → pack and sign → render → manifest.
package generator

import (
	"context"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/content"
	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/internal/keyguard"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/theme"
)

// Options are the inputs of a build besides the config.
type Options struct {
	Config *Config
	Signer Signer
	// SigningKey is the private key file, which no input may be or contain.
	SigningKey string
	Jobs       int              // parallel packing and rendering; default GOMAXPROCS
	Now        func() time.Time // default time.Now
	// Progress, when set, is called as artifacts are packed.
	Progress func(stage string, done, total int)
	// CheckOutput compares the bytes of every file already in the output
	// instead of trusting the last manifest for files whose size, time and
	// inode are as the last build left them.
	CheckOutput bool
	// ManifestWarnSize is the manifest size past which the build warns:
	// readers refuse a larger one unless told otherwise. Default
	// tree.DefaultMaxManifestSize, what mirror and verify accept.
	ManifestWarnSize int64
}

// Stats describes what a build did.
type Stats struct {
	Packs, PackVersions int
	Combinations        int
	Rows                int64 // (combination, pack version) rows
	CompatConflicts     int64 // name@version entries of every conflicts_with list
	CompatBytes         int64 // size of every compat file, a share of ObjectBytes
	Packed, Reused      int   // artifacts packed this time, or taken as they were
	Signed              int
	FilesWritten        int64
	FilesUnchanged      int64
	FilesCompared       int64 // output files read to see whether they changed
	BytesWritten        int64
	Objects             int
	ObjectBytes         int64
	Removed             int
	ManifestVersion     int64
	ManifestChanged     bool
	InputFiles          int  // catalog, config, content, theme and readme files read
	UpToDate            bool // nothing changed since the last build: nothing was loaded or written
	// Wall time of the two long stages: packing and signing every
	// artifact, and rendering and writing every page and list.
	PackTime, RenderTime time.Duration
	ManifestBytes        int64
	// Warnings are what the build did but a reader of the tree may trip
	// on; the command prints them.
	Warnings []string
}

// builder holds the state shared by the stages of one build.
type builder struct {
	cfg    *Config
	opts   Options
	cat    *catalog.Catalog
	plan   *plan
	compat *compatIndex
	out    *outTree
	prev   *tree.Manifest // the last build's, if it verifies
	html   *template.Template
	theme  *theme.Theme
	assets []theme.Asset
	pages  []content.Page
	// readmes holds each pack readme's markdown by path, read (and checked
	// by the key guard) before anything is written.
	readmes map[string][]byte
	guard   *keyguard.Guard
	in      inputFS // the one way every input is read: through guard, recorded
	site    *siteData
	stats   Stats

	packArtifacts    []*Artifact
	releaseArtifacts map[*catalog.Release][]*Artifact
	allArtifacts     []*Artifact // packs, then releases in catalog order
}

// Build runs every stage. Catalog and config problems come back as
// catalog.Problems before anything is written.
func Build(ctx context.Context, o Options) (*Stats, error) {
	if o.Jobs <= 0 {
		o.Jobs = runtime.GOMAXPROCS(0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	start := time.Now() // the real clock, for racyWindow; o.Now dates the manifest
	if st, ok := upToDate(o); ok {
		return st, nil
	}
	b := &builder{cfg: o.Config, opts: o}
	var rec *inputRecorder
	if recordable(o) {
		rec = newInputRecorder()
		rec.recordKeyFile(o.SigningKey)
		var secrets [][]byte
		if s, ok := o.Signer.(interface{ Secrets() [][]byte }); ok {
			secrets = s.Secrets()
		}
		g, err := keyguard.New(o.SigningKey, secrets...)
		if err != nil {
			return nil, err
		}
		b.guard = g
	}
	// The loaders keep it: the theme reads a template while rendering.
	b.in = inputFS{guard: b.guard, rec: rec}
	if err := b.load(); err != nil {
		return nil, err
	}
	b.plan = newPlan(b.cat)
	b.compat = newCompatIndex(b.cat)
	b.stats.Packs, b.stats.PackVersions = len(b.cat.Packs), len(b.cat.Versions)
	b.stats.Combinations, b.stats.Rows = b.plan.count(), int64(len(b.plan.rows))

	if err := forgetInputs(b.cfg.Cache); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	out, err := openTree(b.cfg.Output)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	b.out = out
	defer out.close()
	if signer, ok := b.opts.Signer.(ManifestSigner); ok {
		b.prev = readManifest(b.cfg.Output, signer)
	}
	out.setPrevious(b.prev, loadStamps(b.cfg.Cache, b.cfg.Output), b.opts.CheckOutput)

	cache := loadCache(b.cfg.Cache)
	t := time.Now()
	if err := b.artifacts(ctx, cache); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	b.stats.PackTime = time.Since(t)
	t = time.Now()
	if err := b.render(ctx); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	b.stats.RenderTime = time.Since(t)
	if err := b.writeManifest(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	b.checkManifestSize()
	if err := cache.save(b.allArtifacts); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if err := out.saveStamps(b.cfg.Cache); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	b.stats.FilesWritten, b.stats.FilesUnchanged, b.stats.BytesWritten = out.written.Load(), out.unchanged.Load(), out.bytesWritten.Load()
	b.stats.FilesCompared = out.compared.Load()
	// The record describes the output as this build leaves it.
	if err := out.close(); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	if err := b.saveInputs(rec, start); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	b.stats.InputFiles = rec.filesRead()
	return &b.stats, nil
}

// checkManifestSize warns when the manifest is larger than readers accept
// by default: the browse combinations, each four objects, are most of it.
func (b *builder) checkManifestSize() {
	fi, err := os.Stat(filepath.Join(b.cfg.Output, tree.ManifestName))
	if err != nil {
		return
	}
	b.stats.ManifestBytes = fi.Size()
	limit := b.opts.ManifestWarnSize
	if limit <= 0 {
		limit = tree.DefaultMaxManifestSize
	}
	if fi.Size() > limit {
		b.stats.Warnings = append(b.stats.Warnings, fmt.Sprintf(
			"%s is %s, more than the %s that mirror and verify accept by default: readers need --max-manifest-size, or the catalog fewer filter combinations (%d now)",
			tree.ManifestName, bytesize.Format(fi.Size()), bytesize.Format(limit), b.stats.Combinations))
	}
}

// load reads and checks every input; nothing is written. Every file and
// folder is read through b.in.
func (b *builder) load() error {
	cat, err := catalog.LoadWith(b.cfg.Catalog, b.catalogOptions())
	if err != nil {
		return b.withPageNames(err)
	}
	b.cat = cat
	ps := b.checkKeyNotInInputs()
	if len(ps) > 0 {
		return ps // before reading any of them
	}
	// site.toml was read before the guard existed; its values are published.
	if _, err := b.in.ReadFile(b.cfg.File); err != nil {
		ps = append(ps, catalog.Problem{File: b.cfg.File, Msg: err.Error(), Fix: "remove the key from the site config"})
	}
	b.pages, err = content.LoadPages(b.cfg.Content, b.contentOptions())
	if pps, ok := pageProblems(err); ok {
		ps = append(ps, pps...)
	} else if err != nil {
		ps = append(ps, catalog.Problem{File: b.cfg.File, Msg: err.Error(), Fix: "fix the content directory"})
	}
	b.theme, err = theme.New(b.cfg.Theme, b.in)
	if err == nil {
		b.html, err = b.theme.HTML(nil)
	}
	if err == nil {
		b.assets, err = b.theme.Assets()
	}
	if err != nil {
		ps = append(ps, catalog.Problem{File: b.cfg.File, Msg: err.Error(), Fix: "fix the theme's templates and assets"})
	}
	b.readmes = map[string][]byte{}
	for _, p := range b.cat.Packs {
		if p.Readme.Path == "" || b.readmes[p.Readme.Path] != nil {
			continue
		}
		data, err := b.in.ReadFile(p.Readme.Path)
		if err != nil {
			ps = append(ps, catalog.Problem{File: p.Readme.Pos.File, Line: p.Readme.Pos.Line, Msg: err.Error(), Fix: "fix the readme"})
		}
		b.readmes[p.Readme.Path] = data
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// checkKeyNotInInputs refuses any input that is, or holds, the private
// signing key, by identity with links followed: it would be packed or
// rendered into the public tree. Copies are found as the inputs are read.
func (b *builder) checkKeyNotInInputs() catalog.Problems {
	var ps catalog.Problems
	check := func(src catalog.Source, what string) {
		if src.Path == "" {
			return
		}
		if found := b.guard.Find(src.Path); found != "" {
			msg := fmt.Sprintf("%s %s is the private signing key %s", what, src.Path, b.opts.SigningKey)
			if found != src.Path {
				msg = fmt.Sprintf("%s %s holds %s, which is the private signing key %s", what, src.Path, found, b.opts.SigningKey)
			}
			ps = append(ps, catalog.Problem{File: src.Pos.File, Line: src.Pos.Line, Msg: msg,
				Fix: "keep the key outside every source, readme, content and theme directory"})
		}
	}
	for _, v := range b.cat.Versions {
		check(v.Source, "source")
	}
	for _, p := range b.cat.Packs {
		check(p.Readme, "readme")
	}
	for _, p := range b.cat.Products {
		for _, r := range p.Releases {
			check(r.Bundle, "bundle")
			check(r.ISO, "iso")
			check(r.Helm, "helm")
		}
	}
	check(catalog.Source{Path: b.cfg.Content, Pos: catalog.Pos{File: b.cfg.File}}, "content directory")
	check(catalog.Source{Path: b.cfg.Theme, Pos: catalog.Pos{File: b.cfg.File}}, "theme directory")
	return ps
}

// artifacts packs and signs every pack version and release artifact.
func (b *builder) artifacts(ctx context.Context, cache *artifactCache) error {
	b.packArtifacts, b.releaseArtifacts = artifactsOf(b.cat)
	all := append([]*Artifact(nil), b.packArtifacts...)
	for _, p := range b.cat.Products {
		for _, r := range p.Releases {
			all = append(all, b.releaseArtifacts[r]...)
		}
	}
	b.allArtifacts = all
	var progress func(done, total int)
	if b.opts.Progress != nil {
		progress = func(done, total int) { b.opts.Progress("pack", done, total) }
	}
	st, err := makeArtifacts(ctx, b.out, cache, b.opts.Signer, b.guard, all, b.opts.Jobs, progress)
	b.stats.Packed, b.stats.Reused, b.stats.Signed = st.packed, st.reused, st.signed
	return err
}
