package mirror

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
)

// TestFilterHasEverySegment walks tree.BrowseSegments: the filter has a
// field for each, under the segment's plural as JSON key (the mirror
// state's form), and segments returns it at the segment's position.
func TestFilterHasEverySegment(t *testing.T) {
	in := map[string][]string{}
	for _, seg := range tree.BrowseSegments {
		in[seg.Plural] = []string{"value-of-" + seg.Name}
	}
	data, _ := json.Marshal(in)
	var f Filter
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	for i, vs := range f.segments() {
		seg := tree.BrowseSegments[i]
		if !slices.Equal(vs, []string{"value-of-" + seg.Name}) {
			t.Errorf("segment %d (%s): the filter holds %v under %q", i, seg.Name, vs, seg.Plural)
		}
	}
	out, _ := json.Marshal(&f)
	var keys map[string]any
	json.Unmarshal(out, &keys)
	for k := range keys {
		if _, ok := in[k]; !ok {
			t.Errorf("the filter has a field %q that is no browse segment", k)
		}
	}
	if got, want := f.String(), "--product value-of-product --version value-of-version --cloud value-of-cloud --layer value-of-layer --arch value-of-arch --fips value-of-fips"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestFilterCheck(t *testing.T) {
	tests := []struct {
		f    Filter
		want string // the error, or empty
	}{
		{*NewFilter().With("fips", "fips", "non-fips"), ""},
		{*NewFilter().With("product", "palette").With("version", "4.7.3"), ""},
		{*NewFilter().With("fips", "yes"), `target --fips yes: use "fips" or "non-fips"`},
		{*NewFilter().With("fips", "all"), `target --fips all: use "fips" or "non-fips"`},
		{*NewFilter().With("version", "4.7.3"), "target --version: versions belong to products: add --product"},
		// A bad value is reported before a missing product.
		{*NewFilter().With("version", "4.7.3").With("fips", "no"), `target --fips no: use "fips" or "non-fips"`},
	}
	for _, tt := range tests {
		err := tt.f.check()
		if got := errText(err); got != tt.want {
			t.Errorf("%s: check() = %q, want %q", tt.f.String(), got, tt.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestFilterFolders(t *testing.T) {
	f := *NewFilter().With("product", "palette", "all").With("version", "4.7.3", "4.6.2").With("cloud", "aws").With("fips", "fips")
	var got []string
	for _, folder := range f.folders() {
		got = append(got, folder.Path())
	}
	want := []string{
		tree.Folder("product=palette", "version=4.7.3", "cloud=aws", "fips=fips").Path(),
		tree.Folder("product=palette", "version=4.6.2", "cloud=aws", "fips=fips").Path(),
		tree.Folder("cloud=aws", "fips=fips").Path(), // a version only under a product
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("folders:\n got %v\nwant %v", got, want)
	}
	if got := NewFilter().folders(); len(got) != 1 || got[0] != tree.AllFolder() {
		t.Errorf("the empty filter's folders = %v, want the all folder", got)
	}
}

func TestFilterOnlyReleases(t *testing.T) {
	for _, tt := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{*NewFilter().With("product", "palette").With("version", "4.7.3"), true},
		{*NewFilter().With("product", "palette").With("layer", "os"), false},
		{*NewFilter().With("fips", "fips"), false},
	} {
		if got := tt.f.onlyReleases(); got != tt.want {
			t.Errorf("%q: onlyReleases() = %v, want %v", tt.f.String(), got, tt.want)
		}
	}
}

func TestDeclaredSegmentsMessage(t *testing.T) {
	if got, want := declaredSegments(), "product, version, cloud, layer and arch"; got != want {
		t.Errorf("declaredSegments() = %q, want %q", got, want)
	}
}

func TestBundleListPath(t *testing.T) {
	b := &Bundle{Product: "palette", Version: "4.9.2", Cloud: "aws"}
	if got, want := b.listPath(), tree.Folder("product=palette", "version=4.9.2", "cloud=aws").File("index.json"); got != want {
		t.Errorf("listPath() = %q, want %q", got, want)
	}
	b.Cloud = ""
	if got, want := b.listPath(), tree.Folder("product=palette", "version=4.9.2").File("index.json"); got != want {
		t.Errorf("listPath() without a cloud = %q, want %q", got, want)
	}
}

// TestFilterFieldFollowsTheSegments: the field a command fills for
// segment i is the one the filter reads as that segment, and its JSON key
// is the segment's plural.
func TestFilterFieldFollowsTheSegments(t *testing.T) {
	for i, s := range tree.BrowseSegments {
		var f Filter
		*f.Field(i) = []string{"x-" + s.Name}
		got := f.segments()
		for j := range got {
			if want := i == j; (len(got[j]) == 1 && got[j][0] == "x-"+s.Name) != want {
				t.Errorf("Field(%d) (%s) filled segment %d: %v", i, s.Name, j, got[j])
			}
		}
		data, _ := json.Marshal(&f)
		if want := `{"` + s.Plural + `":["x-` + s.Name + `"]}`; string(data) != want {
			t.Errorf("Field(%d) marshals as %s, want %s", i, data, want)
		}
	}
}
