package pack

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// bigTree writes a directory whose tar spans several frames: text that
// compresses and random bytes that do not.
func bigTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 7))
	random := make([]byte, FrameSize+12345)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	var text bytes.Buffer
	for i := 0; text.Len() < 2*FrameSize; i++ {
		text.WriteString("line " + strconv.Itoa(i) + " of a log that compresses well " + strconv.Itoa(r.IntN(1000)) + "\n")
	}
	for name, data := range map[string][]byte{"a/random.bin": random, "b/text.log": text.Bytes(), "c/small.txt": []byte("small\n")} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// packWithProcs packs src with GOMAXPROCS set to procs.
func packWithProcs(t *testing.T, src string, procs int) []byte {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	return packBytes(t, src, Zstd, "big-1.0")
}

// TestLargeArtifactSameBytesOnAnyCoreCount packs a source of several
// frames with one core and with four: the bytes must be the same, the
// stream must decode to the very tar the packer writes, and the zstd
// command line must accept it as one stream of independent frames, one per
// FrameSize of input (what lets every core compress a part).
func TestLargeArtifactSameBytesOnAnyCoreCount(t *testing.T) {
	src := bigTree(t)
	one := packWithProcs(t, src, 1)
	four := packWithProcs(t, src, 4)
	if !bytes.Equal(one, four) {
		t.Fatalf("GOMAXPROCS=1 and =4 packed different bytes (%d and %d)", len(one), len(four))
	}
	again := packWithProcs(t, src, 4)
	if !bytes.Equal(one, again) {
		t.Fatal("packing twice with four cores gave different bytes")
	}

	dec, _ := zstd.NewReader(bytes.NewReader(one))
	defer dec.Close()
	raw, err := io.ReadAll(dec)
	if err != nil {
		t.Fatal(err)
	}
	var tarStream bytes.Buffer
	if err := writeTar(&tarStream, src, "big-1.0", func(name string) (io.ReadCloser, error) { return os.Open(name) }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, tarStream.Bytes()) {
		t.Error("the stream does not decode to the tar of the source")
	}

	if _, err := exec.LookPath("zstd"); err != nil {
		t.Fatal("zstd is not installed (make test installs it in CI)")
	}
	f := filepath.Join(t.TempDir(), "big.zst")
	os.WriteFile(f, one, 0o644)
	if out, err := exec.Command("zstd", "-t", f).CombinedOutput(); err != nil {
		t.Fatalf("zstd -t: %v %s", err, out)
	}
	out, err := exec.Command("zstd", "-lv", f).CombinedOutput()
	if err != nil {
		t.Fatalf("zstd -lv: %v %s", err, out)
	}
	m := regexp.MustCompile(`Zstandard Frames: (\d+)`).FindSubmatch(out)
	want := (len(raw) + FrameSize - 1) / FrameSize
	if m == nil || string(m[1]) != strconv.Itoa(want) {
		t.Errorf("zstd -lv reports %q frames, want %d (one per %d bytes of a %d-byte tar):\n%s", m, want, FrameSize, len(raw), out)
	}
}

// TestEmptyInputIsOneFrame: an empty file still packs to a valid .zst.
func TestEmptyInputIsOneFrame(t *testing.T) {
	src := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(src, nil, 0o644)
	out := packBytes(t, src, Zstd, "")
	f := filepath.Join(t.TempDir(), "empty.zst")
	os.WriteFile(f, out, 0o644)
	if msg, err := exec.Command("zstd", "-t", f).CombinedOutput(); err != nil || len(out) == 0 {
		t.Fatalf("zstd -t of an empty input's artifact (%d bytes): %v %s", len(out), err, msg)
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after--; w.after < 0 {
		return 0, io.ErrShortWrite
	}
	return len(p), nil
}

// TestHelpersAreReturned: after a large pack, and after one whose output
// fails mid-stream, every helper is given back (a lost one would leave
// later artifacts on fewer cores) and the error is reported.
func TestHelpersAreReturned(t *testing.T) {
	src := bigTree(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	packBytes(t, src, Zstd, "x")
	if n := helpers.Load(); n != 0 {
		t.Fatalf("%d helpers still taken after packing", n)
	}
	if err := Write(&failingWriter{after: 1}, src, Zstd, "x", nil); err == nil {
		t.Fatal("a failing output was not reported")
	}
	if n := helpers.Load(); n != 0 {
		t.Fatalf("%d helpers still taken after a failed pack", n)
	}
}

// TestLargeArtifactsPackedAtOnce packs several large sources at the same
// time on one and two cores, as a build does: they compete for the
// helpers, so a frame waits for its own artifact's oldest frame or is
// compressed by the goroutine that read it. Every artifact must still be
// the bytes it is when packed alone, and every helper given back.
func TestLargeArtifactsPackedAtOnce(t *testing.T) {
	src := bigTree(t)
	alone := packWithProcs(t, src, 4)
	for _, procs := range []int{1, 2} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			outs := make([]bytes.Buffer, 4)
			errs := make([]error, len(outs))
			var wg sync.WaitGroup
			for i := range outs {
				wg.Go(func() { errs[i] = Write(&outs[i], src, Zstd, "big-1.0", nil) })
			}
			wg.Wait()
			for i := range outs {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if !bytes.Equal(outs[i].Bytes(), alone) {
					t.Errorf("GOMAXPROCS=%d: artifact %d of %d packed at once differs from the same source packed alone", procs, i, len(outs))
				}
			}
		}()
		if n := helpers.Load(); n != 0 {
			t.Fatalf("%d helpers still taken after packing at once", n)
		}
	}
}
