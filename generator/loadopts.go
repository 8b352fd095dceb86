package generator

import (
	"errors"
	"maps"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/content"
	"github.com/packstudio/packstudio/internal/tree"
)

// catalogOptions are the catalog's checks that depend on the tree and the
// site config: the names the tree takes for itself, and sources_within.
func (b *builder) catalogOptions() catalog.LoadOptions {
	return catalog.LoadOptions{Files: b.in, Reserved: tree.Reserved, SourcesWithin: b.cfg.SourcesWithin}
}

// contentOptions are the content pages' checks: a page may take neither a
// name of the tree nor the public key's, and must be inside sources_within.
func (b *builder) contentOptions() content.Options {
	reserved := maps.Clone(tree.Reserved)
	reserved[b.cfg.PublicKeyName] = "the site's public key (public_key_name in " + b.cfg.File + ")"
	o := content.Options{Files: b.in, Reserved: reserved}
	if b.cfg.SourcesWithin != "" {
		within := b.cfg.SourcesWithin
		o.Check = func(file string) (string, string) {
			real, err := catalog.RealPath(file)
			if err != nil {
				return "cannot be resolved: " + err.Error(), "fix or remove the page"
			}
			if realWithin, err := catalog.RealPath(within); err != nil || !catalog.Within(real, realWithin) {
				return "leads to " + real + ", outside sources_within " + within,
					"replace the link with the page itself, or set [build] sources_within in " + b.cfg.File + " to a directory that holds it"
			}
			return "", ""
		}
	}
	return o
}

// withPageNames adds to the catalog's problems those of the content
// pages' names, so that one run reports both.
func (b *builder) withPageNames(err error) error {
	var ps catalog.Problems
	if !errors.As(err, &ps) {
		return err
	}
	pps, _ := pageProblems(content.CheckPages(b.cfg.Content, b.contentOptions()))
	return append(ps, pps...)
}

// pageProblems turns the content pages that cannot be pages into
// problems, each naming its file; ok is false for any other error.
func pageProblems(err error) (catalog.Problems, bool) {
	var pe content.PageErrors
	if !errors.As(err, &pe) {
		return nil, false
	}
	ps := make(catalog.Problems, len(pe))
	for i, e := range pe {
		ps[i] = catalog.Problem{File: e.File, Msg: e.Msg, Fix: e.Fix}
	}
	return ps, true
}
