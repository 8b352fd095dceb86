package resolve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadProfiles reads a profile with a pack of each shape and one with
// every problem a pack entry can have: each is reported at its line.
func TestReadProfiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`kind: ClusterProfile
spec:
  template:
    packs:
      - name: ubuntu
        tag: "22.04"
      - {name: kubernetes, version: 1.30.2, layer: k8s, registry: public}
      - name: ubuntu
        tag: "22.04"
`), 0o644)
	packs, err := ReadProfiles([]string{good})
	if err != nil {
		t.Fatal(err)
	}
	if len(packs) != 2 || packs[0] != (Pack{Name: "ubuntu", Version: "22.04", File: good, Line: 5}) ||
		packs[1] != (Pack{Name: "kubernetes", Version: "1.30.2", Layer: "k8s", Registry: "public", File: good, Line: 7}) {
		t.Errorf("packs %+v", packs)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`kind: ClusterProfile
spec:
  template:
    packs:
      - name: ubuntu
      - tag: "1.0"
      - name: "a b"
        tag: "1"
---
kind: ClusterProfile
spec: {}
`), 0o644)
	_, err = ReadProfiles([]string{bad, filepath.Join(dir, "nope.yaml")})
	want := "5 problems with the profiles:\n  " + strings.Join([]string{
		bad + `:5: pack "ubuntu" has no tag or version; pin one`,
		bad + `:6: a pack without a name`,
		bad + `:7: pack "a b": name and version may not hold spaces, '@', '/' or control characters`,
		bad + `:10: a ClusterProfile without spec.template.packs or spec.packs`,
		filepath.Join(dir, "nope.yaml") + `: cannot read: no such file or directory`,
	}, "\n  ")
	if err == nil || err.Error() != want {
		t.Errorf("ReadProfiles: %v\nwant %s", err, want)
	}
}

// FuzzReadProfile feeds hostile YAML to the profile reader: it never
// panics, and each pack it returns has a printable name and version.
func FuzzReadProfile(f *testing.F) {
	f.Add("kind: ClusterProfile\nspec:\n  template:\n    packs:\n      - name: a\n        tag: '1'\n")
	f.Add(`{"kind": "ClusterProfile", "spec": {"packs": [{"name": "a", "version": "1"}]}}`)
	f.Add("kind: ClusterProfile\nspec: &a [*a]\n")
	f.Fuzz(func(t *testing.T, text string) {
		file := filepath.Join(t.TempDir(), "p.yaml")
		os.WriteFile(file, []byte(text), 0o644)
		packs, _ := readFile(file)
		for _, p := range packs {
			if !printable(p.Name) || !printable(p.Version) || p.Line < 1 {
				t.Fatalf("pack %+v", p)
			}
		}
	})
}
