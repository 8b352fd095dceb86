package catalog

// The facets a pack version is filtered by, in the browse path's order
// (internal/tree.BrowseSegments, whose order a generator test ties to
// this one). A new facet is a new Segment before NumSegments, its name in
// segmentNames and its rule in segmentMatch: the two tables are checked
// against NumSegments when compiling, so a facet cannot be added with a
// place left out.
type Segment int

const (
	SegProduct Segment = iota
	SegVersion         // a release of SegProduct; All when the product is
	SegCloud
	SegLayer
	SegArch
	SegFIPS
	NumSegments
)

// FIPS segment values.
const (
	FIPSOnly = "fips"
	NonFIPS  = "non-fips"
)

// segmentNames are the segments' names, as in browse paths' descriptions.
var segmentNames = [...]string{
	SegProduct: "product", SegVersion: "version", SegCloud: "cloud",
	SegLayer: "layer", SegArch: "arch", SegFIPS: "fips",
}

// segmentMatch holds, per segment, whether pack version v is listed under
// value val of it (val is never All here).
var segmentMatch = [...]func(c *Catalog, v *PackVersion, f Filter, val string) bool{
	SegProduct: func(_ *Catalog, v *PackVersion, _ Filter, val string) bool {
		_, ok := v.Products[val]
		return ok
	},
	SegVersion: func(c *Catalog, v *PackVersion, f Filter, val string) bool {
		p := c.ProductByID(f[SegProduct])
		if p == nil {
			return false
		}
		r := p.Release(val)
		return r != nil && v.OffersRelease(r)
	},
	SegCloud: func(_ *Catalog, v *PackVersion, _ Filter, val string) bool { return contains(v.Clouds, val) },
	SegLayer: func(_ *Catalog, v *PackVersion, _ Filter, val string) bool { return v.Pack.Layer == val },
	SegArch:  func(_ *Catalog, v *PackVersion, _ Filter, val string) bool { return contains(v.Arch, val) },
	SegFIPS: func(_ *Catalog, v *PackVersion, _ Filter, val string) bool {
		return val == FIPSOnly && v.FIPS || val == NonFIPS && !v.FIPS
	},
}

// Each table has exactly one entry per segment, or this does not compile.
var (
	_ [NumSegments]string                                            = segmentNames
	_ [NumSegments]func(*Catalog, *PackVersion, Filter, string) bool = segmentMatch
)

// SegmentNames returns the segments' names in order.
func SegmentNames() [NumSegments]string { return segmentNames }

// Filter is one filter combination: per segment a value or All. Make one
// with NewFilter, so that a segment nobody set is All and matches
// everything (a zero value, "", would match nothing).
type Filter [NumSegments]string

// NewFilter returns the filter that lists everything: every segment All.
func NewFilter() Filter {
	var f Filter
	for i := range f {
		f[i] = All
	}
	return f
}

// With returns f with segment s set to val.
func (f Filter) With(s Segment, val string) Filter {
	f[s] = val
	return f
}

// Matches reports whether pack version v is listed under filter f: each
// segment is All or holds for v.
func (v *PackVersion) Matches(c *Catalog, f Filter) bool {
	for s, val := range f {
		if val != All && !segmentMatch[s](c, v, f, val) {
			return false
		}
	}
	return true
}
