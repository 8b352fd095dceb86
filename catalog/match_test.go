package catalog

import (
	"fmt"
	"strings"
	"testing"
)

// fixture builds a small catalog in memory: two products, releases with
// 22.04-style and three-part versions, and packs of several layers.
func fixture() *Catalog {
	c := &Catalog{
		Clouds: []Facet{{ID: "aws"}, {ID: "vsphere"}, {ID: "edge-native"}},
		Layers: []Facet{{ID: "os"}, {ID: "k8s"}, {ID: "cni"}, {ID: "addon"}},
		Arches: defaultArches,
	}
	palette := &Product{ID: "palette"}
	for _, v := range []string{"4.6.0", "4.7.3", "4.8.1"} {
		palette.Releases = append(palette.Releases, &Release{Product: palette, Version: mustVersion(v)})
	}
	edge := &Product{ID: "edge"}
	for _, v := range []string{"22.04", "24.04"} {
		edge.Releases = append(edge.Releases, &Release{Product: edge, Version: mustVersion(v)})
	}
	c.Products = []*Product{palette, edge}
	return c
}

func pv(name, layer, version string, opts ...func(*PackVersion)) *PackVersion {
	v := &PackVersion{
		Pack:     &Pack{Name: name, Layer: layer},
		Version:  mustVersion(version),
		Clouds:   []string{"aws"},
		Arch:     []string{"amd64"},
		Products: map[string]Constraint{"palette": mustConstraint(">=4.6.0 <4.8.0")},
	}
	for _, o := range opts {
		o(v)
	}
	return v
}

func requires(pack, layer, versions string) func(*PackVersion) {
	return func(v *PackVersion) {
		v.Requires = append(v.Requires, Rule{Pack: pack, Layer: layer, Versions: mustConstraint(versions)})
	}
}

// multiple puts the pack version's pack in a multiple-choice layer.
func multiple(v *PackVersion) { v.Pack.Multiple = true }

func TestMatches(t *testing.T) {
	c := fixture()
	base := pv("cni-calico", "cni", "3.29.2")
	ubuntu := pv("ubuntu-edge", "os", "22.04", func(v *PackVersion) {
		v.Products = map[string]Constraint{"edge": mustConstraint(">=22.04 <24.04")}
		v.Clouds = []string{"edge-native"}
		v.Arch = []string{"amd64", "arm64"}
		v.FIPS = true
	})
	any := NewFilter()
	tests := []struct {
		name string
		v    *PackVersion
		f    Filter
		want bool
	}{
		{"all segments", base, any, true},
		{"product key present", base, any.With(SegProduct, "palette"), true},
		{"product key absent", base, any.With(SegProduct, "edge"), false},
		{"release inside range", base, any.With(SegProduct, "palette").With(SegVersion, "4.7.3"), true},
		{"release at lower bound", base, any.With(SegProduct, "palette").With(SegVersion, "4.6.0"), true},
		{"release at exclusive upper bound", base, any.With(SegProduct, "palette").With(SegVersion, "4.8.1"), false},
		{"unknown release", base, any.With(SegProduct, "palette").With(SegVersion, "9.9.9"), false},
		{"22.04 release satisfies >=22.04", ubuntu, any.With(SegProduct, "edge").With(SegVersion, "22.04"), true},
		{"24.04 release outside <24.04", ubuntu, any.With(SegProduct, "edge").With(SegVersion, "24.04"), false},
		{"cloud listed", base, any.With(SegCloud, "aws"), true},
		{"cloud not listed", base, any.With(SegCloud, "vsphere"), false},
		{"layer is the pack's", base, any.With(SegLayer, "cni"), true},
		{"layer is another", base, any.With(SegLayer, "os"), false},
		{"arch listed", ubuntu, any.With(SegArch, "arm64"), true},
		{"arch not listed", base, any.With(SegArch, "arm64"), false},
		{"fips needs fips=true", base, any.With(SegFIPS, FIPSOnly), false},
		{"fips pack under fips", ubuntu, any.With(SegFIPS, FIPSOnly), true},
		{"non-fips needs fips=false", ubuntu, any.With(SegFIPS, NonFIPS), false},
		{"non-fips pack under non-fips", base, any.With(SegFIPS, NonFIPS), true},
		{"every segment set and holding", ubuntu, Filter{"edge", "22.04", "edge-native", "os", "arm64", FIPSOnly}, true},
		{"one failing segment among many", ubuntu, Filter{"edge", "22.04", "edge-native", "os", "arm64", NonFIPS}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.Matches(c, tt.f); got != tt.want {
				t.Errorf("Matches(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func TestCompatible(t *testing.T) {
	k8s129 := pv("kubernetes", "k8s", "1.29.0")
	k8s132 := pv("kubernetes", "k8s", "1.32.3")
	k3s133 := pv("edge-k3s", "k8s", "1.33.5")
	ubuntu2204 := pv("ubuntu-aws", "os", "22.04")
	ubuntu2004 := pv("ubuntu-aws", "os", "20.04")
	tests := []struct {
		name string
		a, b *PackVersion
		want bool
	}{
		{"no rules, different layers", pv("cni-calico", "cni", "3.29.2"), k8s132, true},
		{"same layer is never compatible", pv("cni-calico", "cni", "3.29.2"), pv("cni-cilium", "cni", "1.17.6"), false},
		{"pack rule holds", pv("cni-calico", "cni", "3.29.2", requires("kubernetes", "", ">=1.29 <1.33")), k8s132, true},
		{"pack rule fails", pv("cni-calico", "cni", "3.27.0", requires("kubernetes", "", ">=1.25 <1.29")), k8s132, false},
		{"pack rule does not apply to another pack of the layer", pv("cni-calico", "cni", "3.27.0", requires("kubernetes", "", ">=1.25 <1.29")), k3s133, true},
		{"layer rule applies to every pack of the layer", pv("cni-calico", "cni", "3.29.2", requires("", "k8s", ">=1.29 <1.33")), k3s133, false},
		{"layer rule holds", pv("cni-calico", "cni", "3.29.2", requires("", "k8s", ">=1.29 <1.33")), k8s129, true},
		{"layer rule about another layer does not apply", pv("cni-calico", "cni", "3.29.2", requires("", "csi", ">=9")), k8s132, true},
		{"rule of the other side fails (symmetric)", k8s132, pv("cni-flannel", "cni", "0.24.2", requires("kubernetes", "", "<1.30")), false},
		{"22.04 OS version in a layer rule", pv("kubernetes", "k8s", "1.32.3", requires("", "os", ">=22.04")), ubuntu2204, true},
		{"20.04 OS version fails >=22.04", pv("kubernetes", "k8s", "1.32.3", requires("", "os", ">=22.04")), ubuntu2004, false},
		{"both sides have rules and both hold", pv("kubernetes", "k8s", "1.32.3", requires("", "os", ">=22.04")), pv("ubuntu-aws", "os", "22.04", requires("kubernetes", "", ">=1.30")), true},
		{"both sides have rules, one fails", pv("kubernetes", "k8s", "1.29.0", requires("", "os", ">=22.04")), pv("ubuntu-aws", "os", "22.04", requires("kubernetes", "", ">=1.30")), false},
		{"all rules must hold (pack and layer rule)", pv("cni-calico", "cni", "3.29.2", requires("", "k8s", ">=1.29"), requires("kubernetes", "", "<1.30")), k8s132, false},
		{"two packs of a multiple-choice layer, no rules", pv("prometheus", "addon", "2.53.0", multiple), pv("grafana", "addon", "11.1.0", multiple), true},
		{"two versions of one pack of a multiple-choice layer never", pv("prometheus", "addon", "2.53.0", multiple), pv("prometheus", "addon", "3.1.0", multiple), false},
		{"two versions of one pack never, whatever the layer", pv("kubernetes", "k8s", "1.29.0"), k8s132, false},
		{"add-on rule on another add-on holds", pv("grafana", "addon", "11.1.0", multiple, requires("prometheus", "", ">=2.50")), pv("prometheus", "addon", "2.53.0", multiple), true},
		{"add-on rule on another add-on fails", pv("grafana", "addon", "11.1.0", multiple, requires("prometheus", "", ">=3")), pv("prometheus", "addon", "2.53.0", multiple), false},
		{"add-on layer rule on its own layer fails", pv("grafana", "addon", "11.1.0", multiple, requires("", "addon", ">=3")), pv("prometheus", "addon", "2.53.0", multiple), false},
		{"add-on rule about another add-on does not apply", pv("grafana", "addon", "11.1.0", multiple, requires("prometheus", "", ">=3")), pv("loki", "addon", "2.9.0", multiple), true},
		{"add-on rule on another layer still applies", pv("grafana", "addon", "11.1.0", multiple, requires("kubernetes", "", ">=1.30")), k8s129, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Compatible(tt.a, tt.b); got != tt.want {
				t.Errorf("Compatible(%s, %s) = %v, want %v", tt.a.ID(), tt.b.ID(), got, tt.want)
			}
			if got := Compatible(tt.b, tt.a); got != tt.want {
				t.Errorf("Compatible is not symmetric: (%s, %s) = %v", tt.b.ID(), tt.a.ID(), got)
			}
		})
	}
}

func TestVersionOrder(t *testing.T) {
	ordered := []string{"1.0", "1.2.3-rc.1", "1.2.3", "1.25", "1.25.0", "1.32.3", "20.04", "22.04", "26.02.1"}
	for i := 1; i < len(ordered); i++ {
		a, b := mustVersion(ordered[i-1]), mustVersion(ordered[i])
		if a.Compare(b) >= 0 || b.Compare(a) <= 0 {
			t.Errorf("want %s < %s", a, b)
		}
	}
	if !mustVersion("1.25").SameAs(mustVersion("1.25.0")) {
		t.Error("1.25 and 1.25.0 should be the same version")
	}
	for _, tt := range []struct{ bad, want string }{
		{"", "may hold only letters, digits"},
		{"../1", "may hold only letters, digits"},
		{"1/2", "may hold only letters, digits"},
		{"1 2", "may hold only letters, digits"},
		{strings.Repeat("1", 65), "(at most 64)"},
		{"abc", "is not a version like 1.32.3"},
		{"1.2.3.4", "is not a version like 1.32.3"},
	} {
		_, err := ParseVersion(tt.bad)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("version %q ", tt.bad)) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseVersion(%q): error %v, want one naming it with %q", tt.bad, err, tt.want)
		}
	}
}
