package oci

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct{ in, host, prefix, err string }{
		{"oci://registry.internal:5000/team/packs", "registry.internal:5000", "team/packs", ""},
		{"oci://127.0.0.1:5000", "127.0.0.1:5000", "", ""},
		{"oci://r.example/packs/", "r.example", "packs", ""},
		{"oci://", "", "", "no registry host"},
		{"https://r.example/packs", "", "", "not a registry location"},
		{"oci://r.example/Team", "", "", "is not a repository path"},
		{"oci://r.example/a//b", "", "", "is not a repository path"},
		{"oci://user@r.example/a", "", "", "no registry host"},
	} {
		got, err := ParseTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v; want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.Host != tc.host || got.Prefix != tc.prefix {
			t.Errorf("%s: %+v, %v; want %s and %s", tc.in, got, err, tc.host, tc.prefix)
		}
	}
}

func TestRefOf(t *testing.T) {
	for _, tc := range []struct{ path, ref, kind, err string }{
		{"artifacts/packs/cni-calico/cni-calico-3.29.2.zst", "packs/cni-calico:3.29.2", "pack", ""},
		{"artifacts/packs/k/k-1.2.3+build.1.zst", "packs/k:1.2.3_build.1", "pack", ""},
		{"artifacts/releases/palette/4.7.3/palette-4.7.3.tar.zst", "releases/palette:4.7.3-bundle", "bundle", ""},
		{"artifacts/releases/palette/4.7.3/palette-appliance-4.7.3.iso", "releases/palette:4.7.3-iso", "iso", ""},
		{"artifacts/releases/palette/4.7.3/palette-4.7.3.tgz", "releases/palette:4.7.3-helm", "helm", ""},
		{"artifacts/packs/cni-calico/cni-calico-3.29.2.sig.bin", "", "", ""},
		{"artifacts/releases/palette/4.7.3/palette-4.7.3.tgz.sig.bin", "", "", ""},
		{"artifacts/releases/palette/4.7.3/notes.txt", "", "", ""},
		{"packs/cni-calico/index.json", "", "", ""},
		{"artifacts/packs/a..b/a..b-1.zst", "", "", "cannot be named in a registry"},
		{"artifacts/packs/a/a-" + strings.Repeat("9", 130) + ".zst", "", "", "cannot be named in a registry"},
	} {
		r, ok, err := RefOf(tc.path)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v; want %q", tc.path, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.path, err)
		case tc.ref == "" && ok:
			t.Errorf("%s: placed at %s; want no place", tc.path, r)
		case tc.ref != "" && (!ok || r.String() != tc.ref || r.Kind != tc.kind):
			t.Errorf("%s: %s (%s, %v); want %s (%s)", tc.path, r, r.Kind, ok, tc.ref, tc.kind)
		}
	}
}

func TestHelmConfigNeedsAChart(t *testing.T) {
	meta := chartMetadata([]byte("apiVersion: v2\nname: \"palette\" # the product\nversion: 4.6.2\ndependencies:\n  - name: x\n    version: 1\n"))
	if meta["name"] != "palette" || meta["version"] != "4.6.2" || meta["apiVersion"] != "v2" || len(meta) != 3 {
		t.Errorf("metadata %v", meta)
	}
	if _, ok := helmConfig(strings.NewReader("not gzip")); ok {
		t.Error("bytes that are not a chart gave a Helm config")
	}
}
