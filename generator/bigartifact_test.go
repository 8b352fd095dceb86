package generator

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/packstudio/packstudio/generator/pack"
	"github.com/packstudio/packstudio/internal/tree"
)

// TestLargeArtifactAnyCoreCount builds the test site, with a file source
// of several zstd frames, on one core and on four: the artifact must be the
// same bytes, decompress to the source, pass zstd -t, and its signature
// must verify with openssl.
func TestLargeArtifactAnyCoreCount(t *testing.T) {
	for _, tool := range []string{"openssl", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (make test installs it in CI)", tool)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	var src bytes.Buffer
	for src.Len() < 2*pack.FrameSize+pack.FrameSize/2 {
		src.WriteString(strings.Repeat("abcdefgh"[r.IntN(8):], 1+r.IntN(20)))
		src.WriteByte(byte(r.Uint32()))
	}
	const art = "artifacts/packs/ubuntu/ubuntu-20.04.zst"
	var got [][]byte
	for _, procs := range []int{1, 4} {
		s := newSite(t)
		if err := os.WriteFile(s.path("catalog/payload/ubuntu-20.04.img"), src.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		prev := runtime.GOMAXPROCS(procs)
		_, err := s.build()
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, []byte(s.read(art)))
		out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", s.out("public_key.pem"), "-signature", s.out(path.Dir(art)+"/"+tree.SigPath(path.Base(art))), s.out(art)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verified OK") {
			t.Errorf("GOMAXPROCS=%d: openssl rejects the signature: %v %s", procs, err, out)
		}
		if out, err := exec.Command("zstd", "-t", s.out(art)).CombinedOutput(); err != nil {
			t.Errorf("GOMAXPROCS=%d: zstd -t: %v %s", procs, err, out)
		}
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Fatalf("GOMAXPROCS=1 and =4 built different artifacts (%d and %d bytes)", len(got[0]), len(got[1]))
	}
	dec, _ := zstd.NewReader(bytes.NewReader(got[0]))
	defer dec.Close()
	if raw, err := io.ReadAll(dec); err != nil || !bytes.Equal(raw, src.Bytes()) {
		t.Errorf("the artifact does not decompress to its source (%d bytes, %v)", len(raw), err)
	}
}
