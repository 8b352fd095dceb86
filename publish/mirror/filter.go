package mirror

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/packstudio/packstudio/internal/tree"
)

// Filter selects the artifacts of a partial mirror with the facets of the
// browse pages: values of one facet are alternatives, facets combine. An
// empty facet means all. Pages, lists and JSON are always mirrored.
type Filter struct {
	// Segments are the values per browse segment, in the order of
	// tree.BrowseSegments: one entry per segment, so a new segment needs
	// no field here. In JSON each is keyed by its segment's Plural.
	Segments [len(tree.BrowseSegments)][]string
	// Bundle, when set, selects exactly its pack versions; it does not
	// combine with the facets above.
	Bundle *Bundle
}

func (f Filter) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	for i, vs := range f.Segments {
		if len(vs) > 0 {
			out[tree.BrowseSegments[i].Plural] = vs
		}
	}
	if f.Bundle != nil {
		out["bundle"] = f.Bundle
	}
	return json.Marshal(out)
}

func (f *Filter) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*f = Filter{}
	for i, seg := range tree.BrowseSegments {
		if v, ok := raw[seg.Plural]; ok {
			if err := json.Unmarshal(v, &f.Segments[i]); err != nil {
				return fmt.Errorf("filter %s: %w", seg.Plural, err)
			}
		}
	}
	if v, ok := raw["bundle"]; ok {
		return json.Unmarshal(v, &f.Bundle)
	}
	return nil
}

// segments are the filter's values per browse segment.
func (f *Filter) segments() [len(tree.BrowseSegments)][]string { return f.Segments }

// Field is the filter's values for tree.BrowseSegments[i], for a command
// to fill from its --<segment> flags.
func (f *Filter) Field(i int) *[]string { return &f.Segments[i] }

// NewFilter returns a filter that selects everything, to narrow with With.
func NewFilter() *Filter { return &Filter{} }

// With sets the values of the segment named name and returns f; a name
// that is no segment is a programming error.
func (f *Filter) With(name string, values ...string) *Filter {
	i := tree.SegmentIndex(name)
	if i < 0 {
		panic("mirror: no browse segment " + name)
	}
	f.Segments[i] = values
	return f
}

// facetCount is the number of facet values the filter holds.
func (f *Filter) facetCount() int {
	n := 0
	for _, vs := range f.segments() {
		n += len(vs)
	}
	return n
}

// Empty reports whether the filter selects everything.
func (f *Filter) Empty() bool {
	return f == nil || f.Bundle == nil && f.facetCount() == 0
}

func (f *Filter) String() string {
	var parts []string
	for i, vs := range f.segments() {
		for _, v := range vs {
			parts = append(parts, "--"+tree.BrowseSegments[i].Name+" "+v)
		}
	}
	if f.Bundle != nil {
		parts = append(parts, "--bundle "+f.Bundle.File)
	}
	return strings.Join(parts, " ")
}

// selectArtifacts returns the artifact paths (with signatures) the filter
// keeps. It reads the tree's own browse lists, which the build computed with
// the catalog's match rules, so a partial mirror selects exactly what the
// site shows for the same filters. Each list read is checked against the
// manifest before it is trusted.
func (f *Filter) selectArtifacts(ctx context.Context, src tree.Reader, lim tree.Limits, m *tree.Manifest) (map[string]bool, error) {
	if f.Bundle != nil {
		if f.facetCount() > 0 {
			return nil, &tree.TargetError{Target: f.String(),
				Reason: "a bundle is an exact selection already: drop the other filters, or change the bundle in the builder"}
		}
		return f.Bundle.selectArtifacts(ctx, src, lim, m)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	read := manifestReader(ctx, src, lim, m)
	folders := f.folders()
	keep := map[string]bool{}
	found, err := keepListed(read, folders, keep)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &tree.TargetError{Target: f.String(), Reason: "matches no browse combination of this site; check the " +
			declaredSegments() + " ids in catalog.json"}
	}
	if f.onlyReleases() {
		if err := keepReleases(read, m, folders, keep); err != nil {
			return nil, err
		}
	}
	return keep, nil
}

// check refuses a value outside a segment's fixed values, then a value of
// a refining segment (a version) without one of the segment it refines.
func (f *Filter) check() error {
	vals := f.segments()
	for i, seg := range tree.BrowseSegments {
		for _, v := range vals[i] {
			if seg.Values != nil && !slices.ContainsFunc(seg.Values, func(x tree.BrowseValue) bool { return x.ID == v }) {
				return &tree.TargetError{Target: "--" + seg.Name + " " + v, Reason: "use " + quotedValues(seg.Values)}
			}
		}
	}
	for i, seg := range tree.BrowseSegments {
		if seg.Within == "" || len(vals[i]) == 0 {
			continue
		}
		if w := tree.SegmentIndex(seg.Within); len(vals[w]) == 0 {
			within := tree.BrowseSegments[w]
			return &tree.TargetError{Target: "--" + seg.Name, Reason: seg.Plural + " belong to " + within.Plural + ": add --" + within.Name}
		}
	}
	return nil
}

// quotedValues lists fixed values for a message: "a", "b" or "c".
func quotedValues(vs []tree.BrowseValue) string {
	var q []string
	for _, v := range vs {
		q = append(q, `"`+v.ID+`"`)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// declaredSegments names the segments whose values catalog.json declares:
// "product, version, cloud, layer and arch".
func declaredSegments() string {
	var names []string
	for _, seg := range tree.BrowseSegments {
		if seg.Values == nil {
			names = append(names, seg.Name)
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// folders are the browse folders the filter combines: every value of each
// segment (All when it has none) with every value of the others; a
// refining segment is All where the segment it refines is.
func (f *Filter) folders() []tree.BrowseFolder {
	vals := f.segments()
	folders := []tree.BrowseFolder{{}}
	for i, seg := range tree.BrowseSegments {
		var next []tree.BrowseFolder
		for _, folder := range folders {
			choices := vals[i]
			if len(choices) == 0 || seg.Within != "" && folder[tree.SegmentIndex(seg.Within)] == tree.All {
				choices = []string{tree.All}
			}
			for _, v := range choices {
				folder[i] = v
				next = append(next, folder)
			}
		}
		folders = next
	}
	return folders
}

// keepListed adds the artifacts and signatures of the pack versions that
// the folders' index.json files list; found is false when the tree has
// none of the folders.
func keepListed(read func(string) ([]byte, error), folders []tree.BrowseFolder, keep map[string]bool) (found bool, err error) {
	for _, folder := range folders {
		p := folder.File(tree.BrowseIndex)
		data, err := read(p)
		if err == tree.ErrNotExist {
			continue // e.g. a version that only one of the products has
		}
		if err != nil {
			return false, err
		}
		found = true
		var list struct {
			Packs []struct{ Name, Version string } `json:"packs"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return false, fmt.Errorf("%s: %w", p, err)
		}
		for _, pk := range list.Packs {
			base := "artifacts/packs/" + pk.Name + "/" + pk.Name + "-" + pk.Version
			keep[base+".zst"] = true
			keep[base+tree.SigSuffix] = true
		}
	}
	return found, nil
}

// onlyReleases reports whether the filter has values only in the segments
// that name releases: release artifacts go with their product and
// version, unless the filter asks only for packs of some cloud, layer,
// arch or FIPS mode.
func (f *Filter) onlyReleases() bool {
	for i, vs := range f.segments() {
		if len(vs) > 0 && !tree.BrowseSegments[i].Release {
			return false
		}
	}
	return true
}

// keepReleases adds the artifacts and signatures of the releases under
// the folders' release segments (releases/<product>/<version>/, cut at the
// first All), as their index.json files list them.
func keepReleases(read func(string) ([]byte, error), m *tree.Manifest, folders []tree.BrowseFolder, keep map[string]bool) error {
	set := map[string]bool{}
	for _, folder := range folders {
		prefix := "releases/"
		for i, seg := range tree.BrowseSegments {
			if !seg.Release {
				continue
			}
			if folder[i] == tree.All {
				break
			}
			prefix += folder[i] + "/"
		}
		set[prefix] = true
	}
	prefixes := sortedKeys(set)
	for _, o := range m.Objects {
		if path.Base(o.Path) != "index.json" || !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(o.Path, p) }) {
			continue
		}
		data, err := read(o.Path)
		if err != nil {
			return err
		}
		var rel struct {
			Artifacts []struct {
				URL    string `json:"url"`
				SigURL string `json:"sig_url"`
			} `json:"artifacts"`
		}
		if err := json.Unmarshal(data, &rel); err != nil {
			return fmt.Errorf("%s: %w", o.Path, err)
		}
		for _, a := range rel.Artifacts {
			keep[a.URL], keep[a.SigURL] = true, true
		}
	}
	return nil
}

// manifestReader returns a reader of the tree's lists that trusts a file
// only when the manifest lists it with that digest, reading no more than the
// size it lists; tree.ErrNotExist when the manifest does not list it.
func manifestReader(ctx context.Context, src tree.Reader, lim tree.Limits, m *tree.Manifest) func(p string) ([]byte, error) {
	idx := m.Index()
	return func(p string) ([]byte, error) {
		obj, ok := idx[p]
		if !ok {
			return nil, tree.ErrNotExist
		}
		if obj.Size > maxList {
			return nil, &tree.TooLargeError{Path: p, Limit: maxList}
		}
		data, err := lim.ReadAll(ctx, src, p, obj.Size)
		if err != nil {
			return nil, err
		}
		if tree.Digest(data) != obj.SHA256 {
			return nil, fmt.Errorf("%s: does not match the manifest", p)
		}
		return data, nil
	}
}

// maxList bounds a list read into memory to choose what to mirror.
const maxList = 256 << 20

// sortedKeys returns the keys of a set, sorted.
func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
