package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/treetest"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

// TestUnpackDeltaOntoRebasedMirror: a far side whose URL lists were
// rebased for re-hosting takes a delta that changes one list: the list
// placed is rebased like those kept, and the whole tree verifies.
func TestUnpackDeltaOntoRebasedMirror(t *testing.T) {
	pub := treetest.NewPublisher(t, "rebased delta")
	base := "https://packs.example.com/" // what treetest signs
	files := map[string]string{
		"a.bin":          "a1",
		"b.bin":          "b",
		"a/urls.txt":     base + "a.bin\n",
		"b/urls.txt":     base + "b.bin\n",
		"public_key.pem": string(pub.Signer.PublicKeyPEM()),
	}
	v1 := pub.Sign(1, files)
	files["a.bin"], files["a/urls.txt"] = "a2", base+"a.bin\n"+base+"b.bin\n"
	v2 := pub.Sign(2, files)

	ctx := context.Background()
	src, stage := t.TempDir(), t.TempDir()
	v1.Write(t, src)
	v2.Write(t, stage)
	full, _, err := mirror.WriteVolumes(src, filepath.Join(t.TempDir(), "full"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	far := filepath.Join(t.TempDir(), "far")
	if _, err := verify.Unpack(ctx, full, far, pub.KeyFile, mirror.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	internal := "https://mirror.internal.example/packs/"
	if _, err := mirror.Rebase(far, internal); err != nil {
		t.Fatal(err)
	}
	held := filepath.Join(t.TempDir(), "held.json")
	h, err := mirror.HeldManifest(far, pub.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Save(held); err != nil {
		t.Fatal(err)
	}
	b, err := mirror.LoadBase(stage, held, "", pub.Key)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mirror.WriteDelta(stage, filepath.Join(t.TempDir(), "delta"), 1<<20, b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Unpack(ctx, w.Paths, far, pub.KeyFile, mirror.UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.OK() || res.Placed != 2 {
		t.Errorf("placed %d, failures %v", res.Placed, res.Report.Failures)
	}
	for _, p := range []string{"a/urls.txt", "b/urls.txt"} {
		list, _ := os.ReadFile(filepath.Join(far, p))
		if strings.Contains(string(list), base) || !strings.HasPrefix(string(list), internal) {
			t.Errorf("%s is not rebased to %s:\n%s", p, internal, list)
		}
	}
}
