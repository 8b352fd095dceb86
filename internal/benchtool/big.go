package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/packstudio/packstudio/internal/synth"
)

// bigFileSize is the size of each file of the large source: a content
// bundle holds many files of a few MiB.
const bigFileSize = 8 << 20

// benchBigArtifact packs and signs one source of size MiB with packstudio
// (a one-release catalog whose content bundle is that directory) and with
// `tar --sort=name | zstd -3 -T0` plus `openssl dgst -sha256 -sign` on the
// same data, in the same run.
func benchBigArtifact(bin, work string, size int) error {
	dir := filepath.Join(work, "big")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	catalogDir := filepath.Join(dir, "catalog")
	so := synth.Options{Packs: 1, VersionsPerPack: 1, Products: 1, ReleasesPerProduct: 1, Clouds: 1}
	if err := synth.Generate(catalogDir, so); err != nil {
		return err
	}
	bundles, _ := filepath.Glob(filepath.Join(catalogDir, "releases", "*", "*", "bundle"))
	if len(bundles) != 1 {
		return fmt.Errorf("the one-release catalog has %d content bundles, want 1", len(bundles))
	}
	t0 := time.Now()
	if err := writeBigSource(bundles[0], int64(size)<<20); err != nil {
		return err
	}
	fmt.Printf("\nONE LARGE ARTIFACT: %d MiB source of %d MiB files, 3 in 4 log-like text, 1 in 4 random (written in %s)\n",
		size, bigFileSize>>20, time.Since(t0).Round(time.Millisecond))
	if err := writeSite(dir); err != nil {
		return err
	}
	if r := measure(dir, nil, "keygen", bin, "keygen", "--out", "key/site"); r.err != nil {
		return r.err
	}
	peer := fmt.Sprintf("tar --sort=name -cf - -C %q . | zstd -3 -T0 -q -o peer.tar.zst && openssl dgst -sha256 -sign key/site.pem -out peer.sig peer.tar.zst", bundles[0])
	var ours, theirs []run
	for range 2 {
		// The caches of both sides are dropped between rounds, so that
		// each packs and signs from scratch; the source stays in the
		// page cache for both alike.
		os.RemoveAll(filepath.Join(dir, "public"))
		os.RemoveAll(filepath.Join(dir, "cache"))
		ours = append(ours, measure(dir, nil, "packstudio build", bin, "build"))
		os.Remove(filepath.Join(dir, "peer.tar.zst"))
		theirs = append(theirs, measure(dir, nil, "tar | zstd -3 -T0 + openssl", "sh", "-c", peer))
	}
	for i := range ours {
		if err := firstErr(ours[i], theirs[i]); err != nil {
			return err
		}
		fmt.Printf("  round %d: packstudio build %s (CPU %s, peak %s); tar | zstd -3 -T0 + openssl %s (CPU %s); ratio %.2f\n", i+1,
			ours[i].wall.Round(time.Millisecond), ours[i].cpu.Round(time.Millisecond), mib(ours[i].maxRSS),
			theirs[i].wall.Round(time.Millisecond), theirs[i].cpu.Round(time.Millisecond), ours[i].wall.Seconds()/theirs[i].wall.Seconds())
	}
	a, _ := filepath.Glob(filepath.Join(dir, "public", "artifacts", "releases", "*", "*", "*.tar.zst"))
	if len(a) == 1 {
		if fa, err := os.Stat(a[0]); err == nil {
			if fb, err := os.Stat(filepath.Join(dir, "peer.tar.zst")); err == nil {
				fmt.Printf("  compressed: packstudio %s, zstd -3 -T0 %s\n", mib(fa.Size()), mib(fb.Size()))
			}
		}
	}
	return os.RemoveAll(dir)
}

func firstErr(rs ...run) error {
	for _, r := range rs {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// writeBigSource fills dir with size bytes: files of bigFileSize, three in
// four log-like text (compresses about 4:1), one in four random bytes
// (packed images and binaries, which do not compress).
func writeBigSource(dir string, size int64) error {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; int64(i)*bigFileSize < size; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("part-%04d.dat", i)))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		n := min(int64(bigFileSize), size-int64(i)*bigFileSize)
		if i%4 == 3 {
			for k := int64(0); k < n; k += 8 {
				var b [8]byte
				v := r.Uint64()
				for j := range b {
					b[j] = byte(v >> (8 * j))
				}
				w.Write(b[:min(8, n-k)])
			}
		} else {
			for written := int64(0); written < n; {
				line := fmt.Sprintf("2026-01-%02dT%02d:%02d:%02d.%03dZ host-%03d svc=%s req=%08x latency=%dms status=%d\n",
					1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000), r.IntN(200),
					services[r.IntN(len(services))], r.Uint32(), r.IntN(2000), statuses[r.IntN(len(statuses))])
				line = line[:min(int64(len(line)), n-written)]
				w.WriteString(line)
				written += int64(len(line))
			}
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

var (
	services = []string{"api", "auth", "billing", "catalog", "search", "storage", "mirror", "ingest"}
	statuses = []int{200, 200, 200, 200, 201, 204, 304, 400, 404, 500}
)

// writeSite writes the site.toml every bench site uses.
func writeSite(dir string) error {
	site := "title = \"bench\"\nbase_url = \"https://packs.example.com/\"\ncatalog = \"catalog\"\noutput = \"public\"\ncache = \"cache\"\n[signing]\nkey = \"key/site.pem\"\n"
	return os.WriteFile(filepath.Join(dir, "site.toml"), []byte(site), 0o644)
}
