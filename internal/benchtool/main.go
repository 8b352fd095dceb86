// Command benchtool measures packstudio on a synthetic catalog and prints
// the figures `make bench` reports: for a full build, an unchanged rebuild
// and a rebuild after one pack changed, wall and CPU time, peak memory,
// files and bytes written, and bytes per (combination, pack version) row.
// Copying the built tree with cp -r in the same run gives a floor for the
// cost of writing that many files on this machine, since the machines are
// shared and noisy: figures are best read as ratios to it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/packstudio/packstudio/internal/synth"
)

type stats struct {
	Packs, PackVersions, Combinations int
	Rows, CompatPairs                 int64
	Packed, Reused, Signed            int
	FilesWritten, FilesUnchanged      int64
	BytesWritten                      int64
	Objects                           int
	ObjectBytes                       int64
}

type run struct {
	name      string
	wall, cpu time.Duration
	maxRSS    int64 // bytes
	st        stats
}

func main() {
	bin := flag.String("bin", "bin/packstudio", "packstudio binary")
	work := flag.String("work", ".bench", "scratch directory (replaced)")
	packs := flag.Int("packs", 1000, "packs in the synthetic catalog")
	versions := flag.Int("versions", 4, "versions per pack")
	flag.Parse()
	if err := bench(*bin, *work, synth.Options{Packs: *packs, VersionsPerPack: *versions, Products: 2, ReleasesPerProduct: 8, Clouds: 8}); err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

func bench(bin, work string, o synth.Options) error {
	bin, _ = filepath.Abs(bin)
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	catalogDir := filepath.Join(work, "catalog")
	t0 := time.Now()
	if err := synth.Generate(catalogDir, o); err != nil {
		return err
	}
	fmt.Printf("synthetic catalog: %d packs x %d versions, %d products x %d releases, %d clouds (generated in %s)\n",
		o.Packs, o.VersionsPerPack, o.Products, o.ReleasesPerProduct, o.Clouds, time.Since(t0).Round(time.Millisecond))
	site := `title = "bench"
base_url = "https://packs.example.com/"
catalog = "catalog"
output = "public"
cache = "cache"
[signing]
key = "key/site.pem"
`
	if err := os.WriteFile(filepath.Join(work, "site.toml"), []byte(site), 0o644); err != nil {
		return err
	}
	if _, err := measure(work, "keygen", bin, "keygen", "--out", "key/site"); err != nil {
		return err
	}
	var runs []run
	build := func(name string) error {
		r, err := measure(work, name, bin, "build", "--stats", "stats.json")
		if err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(work, "stats.json"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &r.st); err != nil {
			return err
		}
		runs = append(runs, r)
		return nil
	}
	if err := build("full build"); err != nil {
		return err
	}
	if err := build("rebuild, nothing changed"); err != nil {
		return err
	}
	name, err := synth.Touch(catalogDir, o)
	if err != nil {
		return err
	}
	if err := build("rebuild, one pack changed (" + name + ")"); err != nil {
		return err
	}
	cp, err := measure(work, "cp -r of the built tree", "cp", "-r", "public", "public-copy")
	if err != nil {
		return err
	}
	os.RemoveAll(filepath.Join(work, "public-copy"))

	full := runs[0].st
	fmt.Printf("tree: %d combinations, %d (combination, pack version) rows, %d compat pairs, %d objects, %s\n",
		full.Combinations, full.Rows, full.CompatPairs, full.Objects, mib(full.ObjectBytes))
	fmt.Printf("bytes per row over all files: %.0f\n\n", float64(full.ObjectBytes)/float64(full.Rows))
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\twall\tCPU\tpeak RSS\tfiles written\tbytes written\tpacked\tsigned\twall / cp -r\t")
	for _, r := range runs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%.2f\t\n", r.name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond),
			mib(r.maxRSS), r.st.FilesWritten, mib(r.st.BytesWritten), r.st.Packed, r.st.Signed, r.wall.Seconds()/cp.wall.Seconds())
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t\t\t1.00\t\n", cp.name, cp.wall.Round(time.Millisecond), cp.cpu.Round(time.Millisecond), mib(cp.maxRSS), full.Objects, mib(full.ObjectBytes))
	return w.Flush()
}

// measure runs a command in dir and returns its wall time, CPU time (user
// plus system) and peak resident memory.
func measure(dir, name, prog string, args ...string) (run, error) {
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return run{}, fmt.Errorf("%s: %v\n%s", name, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return run{name: name, wall: wall, cpu: cpu, maxRSS: ru.Maxrss * 1024}, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
