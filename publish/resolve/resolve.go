// Package resolve turns ClusterProfile manifests into the bundle.json that
// mirror --bundle and push --bundle read: the pack versions the profiles
// name, found in a built site's catalog for one product release (on one
// cloud, or on any for add-ons only). What the site lacks, or does not
// offer there, is named.
package resolve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/packstudio/packstudio/internal/tree"
)

// Pack is one entry of a profile's packs: a pack name and the version
// (tag) it pins, with where it was written.
type Pack struct {
	Name, Version   string
	Layer, Registry string // informational, when the profile says
	File            string
	Line            int
}

func (p Pack) where() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// ProfileError lists every problem of the profiles read: bad input,
// exit 2.
type ProfileError struct{ Problems []string }

func (e *ProfileError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return fmt.Sprintf("%d problems with the profiles:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// maxProfileSize bounds a profile file: they are a few KiB of YAML.
const maxProfileSize = 4 << 20

// ReadProfiles reads the packs of every ClusterProfile in paths: files
// (each must hold one), or folders searched for *.yaml, *.yml and *.json
// files holding any. Packs come in the order written, each once.
func ReadProfiles(paths []string) ([]Pack, error) {
	var packs []Pack
	var problems []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: cannot read: %v", p, unwrap(err)))
			continue
		}
		if !fi.IsDir() {
			found, ps := readFile(p)
			problems = append(problems, ps...)
			if found == nil && len(ps) == 0 {
				problems = append(problems, p+": holds no kind: ClusterProfile; export the profile as YAML or JSON")
			}
			packs = append(packs, found...)
			continue
		}
		var files []string
		filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: cannot read: %v", f, unwrap(err)))
				return nil
			}
			switch strings.ToLower(filepath.Ext(f)) {
			case ".yaml", ".yml", ".json":
				if d.Type().IsRegular() {
					files = append(files, f)
				}
			}
			return nil
		})
		n := len(packs)
		for _, f := range files {
			found, ps := readFile(f)
			problems = append(problems, ps...)
			packs = append(packs, found...)
		}
		if len(packs) == n && len(problems) == 0 {
			problems = append(problems, p+": no file under it holds a kind: ClusterProfile with packs")
		}
	}
	packs, dup := unique(packs)
	problems = append(problems, dup...)
	if len(problems) > 0 {
		return nil, &ProfileError{Problems: problems}
	}
	return packs, nil
}

// readFile returns the packs of the ClusterProfile documents of one file.
func readFile(file string) ([]Pack, []string) {
	f, err := os.Open(file)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s: cannot read: %v", file, unwrap(err))}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxProfileSize+1))
	if err != nil {
		return nil, []string{fmt.Sprintf("%s: cannot read: %v", file, err)}
	}
	if len(data) > maxProfileSize {
		return nil, []string{fmt.Sprintf("%s: larger than %d MiB, too large for a profile", file, maxProfileSize>>20)}
	}
	var packs []Pack
	var problems []string
	dec := yaml.NewDecoder(bytes.NewReader(data)) // JSON is YAML too
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, []string{fmt.Sprintf("%s: is not YAML or JSON: %v", file, err)}
		}
		root := &doc
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		if kind := field(root, "kind"); kind == nil || kind.Value != "ClusterProfile" {
			continue
		}
		list := field(field(field(root, "spec"), "template"), "packs")
		if list == nil {
			list = field(field(root, "spec"), "packs")
		}
		if list == nil || list.Kind != yaml.SequenceNode {
			problems = append(problems, fmt.Sprintf("%s:%d: a ClusterProfile without spec.template.packs or spec.packs", file, root.Line))
			continue
		}
		for _, item := range list.Content {
			p := Pack{File: file, Line: item.Line}
			for key, out := range map[string]*string{"name": &p.Name, "layer": &p.Layer, "registry": &p.Registry} {
				if n := field(item, key); n != nil && n.Kind == yaml.ScalarNode {
					*out = n.Value
				}
			}
			for _, key := range []string{"tag", "version"} {
				if n := field(item, key); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" && p.Version == "" {
					p.Version = n.Value
				}
			}
			switch {
			case p.Name == "":
				problems = append(problems, p.where()+": a pack without a name")
			case p.Version == "":
				problems = append(problems, fmt.Sprintf("%s: pack %q has no tag or version; pin one", p.where(), p.Name))
			case !printable(p.Name) || !printable(p.Version):
				problems = append(problems, fmt.Sprintf("%s: pack %q: name and version may not hold spaces, '@', '/' or control characters", p.where(), p.Name))
			default:
				packs = append(packs, p)
			}
		}
	}
	return packs, problems
}

// field returns the value of key in mapping node n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func printable(s string) bool {
	return s != "" && len(s) <= 128 && !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '@' || r == '/' || r == '\\'
	})
}

// unique drops repeats of one pack version and reports a pack pinned at
// two versions: a bundle holds one version of a pack.
func unique(packs []Pack) ([]Pack, []string) {
	var out []Pack
	var problems []string
	first := map[string]Pack{}
	for _, p := range packs {
		prev, seen := first[p.Name]
		switch {
		case !seen:
			first[p.Name] = p
			out = append(out, p)
		case prev.Version != p.Version:
			problems = append(problems, fmt.Sprintf("%s: pack %q is pinned at %s here and at %s in %s; a bundle holds one version of a pack",
				p.where(), p.Name, p.Version, prev.Version, prev.where()))
		}
	}
	return out, problems
}

// Context is where the bundle goes: a product release, and a cloud or ""
// for add-ons only.
type Context struct{ Product, Version, Cloud string }

func (c Context) String() string {
	s := c.Product + " " + c.Version
	if c.Cloud != "" {
		return s + " on " + c.Cloud
	}
	return s + " (any cloud)"
}

// Bundle is bundle.json (SPEC §6).
type Bundle struct {
	Product string   `json:"product"`
	Version string   `json:"version"`
	Cloud   string   `json:"cloud,omitempty"`
	Packs   []string `json:"packs"`
}

// Result is the bundle of the packs found, and a line for each pack the
// site lacks or does not offer in the context.
type Result struct {
	Bundle  Bundle
	Missing []string
}

// ContextError is a context the site does not have (exit 2).
type ContextError struct{ Msg string }

func (e *ContextError) Error() string { return e.Msg }

// siteCatalog is what resolve reads of catalog.json.
type siteCatalog struct {
	Products []struct {
		ID       string `json:"id"`
		Releases []struct {
			Version string `json:"version"`
		} `json:"releases"`
	} `json:"products"`
	Clouds []struct {
		ID string `json:"id"`
	} `json:"clouds"`
	Packs []sitePack `json:"packs"`
}

type sitePack struct {
	Name     string `json:"name"`
	Versions []struct {
		Version string `json:"version"`
	} `json:"versions"`
}

// maxRead bounds what resolve reads of a site into memory.
const maxRead = 256 << 20

// Resolve finds packs in the site src (a built tree, a mirror or a
// published bucket) for context c: each must be a pack version of
// catalog.json offered in c's browse list.
func Resolve(ctx context.Context, src tree.Reader, packs []Pack, c Context) (*Result, error) {
	var cat siteCatalog
	if err := readJSON(ctx, src, "catalog.json", &cat); err != nil {
		if errors.Is(err, tree.ErrNotExist) || errors.Is(err, fs.ErrNotExist) {
			return nil, &ContextError{fmt.Sprintf("%s has no catalog.json; point --site at a built site, a mirror or a published bucket", src)}
		}
		return nil, err
	}
	if err := cat.check(c); err != nil {
		return nil, err
	}
	f := tree.AllFolder().With("product", c.Product).With("version", c.Version)
	if c.Cloud != "" {
		f = f.With("cloud", c.Cloud)
	}
	var list struct {
		Packs []struct{ Name, Version string } `json:"packs"`
	}
	if err := readJSON(ctx, src, f.File(tree.BrowseIndex), &list); err != nil {
		return nil, err
	}
	offered := map[string][]string{} // pack → versions offered in the context
	for _, p := range list.Packs {
		offered[p.Name] = append(offered[p.Name], p.Version)
	}
	res := &Result{Bundle: Bundle{Product: c.Product, Version: c.Version, Cloud: c.Cloud, Packs: []string{}}}
	for _, p := range packs {
		i := slices.IndexFunc(cat.Packs, func(q sitePack) bool { return q.Name == p.Name })
		if i < 0 {
			res.Missing = append(res.Missing, fmt.Sprintf("%s: %s %s: the site has no pack %q", p.where(), p.Name, p.Version, p.Name))
			continue
		}
		var all []string
		for _, v := range cat.Packs[i].Versions {
			all = append(all, v.Version)
		}
		version, ok := sameVersion(all, p.Version)
		if !ok {
			res.Missing = append(res.Missing, fmt.Sprintf("%s: %s %s: the site has no such version; it has %s", p.where(), p.Name, p.Version, strings.Join(all, ", ")))
			continue
		}
		if !slices.Contains(offered[p.Name], version) {
			there := "none"
			if len(offered[p.Name]) > 0 {
				there = strings.Join(offered[p.Name], ", ")
			}
			res.Missing = append(res.Missing, fmt.Sprintf("%s: %s %s is not offered for %s; offered there: %s", p.where(), p.Name, version, c, there))
			continue
		}
		res.Bundle.Packs = append(res.Bundle.Packs, p.Name+"@"+version)
	}
	return res, nil
}

// sameVersion finds tag among a pack's versions: as written, or with or
// without a leading "v" (profiles and registries differ on it).
func sameVersion(versions []string, tag string) (string, bool) {
	if slices.Contains(versions, tag) {
		return tag, true
	}
	bare := strings.TrimPrefix(tag, "v")
	for _, v := range versions {
		if strings.TrimPrefix(v, "v") == bare {
			return v, true
		}
	}
	return "", false
}

// check refuses a context the site does not have, listing what it has.
func (cat *siteCatalog) check(c Context) error {
	var products []string
	for _, p := range cat.Products {
		products = append(products, p.ID)
		if p.ID != c.Product {
			continue
		}
		var versions []string
		for _, r := range p.Releases {
			versions = append(versions, r.Version)
		}
		if !slices.Contains(versions, c.Version) {
			return &ContextError{fmt.Sprintf("--version %q: %s has no such release; it has %s", c.Version, c.Product, strings.Join(versions, ", "))}
		}
		if c.Cloud == "" {
			return nil
		}
		var clouds []string
		for _, cl := range cat.Clouds {
			clouds = append(clouds, cl.ID)
		}
		if !slices.Contains(clouds, c.Cloud) {
			return &ContextError{fmt.Sprintf("--cloud %q: the site has no such cloud; it has %s", c.Cloud, strings.Join(clouds, ", "))}
		}
		return nil
	}
	sort.Strings(products)
	return &ContextError{fmt.Sprintf("--product %q: the site has no such product; it has %s", c.Product, strings.Join(products, ", "))}
}

func readJSON(ctx context.Context, src tree.Reader, p string, v any) error {
	r, err := src.Open(ctx, p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxRead+1))
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if len(data) > maxRead {
		return fmt.Errorf("%s: larger than %d MiB", p, maxRead>>20)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
