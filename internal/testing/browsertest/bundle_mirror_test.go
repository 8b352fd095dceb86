package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// TestBuilderBundleMirrors closes the loop the builder exists for: a bundle
// chosen in the page and saved as bundle.json is what `mirror --bundle`
// reads, and the mirror holds exactly that bundle's artifacts and
// signatures, verified.
func TestBuilderBundleMirrors(t *testing.T) {
	s := demoSite(t)
	root := ServeRoot(t, s.Dir)
	picks := []string{"ubuntu-aws@24.04", "kubernetes@1.35.2", "cni-calico@3.32.0", "csi-aws-ebs@1.63.1",
		"prometheus-operator@88.3.0", "cost-analyzer@1.103.3"}
	p := openWithBlobHook(t, root, "bundle/palette/4.9.2/aws/index.html")
	for _, id := range picks {
		v := versionByID(s.Catalog, id)
		if v == nil {
			t.Fatalf("the demo has no %s", id)
		}
		choose(p, v.Pack.Layer, id)
	}
	file := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(file, []byte(download(p, "bundle.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := mirror.ReadBundle(file)
	if err != nil {
		t.Fatalf("mirror --bundle refuses what the page saved: %v", err)
	}

	src, err := tree.OpenURL(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := sign.LoadPublicKey(filepath.Join(s.Dir, "public_key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "mirror")
	if _, err := mirror.Mirror(context.Background(), src, key, dest, mirror.Options{Now: buildTime, Filter: &mirror.Filter{Bundle: b}}); err != nil {
		t.Fatalf("mirror --bundle: %v", err)
	}
	var want, got []string
	for _, id := range picks {
		name, version, _ := strings.Cut(id, "@")
		base := "artifacts/packs/" + name + "/" + name + "-" + version
		want = append(want, base+".sig.bin", base+".zst")
	}
	filepath.WalkDir(filepath.Join(dest, "artifacts"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dest, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("mirrored artifacts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
