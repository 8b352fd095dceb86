package generator

import (
	"path/filepath"
	"testing"

	"github.com/packstudio/packstudio/catalog"
)

// guidePackSet is the pack set the airgap guide (PaletteAI, "Prepare
// Palette Pack Content") lists for its ClearML example, as the demo
// catalog holds it: name, version, FIPS.
var guidePackSet = []struct {
	name, version string
	fips          bool
}{
	{"edge-native-byoi", "2.1.0", true},
	{"edge-k8s", "1.33.5", true},
	{"cni-cilium-oss", "1.17.4", true},
	{"csi-local-path-provisioner", "0.0.32", true},
	{"registry-connect", "0.1.0", false},
	{"lb-metallb-helm", "0.15.2", false},
}

// TestDemoHoldsTheGuidesPackSet: the demo offers the guide's six pack
// versions for VerteX on the edge cloud, with the guide's FIPS states, and
// they make one complete bundle: every two are compatible and every
// required rule is met within the six.
func TestDemoHoldsTheGuidesPackSet(t *testing.T) {
	t.Parallel()
	cat, err := catalog.Load(filepath.Join("..", "testdata", "demo", "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	var set []*catalog.PackVersion
	for _, g := range guidePackSet {
		var found *catalog.PackVersion
		for _, v := range cat.Versions {
			if v.Pack.Name == g.name && v.Version.Raw == g.version {
				found = v
			}
		}
		if found == nil {
			t.Errorf("the demo catalog has no %s@%s", g.name, g.version)
			continue
		}
		if found.FIPS != g.fips {
			t.Errorf("%s: fips = %v, the guide says %v", found.ID(), found.FIPS, g.fips)
		}
		set = append(set, found)
	}
	if len(set) != len(guidePackSet) {
		return
	}
	vertex := cat.ProductByID("vertex")
	offered := 0
	for _, r := range vertex.Releases {
		f := catalog.NewFilter().With(catalog.SegProduct, "vertex").With(catalog.SegVersion, r.Version.Raw).With(catalog.SegCloud, "edge-native").With(catalog.SegArch, "amd64")
		all := true
		for _, v := range set {
			all = all && v.Matches(cat, f)
		}
		if all {
			offered++
		}
	}
	if offered == 0 {
		t.Error("no VerteX release offers the whole set on edge-native amd64")
	}
	for i, a := range set {
		for _, b := range set[i+1:] {
			if !catalog.Compatible(a, b) {
				t.Errorf("%s and %s are not compatible", a.ID(), b.ID())
			}
		}
	}
}
