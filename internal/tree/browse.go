package tree

import (
	"strings"
)

// The browse folders of a tree (CONTRACT §6):
// browse/<product>/<version>/<cloud>/<layer>/<arch>/<fips>/, one for every
// filter combination, each segment a value or All. BrowseSegments is that
// layout as data, in path order: the build plans and renders the folders
// from it, mirror filters read them through it, and the contract tests walk
// it. A new browse dimension is a new entry here.

// All is the value of a segment that does not filter.
const All = "all"

// BrowseDir is the folder that holds every browse folder.
const BrowseDir = "browse"

// A BrowseSegment is one segment of a browse folder's path.
type BrowseSegment struct {
	// Name is the segment's name in paths' descriptions and the mirror's
	// flag (--product, --fips); Plural its key in a mirror filter's JSON.
	Name, Plural string
	// Within names the segment this one refines, or is empty: a version
	// is only a version of a product, so it is All when the product is,
	// and the two make one dimension of the plan.
	Within string
	// Values are the segment's values after All when the layout fixes
	// them; nil when the catalog declares them.
	Values []BrowseValue
	// Release marks the segments that also name a release
	// (releases/<product>/<version>/): a mirror filtered only by them
	// keeps the releases' artifacts too.
	Release bool
	// Heading heads the segment's values in a browse page's sidebar,
	// AllLabel is All's label there and AllWords All in the page's
	// heading ("all clouds").
	Heading, AllLabel, AllWords string
	// Selects completes "only artifacts …" in the mirror's flag help.
	Selects string
}

// A BrowseValue is a value of a segment that the layout fixes: its path
// segment, its sidebar label and its words in a page's heading.
type BrowseValue struct {
	ID, Label, Words string
}

// FIPS segment values.
const (
	FIPSOnly = "fips"
	NonFIPS  = "non-fips"
)

// BrowseSegments are the segments of a browse folder's path, in order.
var BrowseSegments = [...]BrowseSegment{
	{Name: "product", Plural: "products", Release: true,
		Heading: "Product", AllLabel: "All products", AllWords: "all products",
		Selects: "of this product"},
	{Name: "version", Plural: "versions", Within: "product", Release: true,
		Heading: "version", AllLabel: "All versions", AllWords: "all versions",
		Selects: "of this product version (needs --product)"},
	{Name: "cloud", Plural: "clouds",
		Heading: "Cloud", AllLabel: "All clouds", AllWords: "all clouds",
		Selects: "of packs for this cloud"},
	{Name: "layer", Plural: "layers",
		Heading: "Layer", AllLabel: "All layers", AllWords: "all layers",
		Selects: "of packs of this layer"},
	{Name: "arch", Plural: "arches",
		Heading: "Architecture", AllLabel: "All architectures", AllWords: "all architectures",
		Selects: "of packs for this architecture"},
	{Name: "fips", Plural: "fips",
		Values: []BrowseValue{
			{ID: FIPSOnly, Label: "FIPS", Words: "FIPS only"},
			{ID: NonFIPS, Label: "Non-FIPS", Words: "non-FIPS only"},
		},
		Heading: "FIPS", AllLabel: "FIPS and non-FIPS", AllWords: "FIPS and non-FIPS",
		Selects: `of "fips" or "non-fips" packs`},
}

// SegmentIndex returns the position of the segment with that name in
// BrowseSegments, or -1.
func SegmentIndex(name string) int {
	for i, s := range BrowseSegments {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// BrowseDepth is how many folders deep a browse folder is below the root.
const BrowseDepth = 1 + len(BrowseSegments)

// BrowseRoot is the relative path from a file in a browse folder to the
// root of the tree: "../" once per folder.
var BrowseRoot = strings.Repeat("../", BrowseDepth)

// A BrowseFolder is a browse folder as its segments' values, in the order
// of BrowseSegments.
type BrowseFolder [len(BrowseSegments)]string

// AllFolder is the folder that lists everything: every segment All.
func AllFolder() BrowseFolder {
	var f BrowseFolder
	for i := range f {
		f[i] = All
	}
	return f
}

// With returns f with the named segment set to value. An unknown name is a
// programming error.
func (f BrowseFolder) With(name, value string) BrowseFolder {
	i := SegmentIndex(name)
	if i < 0 {
		panic("tree: no browse segment " + name)
	}
	f[i] = value
	return f
}

// Path is the folder's path from the root, without a final slash:
// browse/palette/4.7.3/aws/all/all/all.
func (f BrowseFolder) Path() string {
	return BrowseDir + "/" + strings.Join(f[:], "/")
}

// File is the path of a file in the folder.
func (f BrowseFolder) File(name string) string { return f.Path() + "/" + name }

// BrowseAllPath is the folder that lists everything, with a final slash.
func BrowseAllPath() string { return AllFolder().Path() + "/" }

// ParseBrowsePath reads a browse folder's path back into its values. It
// takes the folder with or without a final slash, or a file in it (the
// file's name is returned); ok is false when p is not in a browse folder,
// has an empty or dot segment, or has a refining segment (a version) that
// is not All when the segment it refines is.
func ParseBrowsePath(p string) (f BrowseFolder, file string, ok bool) {
	rest, found := strings.CutPrefix(p, BrowseDir+"/")
	if !found {
		return f, "", false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == len(f):
	case len(parts) == len(f)+1:
		file = parts[len(f)]
		if strings.HasPrefix(file, ".") {
			return f, "", false
		}
	default:
		return f, "", false
	}
	for i := range f {
		if parts[i] == "" || strings.HasPrefix(parts[i], ".") {
			return f, "", false
		}
		f[i] = parts[i]
	}
	for i, s := range BrowseSegments {
		if s.Within != "" && f[i] != All && f[SegmentIndex(s.Within)] == All {
			return f, "", false
		}
	}
	return f, file, true
}

// Folder is the browse folder with the given segments set, each as
// "name=value" ("cloud=aws"); every other segment is All. Code and tests
// name folders this way so that a segment added to the layout does not
// change them. A malformed or unknown segment is a programming error.
func Folder(segments ...string) BrowseFolder {
	f := AllFolder()
	for _, s := range segments {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			panic("tree.Folder: " + s + " is not name=value")
		}
		f = f.With(name, value)
	}
	return f
}
