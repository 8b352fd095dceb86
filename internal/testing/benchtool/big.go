package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/packstudio/packstudio/internal/testing/synth"
)

// bigFileSize is the size of each file of the large source: a content
// bundle holds many files of a few MiB.
const bigFileSize = 8 << 20

// benchBigArtifact packs and signs one source of size MiB with packstudio
// (a one-release catalog whose content bundle is that directory) and with
// `tar --sort=name | zstd -3 -T0` plus `openssl dgst -sha256 -sign` on the
// same data, in the same run. The build also writes the site's pages (over
// a thousand files even for one release), which the peer does not: so
// beside the whole build, its pack stage (packing and signing every
// artifact, from `build --stats`) is compared with the peer too.
func benchBigArtifact(bin, work string, size int) error {
	dir := filepath.Join(work, "big")
	if err := aside.setAside(dir); err != nil {
		return err
	}
	bundle, err := oneReleaseSite(dir)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := writeBigSource(bundle, int64(size)<<20); err != nil {
		return err
	}
	fmt.Printf("\nONE LARGE ARTIFACT: %d MiB source of %d MiB files, 3 in 4 log-like text, 1 in 4 random (written in %s)\n",
		size, bigFileSize>>20, time.Since(t0).Round(time.Millisecond))
	if r := measure(dir, nil, "keygen", bin, "keygen", "--out", "key/site"); r.err != nil {
		return r.err
	}
	peer := fmt.Sprintf("tar --sort=name -cf - -C %q . | zstd -3 -T0 -q -o peer.tar.zst && openssl dgst -sha256 -sign key/site.pem -out peer.sig peer.tar.zst", bundle)
	fmt.Printf("  %-7s  %-32s  %-10s  %-26s  %-12s  %s\n", "", "packstudio build", "pack stage", "tar | zstd -3 -T0 + openssl", "build / peer", "pack stage / peer")
	var whole, stage []float64
	for round := 1; round <= 5; round++ {
		// Both sides pack and sign from scratch in every round; the
		// source stays in the page cache for both alike.
		if err := setAside(dir, "public", "cache", "peer.tar.zst"); err != nil {
			return err
		}
		ours := measureBuild(dir, "packstudio build", bin)
		theirs := measure(dir, nil, "tar | zstd -3 -T0 + openssl", "sh", "-c", peer)
		if err := firstErr(ours, theirs); err != nil {
			return err
		}
		whole = append(whole, ours.wall.Seconds()/theirs.wall.Seconds())
		stage = append(stage, ours.st.PackTime.Seconds()/theirs.wall.Seconds())
		fmt.Printf("  round %d  %-32s  %-10s  %-26s  %-12.2f  %.2f\n", round,
			fmt.Sprintf("%s (CPU %s, %s)", secs(ours.wall), secs(ours.cpu), mib(ours.maxRSS)),
			secs(ours.st.PackTime),
			fmt.Sprintf("%s (CPU %s)", secs(theirs.wall), secs(theirs.cpu)),
			whole[len(whole)-1], stage[len(stage)-1])
	}
	fmt.Printf("  median: build / peer %.2f, pack stage / peer %.2f\n", median(whole), median(stage))
	if err := reportSizes(dir); err != nil {
		return err
	}
	return aside.setAside(dir)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// oneReleaseSite writes a one-pack, one-release catalog and its site.toml
// into dir and returns the release's content bundle directory.
func oneReleaseSite(dir string) (string, error) {
	catalogDir := filepath.Join(dir, "catalog")
	so := synth.Options{Packs: 1, VersionsPerPack: 1, Products: 1, ReleasesPerProduct: 1, Clouds: 1}
	if err := synth.Generate(catalogDir, so); err != nil {
		return "", err
	}
	bundles, _ := filepath.Glob(filepath.Join(catalogDir, "releases", "*", "*", "bundle"))
	if len(bundles) != 1 {
		return "", fmt.Errorf("the one-release catalog has %d content bundles, want 1", len(bundles))
	}
	return bundles[0], writeSite(dir)
}

// reportSizes prints the sizes of the two compressed bundles of the last round.
func reportSizes(dir string) error {
	ours, _ := filepath.Glob(filepath.Join(dir, "public", "artifacts", "releases", "*", "*", "*.tar.zst"))
	if len(ours) != 1 {
		return fmt.Errorf("the build wrote %d content bundles, want 1", len(ours))
	}
	a, err := os.Stat(ours[0])
	if err != nil {
		return err
	}
	b, err := os.Stat(filepath.Join(dir, "peer.tar.zst"))
	if err != nil {
		return err
	}
	fmt.Printf("  compressed: packstudio %s, zstd -3 -T0 %s (%+.1f%%)\n", mib(a.Size()), mib(b.Size()), 100*(float64(a.Size())/float64(b.Size())-1))
	return nil
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

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
