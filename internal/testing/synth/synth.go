// Package synth writes large synthetic pack catalogs for benchmarks.
//
// The catalogs follow the schema of package catalog and have a realistic
// facet spread (layers, clouds, architectures, FIPS, product windows and
// requires rules), so that page, JSON and compatibility generation see the
// same shape of data as a real catalog, only bigger. Payloads are tiny on
// purpose: benchmarks should measure the site generator, not disk I/O.
//
// Output is a pure function of Options: the same options always produce a
// byte-identical tree.
package synth

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options sizes a synthetic catalog. Zero fields take the defaults below.
type Options struct {
	Packs              int   // default 1000
	VersionsPerPack    int   // default 4
	Products           int   // default 2
	ReleasesPerProduct int   // default 8
	Clouds             int   // default 8
	Seed               int64 // default 1; same options => byte-identical output
	// RuleKinds makes some rules required or not-supported, and gives OS
	// and more k8s versions rules, so that every layer has rules of every kind.
	// Off by default: the bench catalog keeps its optional rules.
	RuleKinds bool
}

// Defaults used for zero fields of Options.
const (
	DefaultPacks              = 1000
	DefaultVersionsPerPack    = 4
	DefaultProducts           = 2
	DefaultReleasesPerProduct = 8
	DefaultClouds             = 8
	DefaultSeed               = 1
)

// withDefaults fills zero fields and rejects negative ones.
func (o Options) withDefaults() (Options, error) {
	fields := []struct {
		v   *int
		def int
		key string
	}{
		{&o.Packs, DefaultPacks, "Packs"},
		{&o.VersionsPerPack, DefaultVersionsPerPack, "VersionsPerPack"},
		{&o.Products, DefaultProducts, "Products"},
		{&o.ReleasesPerProduct, DefaultReleasesPerProduct, "ReleasesPerProduct"},
		{&o.Clouds, DefaultClouds, "Clouds"},
	}
	for _, f := range fields {
		if *f.v < 0 {
			return o, fmt.Errorf("synth: %s is %d, want a positive number or 0 for the default", f.key, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	return o, nil
}

// Generate writes catalog.toml, packs/<name>.toml, a readme per pack and
// every source file into dir, which is created if missing. dir must be
// missing or empty: stale pack files from an earlier, different run would
// silently change the catalog.
func Generate(dir string, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	if err := prepareDir(dir); err != nil {
		return err
	}
	return newPlan(o).write(dir)
}

func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return fmt.Errorf("synth: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("synth: %s is not empty; generate into a new or empty directory", dir)
	}
	return nil
}

// Touch changes the payload of exactly one pack version of a catalog that
// Generate wrote into dir with the same options, so that a rebuild re-packs
// exactly one artifact. It returns the pack name.
//
// The pack is the middle one in sorted name order (index len/2), which keeps
// it away from the edges of any sorted listing; the version is its lowest.
// For a directory source, its first file (manifest.yaml) is changed. Each
// call appends a numbered "# touched N" line, so repeated calls keep
// changing the content.
func Touch(dir string, o Options) (string, error) {
	o, err := o.withDefaults()
	if err != nil {
		return "", err
	}
	pk := newPlan(o).touchTarget()
	v := pk.versions[0]
	path := filepath.Join(dir, filepath.FromSlash(v.sourceFile(pk.name)))
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("synth: touch %s: %w (was the catalog generated with the same options?)", pk.name, err)
	}
	n := bytes.Count(data, []byte("# touched ")) + 1
	data = fmt.Appendf(data, "# touched %d\n", n)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("synth: touch %s: %w", pk.name, err)
	}
	return pk.name, nil
}

// touchTarget is the pack Touch changes: the middle one by name.
func (p *plan) touchTarget() *pack {
	sorted := slices.Clone(p.packs)
	slices.SortFunc(sorted, func(a, b *pack) int { return strings.Compare(a.name, b.name) })
	return sorted[len(sorted)/2]
}
