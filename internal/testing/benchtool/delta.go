package main

import (
	"archive/tar"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/packstudio/packstudio/internal/testing/synth"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

// Targets of issue #21 on the bench catalog with one pack changed: the
// delta at most deltaSizeTarget of a full set's bytes beside the pages
// that change with the pack, and written in at most deltaWriteTarget of a
// full set's time.
const (
	deltaSizeTarget  = 0.01
	deltaWriteTarget = 0.10
)

// The runs of the delta bench, in the order they run and are reported.
const (
	runFullV1   = "full set of v1, empty stage (mirror --volumes)"
	runDelta    = "delta, one pack changed (mirror --volumes --since last)"
	runFullV2   = "full set of v2, stage at v2 (mirror --volumes)"
	runNoop     = "mirror, nothing changed, no volumes (the stage's check)"
	runUnpackV1 = "unpack v1's full set into an empty folder"
	runApply    = "unpack the delta onto v1"
	runUnpackV2 = "unpack v2's full set into an empty folder"
)

// deltaRuns are the runs in report order.
var deltaRuns = []string{runFullV1, runDelta, runFullV2, runNoop, runUnpackV1, runApply, runUnpackV2}

// deltaBench runs the delta stage in dir, a folder of work: the stage, the
// volume sets and the far sides all live there.
type deltaBench struct {
	bin, work, dir string
	source         string // the built tree, as a mirror source
	runs           map[string]run
}

// benchDelta measures the monthly air-gap flow on the synthetic catalog:
// a full set of volumes of the built tree (v1), then after one pack
// changed (v2) a delta --since last and, for comparison, a full set of v2
// from the same stage; then unpacking v1's set into an empty folder, the
// delta onto it, and v2's full set into another empty folder.
func benchDelta(o options, bin, work string) error {
	so, catalogDir, err := builtSite(o, bin, work)
	if err != nil {
		return err
	}
	if err := setAside(work, "delta"); err != nil {
		return err
	}
	abs, err := filepath.Abs(work)
	if err != nil {
		return err
	}
	public := filepath.Join(abs, "public")
	d := &deltaBench{bin: bin, work: abs, dir: filepath.Join(abs, "delta"), source: "file://" + public, runs: map[string]run{}}
	if err := d.mirror(runFullV1, "full-v1"); err != nil {
		return err
	}
	pack, err := synth.Touch(catalogDir, so)
	if err != nil {
		return err
	}
	rebuild := measureBuild(work, "rebuild, one pack changed", bin)
	if rebuild.err != nil {
		return rebuild.err
	}
	fmt.Printf("  rebuilt with %s changed: %d files written (%s)\n", pack, rebuild.st.FilesWritten, mib(rebuild.st.BytesWritten))
	for _, step := range []func() error{
		func() error { return d.mirror(runDelta, "delta", "--since", mirror.SinceLast) },
		func() error { return d.mirror(runFullV2, "full-v2") },
		func() error { return d.mirror(runNoop, "") },
		func() error { return d.unpack(runUnpackV1, "full-v1", "far") },
		func() error { return d.unpack(runApply, "delta", "far") },
		func() error { return d.unpack(runUnpackV2, "full-v2", "far-v2") },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	// Both far sides must hold the tree just built, or the runs timed
	// something else than the flow.
	for _, far := range []string{"far", "far-v2"} {
		if err := sameManifest(public, filepath.Join(d.dir, far)); err != nil {
			return err
		}
	}
	full, err := readSetBytes(d.volumes("full-v2"))
	if err != nil {
		return err
	}
	delta, err := readSetBytes(d.volumes("delta"))
	if err != nil {
		return err
	}
	reportDelta(os.Stdout, d.runs, full, delta, rebuild, pack)
	return setAside(work, "delta")
}

// deltaOutput is what each run must print, so that a run that did less
// (no volumes, a full set instead of a delta, nothing applied) is not
// timed as if it had done the work.
var deltaOutput = map[string]string{
	runFullV1:   "wrote ",
	runDelta:    "delta from manifest version",
	runFullV2:   "wrote ",
	runNoop:     "fetched 0 objects",
	runUnpackV1: "unpacked ",
	runApply:    "applied the delta from manifest version",
	runUnpackV2: "unpacked ",
}

// mirror times a mirror of the built tree into the stage, writing volumes
// into vols/set unless set is "".
func (d *deltaBench) mirror(name, set string, extra ...string) error {
	args := []string{"mirror", d.source, filepath.Join(d.dir, "stage"), "--key", "key/site.pub.pem"}
	if set != "" {
		args = append(args, "--volumes", filepath.Join(d.dir, "vols", set))
	}
	return d.timed(name, append(args, extra...)...)
}

// unpack times unpacking the set vols/set into far.
func (d *deltaBench) unpack(name, set, far string) error {
	vols := d.volumes(set)
	if len(vols) == 0 {
		return fmt.Errorf("%s: no volumes in %s", name, filepath.Join(d.dir, "vols", set))
	}
	args := append(append([]string{"unpack", "--key", "key/site.pub.pem"}, vols...), filepath.Join(d.dir, far))
	return d.timed(name, args...)
}

func (d *deltaBench) timed(name string, args ...string) error {
	r := measure(d.work, nil, name, d.bin, args...)
	if r.err == nil && !bytes.Contains(r.out, []byte(deltaOutput[name])) {
		r.err = fmt.Errorf("%s: its output does not say %q:\n%s", name, deltaOutput[name], r.out)
	}
	if r.err != nil {
		return r.err
	}
	d.runs[name] = r
	fmt.Printf("  %s: %s (CPU %s)\n", name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond))
	return nil
}

// volumes lists the volumes of vols/set.
func (d *deltaBench) volumes(set string) []string {
	vols, _ := filepath.Glob(filepath.Join(d.dir, "vols", set, "vol-*.tar"))
	return vols
}

// sameManifest checks that dir holds the manifest of the tree in public.
func sameManifest(public, dir string) error {
	want, err := os.ReadFile(filepath.Join(public, tree.ManifestName))
	if err != nil {
		return err
	}
	got, err := os.ReadFile(filepath.Join(dir, tree.ManifestName))
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s does not hold the manifest of %s after unpacking", dir, public)
	}
	return nil
}

// setBytes is what a set of volumes holds, by kind: the bytes of the
// artifacts and their signatures (under artifacts/), of everything else
// the tree holds (pages, lists, JSON, assets: "pages"), of the signed
// manifest and index each volume carries, and tar's own headers and
// padding (the rest of the files' sizes).
type setBytes struct {
	volumes                   int
	total                     int64
	artifacts, pages, carried int64
	artifactFiles, pageFiles  int
	pageNames                 map[string]*nameBytes // pages by file name
}

// nameBytes is what the pages of one file name hold.
type nameBytes struct {
	name  string
	bytes int64
	files int
}

func (s setBytes) tarOverhead() int64 { return s.total - s.artifacts - s.pages - s.carried }

// largestPages are the n file names whose pages hold the most bytes,
// largest first.
func (s setBytes) largestPages(n int) []nameBytes {
	var all []nameBytes
	for _, nb := range s.pageNames {
		all = append(all, *nb)
	}
	slices.SortFunc(all, func(a, b nameBytes) int {
		return cmp.Or(cmp.Compare(b.bytes, a.bytes), strings.Compare(a.name, b.name))
	})
	return all[:min(n, len(all))]
}

// readSetBytes reads the volumes at paths: their sizes, and each one's
// index for the objects it holds (a split object counted once).
func readSetBytes(paths []string) (setBytes, error) {
	s := setBytes{volumes: len(paths), pageNames: map[string]*nameBytes{}}
	for _, p := range paths {
		if err := s.add(p); err != nil {
			return s, fmt.Errorf("%s: %w", p, err)
		}
	}
	return s, nil
}

func (s *setBytes) add(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	s.total += fi.Size()
	tr := tar.NewReader(f)
	var idx *mirror.VolumeIndex
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch h.Name {
		case tree.ManifestName, tree.ManifestSigName:
			s.carried += h.Size
		case "volume.json":
			s.carried += h.Size
			idx = new(mirror.VolumeIndex)
			if err := json.NewDecoder(tr).Decode(idx); err != nil {
				return fmt.Errorf("volume.json: %w", err)
			}
		}
	}
	if idx == nil {
		return fmt.Errorf("no volume.json: not a packstudio volume")
	}
	for _, e := range idx.Entries {
		first := e.Offset == 0
		if strings.HasPrefix(e.Path, tree.ArtifactsDir) {
			s.artifacts += e.Size
			if first {
				s.artifactFiles++
			}
		} else {
			name := path.Base(e.Path)
			if s.pageNames[name] == nil {
				s.pageNames[name] = &nameBytes{name: name}
			}
			s.pages += e.Size
			s.pageNames[name].bytes += e.Size
			if first {
				s.pageFiles++
				s.pageNames[name].files++
			}
		}
	}
	return nil
}

// deltaFigure is one figure of the delta against its target (0: none).
type deltaFigure struct {
	name          string
	value, target float64
}

// deltaFigures holds the delta against full sets: its bytes, and those
// without its pages against the size target; its write time against the
// full set of the same tree from the same stage (the same month's work,
// carried in full) and against the first full set; its apply time
// against a full unpack of the same tree.
func deltaFigures(runs map[string]run, full, delta setBytes) []deltaFigure {
	wall := func(num, den string) float64 { return runs[num].wall.Seconds() / runs[den].wall.Seconds() }
	return []deltaFigure{
		{"delta bytes / full set bytes", float64(delta.total) / float64(full.total), 0},
		{"delta bytes without its pages / full set bytes", float64(delta.total-delta.pages) / float64(full.total), deltaSizeTarget},
		{"delta write / full set write (v2, same stage)", wall(runDelta, runFullV2), deltaWriteTarget},
		{"delta write / first full set write (empty stage)", wall(runDelta, runFullV1), 0},
		{"the stage's check / delta write", wall(runNoop, runDelta), 0},
		{"delta apply / full unpack of v2", wall(runApply, runUnpackV2), 0},
	}
}

// reportDelta prints the runs, the sets' bytes by kind and the figures
// against their targets.
func reportDelta(out io.Writer, runs map[string]run, full, delta setBytes, rebuild run, pack string) {
	fmt.Fprintf(out, "\nDELTA VOLUMES: a full set of the built tree (v1), %s changed and rebuilt (v2: %d files written, %s), a delta --since last; one run each:\n\n",
		pack, rebuild.st.FilesWritten, mib(rebuild.st.BytesWritten))
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\twall\tCPU\tpeak RSS\t")
	for _, name := range deltaRuns {
		r := runs[name]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t\n", name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), mib(r.maxRSS))
	}
	w.Flush()
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "set\tvolumes\tbytes\tartifacts + signatures\tpages (everything else)\tmanifest + index, each volume\ttar headers\t")
	for _, s := range []struct {
		name string
		b    setBytes
	}{{"full set of v2", full}, {"delta v1 → v2", delta}} {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s in %d files\t%s in %d files\t%s\t%s\t\n", s.name, s.b.volumes, mibKiB(s.b.total),
			mibKiB(s.b.artifacts), s.b.artifactFiles, mibKiB(s.b.pages), s.b.pageFiles, mibKiB(s.b.carried), mibKiB(s.b.tarOverhead()))
	}
	w.Flush()
	fmt.Fprint(out, "the delta's pages by file name:")
	for _, nb := range delta.largestPages(6) {
		fmt.Fprintf(out, " %s %s in %d,", nb.name, mibKiB(nb.bytes), nb.files)
	}
	fmt.Fprintln(out, " ...")
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "figure\tvalue\ttarget\t\t")
	for _, f := range deltaFigures(runs, full, delta) {
		if f.target == 0 {
			fmt.Fprintf(w, "%s\t%.4f\t-\t\t\n", f.name, f.value)
			continue
		}
		fmt.Fprintf(w, "%s\t%.4f\t≤ %.2f\t%s\t\n", f.name, f.value, f.target, verdict(f.value, f.target))
	}
	w.Flush()
	fmt.Fprintln(out, "pages: every object of the delta outside artifacts/ (HTML, JSON, urls.txt, SHA256SUMS...), those the rebuild rewrote;")
	fmt.Fprintln(out, "the size target is the rest (the artifacts, the signed manifest every volume carries, tar) against the full set.")
	fmt.Fprintln(out, "Both writes first hash every object the stage holds, to skip those it has: the stage's check, timed alone above;")
	fmt.Fprintln(out, "every unpack, the delta's too, then verifies the whole tree it unpacked into.")
	fmt.Fprintln(out, "These machines are shared and noisy: read the ratios, measured in the same run, rather than the times.")
}

// mibKiB formats n in MiB, or in KiB below one MiB.
func mibKiB(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return mib(n)
}
