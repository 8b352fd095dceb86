package mirror

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/packstudio/packstudio/internal/tree"
)

// Bundle is a bundle.json saved by the bundle builder (CONTRACT §6): pack
// versions chosen for one product release, on one cloud or, for add-ons
// only, on any. mirror --bundle fetches exactly their artifacts.
type Bundle struct {
	File    string   `json:"file"` // where it was read: messages and the mirror state name it
	Product string   `json:"product"`
	Version string   `json:"version"`
	Cloud   string   `json:"cloud,omitempty"`
	Packs   []string `json:"packs"` // name@version, in the file's order, without repeats
	// AllowIncomplete mirrors a bundle in which a required rule of a
	// chosen version is unmet (--allow-incomplete); not part of the file.
	AllowIncomplete bool `json:"-"`
}

// BundleError is a bundle file that cannot be used: malformed, or naming
// pack versions the site does not offer in the bundle's context. Every
// problem is listed.
type BundleError struct {
	File     string
	Problems []string
}

func (e *BundleError) Error() string {
	if len(e.Problems) == 1 {
		return e.File + ": " + e.Problems[0]
	}
	return fmt.Sprintf("%s: %d problems:\n  %s", e.File, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// maxBundleSize bounds what ReadBundle reads: a bundle lists a few dozen
// pack versions, never megabytes.
const maxBundleSize = 4 << 20

// ReadBundle reads and checks a bundle.json. Fields it does not know are
// ignored, so files saved by a newer builder still work.
func ReadBundle(file string) (*Bundle, error) {
	fail := func(format string, args ...any) error {
		return &BundleError{File: file, Problems: []string{fmt.Sprintf(format, args...)}}
	}
	f, err := os.Open(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the message names the file already
		}
		return nil, fail("cannot read: %v; save the bundle from the builder's review step (bundle.json)", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBundleSize+1))
	if err != nil {
		return nil, fail("cannot read: %v", err)
	}
	if len(data) > maxBundleSize {
		return nil, fail("is larger than %d bytes, too large for a bundle.json", maxBundleSize)
	}
	return parseBundle(file, data)
}

// parseBundle checks the shape {"product","version","cloud","packs"}.
func parseBundle(file string, data []byte) (*Bundle, error) {
	var raw struct {
		Product *string   `json:"product"`
		Version *string   `json:"version"`
		Cloud   *string   `json:"cloud"`
		Packs   *[]string `json:"packs"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		where := ""
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			where = fmt.Sprintf(" at line %d", lineOf(data, se.Offset))
		case errors.As(err, &te):
			where = fmt.Sprintf(" at line %d", lineOf(data, te.Offset))
		}
		return nil, &BundleError{File: file, Problems: []string{fmt.Sprintf(
			"is not a bundle.json%s: %v; it holds {\"product\": …, \"version\": …, \"cloud\": …, \"packs\": [\"name@version\", …]}", where, err)}}
	}
	b := &Bundle{File: file}
	var problems []string
	segment := func(key string, v *string, required bool) string {
		switch {
		case v == nil && required:
			problems = append(problems, fmt.Sprintf("%q is missing; the builder writes it", key))
		case v == nil:
		case *v == "" || *v == "." || *v == ".." || *v == "all" || strings.ContainsAny(*v, `/\@`) || strings.TrimSpace(*v) != *v || !printable(*v):
			problems = append(problems, fmt.Sprintf("%s %q is not an id of this kind of site; take it from catalog.json", key, *v))
		default:
			return *v
		}
		return ""
	}
	b.Product = segment("product", raw.Product, true)
	b.Version = segment("version", raw.Version, true)
	b.Cloud = segment("cloud", raw.Cloud, false)
	if raw.Packs == nil || len(*raw.Packs) == 0 {
		problems = append(problems, `"packs" is missing or empty; list the chosen pack versions as "name@version"`)
	} else {
		seen := map[string]bool{}
		for _, p := range *raw.Packs {
			name, version, ok := strings.Cut(p, "@")
			if !ok || name == "" || version == "" || strings.ContainsAny(name+version, `@/\ `) || name == ".." || version == ".." || !printable(p) {
				problems = append(problems, fmt.Sprintf("pack %q is not name@version (e.g. \"ubuntu-aws@22.04.5\")", p))
				continue
			}
			if !seen[p] {
				seen[p] = true
				b.Packs = append(b.Packs, p)
			}
		}
	}
	if len(problems) > 0 {
		return nil, &BundleError{File: file, Problems: problems}
	}
	return b, nil
}

// printable reports whether s is valid UTF-8 of printable characters only:
// ids from a bundle file end up in messages on a terminal, where an escape
// sequence or a control character would act rather than show.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// context describes the bundle's context in words.
func (b *Bundle) context() string {
	s := b.Product + " " + b.Version
	if b.Cloud != "" {
		return s + " on " + b.Cloud
	}
	return s + " (any cloud)"
}

// listPath is the browse list of the bundle's context: what the site
// offers for that release on that cloud (or on any).
func (b *Bundle) listPath() string {
	f := tree.AllFolder().With("product", b.Product).With("version", b.Version)
	if b.Cloud != "" {
		f = f.With("cloud", b.Cloud)
	}
	return f.File(tree.BrowseIndex)
}

// selectArtifacts returns the artifact and signature paths of the bundle's
// pack versions. Like Filter, it trusts only the tree's own lists, each
// checked against the manifest: the context's browse list says what is
// offered there, each pack's index.json where its artifacts are.
func (b *Bundle) selectArtifacts(ctx context.Context, src tree.Reader, lim tree.Limits, m *tree.Manifest) (map[string]bool, error) {
	read := manifestReader(ctx, src, lim, m)
	data, err := read(b.listPath())
	if errors.Is(err, tree.ErrNotExist) {
		return nil, &BundleError{File: b.File, Problems: []string{fmt.Sprintf(
			"%s is not a context of this site (it has no %s); check the product, version and cloud ids in catalog.json", b.context(), b.listPath())}}
	}
	if err != nil {
		return nil, err
	}
	var list struct {
		Packs []struct{ Name, Version string } `json:"packs"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", b.listPath(), err)
	}
	offered := map[string]bool{}
	for _, p := range list.Packs {
		offered[p.Name+"@"+p.Version] = true
	}

	keep := map[string]bool{}
	packs := map[string]*packIndex{}
	var problems []string
	for _, id := range b.Packs {
		name, version, _ := strings.Cut(id, "@")
		pi, ok := packs[name]
		if !ok {
			if pi, err = readPackIndex(read, name); err != nil {
				return nil, err
			}
			packs[name] = pi
		}
		v := pi.version(version)
		switch {
		case pi == nil:
			problems = append(problems, fmt.Sprintf("%q: this site has no pack %q; see catalog.json for the packs it has", id, name))
		case v == nil:
			problems = append(problems, fmt.Sprintf("%q: pack %q has no version %q on this site; it has %s", id, name, version, pi.versionList()))
		case !offered[id]:
			problems = append(problems, fmt.Sprintf("%q is not offered for %s; choose another version or rebuild the bundle", id, b.context()))
		default:
			for _, p := range []string{v.URL, v.SigURL} {
				if _, listed := m.Index()[p]; !listed || !strings.HasPrefix(p, "artifacts/") {
					return nil, fmt.Errorf("packs/%s/index.json: %s names %q, which is not an artifact of the manifest", name, id, p)
				}
				keep[p] = true
			}
		}
	}
	if len(problems) > 0 {
		return nil, &BundleError{File: b.File, Problems: problems}
	}
	if err := b.checkComplete(read, packs); err != nil {
		return nil, err
	}
	return keep, nil
}

// packIndex is the part of packs/<name>/index.json a bundle needs.
type packIndex struct {
	Versions []packIndexVersion `json:"versions"`
}

type packIndexVersion struct {
	Version  string `json:"version"`
	URL      string `json:"url"`
	SigURL   string `json:"sig_url"`
	Requires []struct {
		Pack, Layer, Versions, Kind string
	} `json:"requires"`
}

// readPackIndex reads packs/<name>/index.json; nil when the site has no
// such pack.
func readPackIndex(read func(string) ([]byte, error), name string) (*packIndex, error) {
	p := "packs/" + name + "/index.json"
	data, err := read(p)
	if errors.Is(err, tree.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pi packIndex
	if err := json.Unmarshal(data, &pi); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &pi, nil
}

func (pi *packIndex) version(v string) *packIndexVersion {
	if pi == nil {
		return nil
	}
	for i := range pi.Versions {
		if pi.Versions[i].Version == v {
			return &pi.Versions[i]
		}
	}
	return nil
}

// versionList lists the pack's versions for a message.
func (pi *packIndex) versionList() string {
	vs := make([]string, len(pi.Versions))
	for i, v := range pi.Versions {
		vs[i] = v.Version
	}
	return strings.Join(vs, ", ")
}

// lineOf is the 1-based line of a byte offset.
func lineOf(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// compatNeeds is what checkComplete reads of a compat file: each entry's
// needs, per required rule the name@version of the entries meeting it.
type compatNeeds struct {
	Packs []struct {
		Name    string     `json:"name"`
		Version string     `json:"version"`
		Needs   [][]string `json:"needs"`
	} `json:"packs"`
}

// checkComplete refuses a bundle in which a required rule of a chosen
// version is met by no other chosen version (SPEC §4), naming each unmet
// rule, unless AllowIncomplete. The build worked out who meets each rule:
// the context's compat file lists it per entry (needs). An add-on-only
// bundle has no cloud: a version meets a rule when it does in the compat
// file of any cloud of the release.
func (b *Bundle) checkComplete(read func(string) ([]byte, error), packs map[string]*packIndex) error {
	if b.AllowIncomplete {
		return nil
	}
	clouds := []string{b.Cloud}
	if b.Cloud == "" {
		var err error
		if clouds, err = siteClouds(read); err != nil {
			return err
		}
	}
	needs := map[string][]map[string]bool{} // name@version → per required rule, who meets it
	for _, cloud := range clouds {
		p := "compat/" + b.Product + "/" + b.Version + "/" + cloud + ".json"
		data, err := read(p)
		if errors.Is(err, tree.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		var cf compatNeeds
		if err := json.Unmarshal(data, &cf); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, e := range cf.Packs {
			id := e.Name + "@" + e.Version
			for k, met := range e.Needs {
				if len(needs[id]) <= k {
					needs[id] = append(needs[id], map[string]bool{})
				}
				for _, m := range met {
					needs[id][k][m] = true
				}
			}
		}
	}
	chosen := map[string]bool{}
	for _, id := range b.Packs {
		chosen[id] = true
	}
	var problems []string
	for _, id := range b.Packs {
		for k, met := range needs[id] {
			if slices.ContainsFunc(slices.Collect(maps.Keys(met)), func(m string) bool { return chosen[m] }) {
				continue
			}
			offered := slices.Sorted(maps.Keys(met))
			where := "this site offers none for " + b.context()
			if len(offered) > 0 {
				where = "add one of " + strings.Join(offered, ", ")
			}
			problems = append(problems, fmt.Sprintf("%q needs %s, which the bundle lacks; %s, or pass --allow-incomplete",
				id, requiredRule(packs, id, k), where))
		}
	}
	if len(problems) > 0 {
		return &BundleError{File: b.File, Problems: problems}
	}
	return nil
}

// requiredRule says the k-th required rule of pack version id in words,
// from its pack's index.json.
func requiredRule(packs map[string]*packIndex, id string, k int) string {
	name, version, _ := strings.Cut(id, "@")
	if v := packs[name].version(version); v != nil {
		for _, r := range v.Requires {
			if r.Kind != "required" {
				continue
			}
			if k--; k < 0 {
				target := r.Pack
				if target == "" {
					target = "a pack of layer " + r.Layer
				}
				return target + " " + r.Versions
			}
		}
	}
	return fmt.Sprintf("its required rule %d", k+1)
}

// siteClouds lists the cloud ids of the site's catalog.json.
func siteClouds(read func(string) ([]byte, error)) ([]string, error) {
	data, err := read("catalog.json")
	if err != nil {
		return nil, err
	}
	var cat struct {
		Clouds []struct {
			ID string `json:"id"`
		} `json:"clouds"`
	}
	if err := json.Unmarshal(data, &cat); err != nil {
		return nil, fmt.Errorf("catalog.json: %w", err)
	}
	var ids []string
	for _, c := range cat.Clouds {
		if c.ID != "" && !strings.ContainsAny(c.ID, `/\.`) {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}
