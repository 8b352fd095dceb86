package tree

import (
	"path"
	"strings"
	"testing"
)

// specBrowse is the browse folder as CONTRACT §6 writes it, the external
// contract the list of segments must keep.
const specBrowse = "browse/<product>/<version>/<cloud>/<layer>/<arch>/<fips>/"

// TestBrowseSegmentsAreSpecLayout walks the list: every segment sits in
// the path at the position CONTRACT §6 gives it.
func TestBrowseSegmentsAreSpecLayout(t *testing.T) {
	var f BrowseFolder
	for i, s := range BrowseSegments {
		f[i] = "<" + s.Name + ">"
	}
	if got := f.Path() + "/"; got != specBrowse {
		t.Errorf("browse folder = %s, CONTRACT §6 says %s", got, specBrowse)
	}
	for i, s := range BrowseSegments {
		if SegmentIndex(s.Name) != i {
			t.Errorf("SegmentIndex(%q) = %d, want %d", s.Name, SegmentIndex(s.Name), i)
		}
		if got := strings.Split(f.Path(), "/")[1+i]; got != "<"+s.Name+">" {
			t.Errorf("segment %d of the path is %s, want <%s>", i, got, s.Name)
		}
	}
	if SegmentIndex("nope") != -1 {
		t.Error("SegmentIndex of an unknown name is not -1")
	}
}

// TestBrowseSegmentsAreConsistent checks what the build, the mirror and
// the pages rely on: names and plurals unique, a refined segment declared
// before the one refining it, texts for every value.
func TestBrowseSegmentsAreConsistent(t *testing.T) {
	names, plurals := map[string]bool{}, map[string]bool{}
	for i, s := range BrowseSegments {
		if s.Name == "" || s.Plural == "" || s.Heading == "" || s.AllLabel == "" || s.AllWords == "" {
			t.Errorf("segment %d (%q) lacks a name, plural or text: %+v", i, s.Name, s)
		}
		if names[s.Name] || plurals[s.Plural] {
			t.Errorf("segment %q: name or plural %q used twice", s.Name, s.Plural)
		}
		names[s.Name], plurals[s.Plural] = true, true
		if s.Within != "" {
			if w := SegmentIndex(s.Within); w < 0 || w >= i {
				t.Errorf("segment %q refines %q, which is not a segment before it", s.Name, s.Within)
			}
		}
		for _, v := range s.Values {
			if v.ID == "" || v.ID == All || v.Label == "" || v.Words == "" {
				t.Errorf("segment %q: value %+v", s.Name, v)
			}
		}
	}
	if i := SegmentIndex("fips"); len(BrowseSegments[i].Values) != 2 ||
		BrowseSegments[i].Values[0].ID != FIPSOnly || BrowseSegments[i].Values[1].ID != NonFIPS {
		t.Errorf("fips values = %+v, CONTRACT §6 says fips, non-fips", BrowseSegments[i].Values)
	}
}

func TestBrowseRootLeadsToTheRoot(t *testing.T) {
	dir := AllFolder().Path()
	if got := path.Join(dir, BrowseRoot); got != "." {
		t.Errorf("%s + %s = %s, want the root", dir, BrowseRoot, got)
	}
	if BrowseRoot != "../../../../../../../" {
		t.Errorf("BrowseRoot = %q: browse folders are seven deep (CONTRACT §6)", BrowseRoot)
	}
	if got := BrowseAllPath(); got != "browse/all/all/all/all/all/all/" {
		t.Errorf("BrowseAllPath() = %q", got)
	}
}

func TestBrowseFolderWith(t *testing.T) {
	f := AllFolder().With("product", "palette").With("version", "4.7.3").With("cloud", "aws")
	if got, want := f.File(BrowseIndex), "browse/palette/4.7.3/aws/all/all/all/index.json"; got != want {
		t.Errorf("File = %q, want %q", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("With an unknown segment did not panic")
		}
	}()
	AllFolder().With("colour", "red")
}

func TestParseBrowsePathRoundTrips(t *testing.T) {
	folders := []BrowseFolder{
		AllFolder(),
		AllFolder().With("product", "palette"),
		AllFolder().With("product", "vertex").With("version", "4.7.3").With("cloud", "edge-native").
			With("layer", "os").With("arch", "arm64").With("fips", FIPSOnly),
	}
	for _, f := range folders {
		for _, p := range []string{f.Path(), f.Path() + "/", f.File(URLList)} {
			got, file, ok := ParseBrowsePath(p)
			if !ok || got != f {
				t.Errorf("ParseBrowsePath(%q) = %v, %v, want %v", p, got, ok, f)
			}
			if want := strings.TrimPrefix(p, f.Path()+"/"); p != f.Path() && file != want {
				t.Errorf("ParseBrowsePath(%q) file = %q, want %q", p, file, want)
			}
		}
	}
}

func TestParseBrowsePathRejects(t *testing.T) {
	for _, p := range []string{
		"",
		"browse",
		"browse/all/all/all/all/all",                 // a segment short
		"browse/all/all/all/all/all/all/x/y",         // too deep
		"releases/all/all/all/all/all/all",           // not browse
		"browse/all/4.7.3/all/all/all/all",           // a version without its product
		"browse/palette//all/all/all/all",            // empty segment
		"browse/palette/../all/all/all/all",          // dot segment
		"browse/all/all/all/all/all/all/.hidden",     // dot file
		"browse/all/all/all/all/all/all/index.json/", // a file is no folder
	} {
		if f, _, ok := ParseBrowsePath(p); ok {
			t.Errorf("ParseBrowsePath(%q) = %v, accepted", p, f)
		}
	}
}

func TestFolder(t *testing.T) {
	if got, want := Folder("product=palette", "version=4.7.3", "fips=fips").Path(), "browse/palette/4.7.3/all/all/all/fips"; got != want {
		t.Errorf("Folder(...).Path() = %q, want %q", got, want)
	}
	if Folder() != AllFolder() {
		t.Error("Folder() is not the all folder")
	}
	for _, bad := range []string{"cloud", "region=eu"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Folder(%q) did not panic", bad)
				}
			}()
			Folder(bad)
		}()
	}
}
