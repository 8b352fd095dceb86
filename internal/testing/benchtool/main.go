// Command benchtool measures packstudio on a synthetic catalog and prints
// the figures `make bench` reports:
//
//   - build: a full build, an unchanged rebuild and a rebuild after one
//     pack changed: wall and CPU time, peak memory, files and bytes written,
//     bytes per (combination, pack version) row. cp -r of the built tree in
//     the same run is the floor for writing that many files here.
//   - publish: the same tree to a fresh MinIO, side by side with
//     `aws s3 sync` (Debian's AWS CLI v2) and `rclone sync`: full, nothing
//     changed, one pack changed.
//   - push (-push): the built tree's artifacts and signatures into the
//     CNCF distribution registry beside `oras push` of the same files
//     (push.go).
//   - delta (-delta): a full set of tar volumes of the built tree, a delta
//     --since last after one pack changed beside a full set of the same
//     tree, and unpacking each (delta.go).
//
// These machines are shared and noisy: read the figures as ratios between
// tools measured in the same run.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/packstudio/packstudio/generator"
	"github.com/packstudio/packstudio/internal/testing/synth"
	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
)

type run struct {
	name      string
	wall, cpu time.Duration
	serverCPU time.Duration   // of the MinIO server during the run
	maxRSS    int64           // bytes
	st        generator.Stats // the build's own figures (build --stats)
	out       []byte          // what it printed
	err       error
}

type options struct {
	bin, work       string
	packs, versions int
	publish         bool
	aws, rclone     string
	awsFull         bool
	bigMiB          int    // size of the one large artifact; 0 skips it
	hugo            string // Hugo to compare fresh builds with; "" skips it
	catalog         bool   // measure builds of the synthetic catalog
	cp              bool   // time cp -r of the built tree as the floor
	keepTrash       bool   // leave the replaced trees for the caller to delete
	push            bool   // measure push into a registry beside oras
	delta           bool   // measure delta volumes against full sets
	pushRounds      int
	jobs            int // parallel pushes, ours and the peers'
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/packstudio", "packstudio binary")
	flag.StringVar(&o.work, "work", ".bench", "scratch directory (replaced; the trees it replaces wait in <work>.trash until the end)")
	flag.IntVar(&o.packs, "packs", 1000, "packs in the synthetic catalog")
	flag.IntVar(&o.versions, "versions", 4, "versions per pack")
	flag.BoolVar(&o.publish, "publish", true, "also measure publish against MinIO, aws s3 sync and rclone")
	flag.StringVar(&o.aws, "aws", "/usr/bin/aws", "AWS CLI to compare with (Debian's v2 is the faster peer)")
	flag.StringVar(&o.rclone, "rclone", "rclone", "rclone to compare with")
	flag.BoolVar(&o.awsFull, "aws-full", false, "also time aws s3 sync's full upload (about 30 objects/s against MinIO here: ~25 min); otherwise its bucket is seeded untimed")
	flag.IntVar(&o.bigMiB, "big", 0, "also pack and sign one source of this many MiB against tar | zstd -3 -T0 + openssl (0: skip)")
	flag.StringVar(&o.hugo, "hugo", "hugo", "Hugo to compare the fresh build with (Debian's package; \"\" skips it)")
	flag.BoolVar(&o.catalog, "catalog", true, "measure builds of the synthetic catalog")
	flag.BoolVar(&o.cp, "cp", true, "time cp -r of the built tree, the floor for writing that many files")
	flag.BoolVar(&o.keepTrash, "keep-trash", false, "leave the replaced trees in <work>.trash (for runs back to back: deleting them would slow the next run's builds)")
	flag.BoolVar(&o.push, "push", false, "also measure packstudio push into the distribution registry beside oras (builds the tree if -catalog=false)")
	flag.IntVar(&o.pushRounds, "push-rounds", 3, "rounds of the push comparison, each into fresh registries; medians are reported")
	flag.IntVar(&o.jobs, "jobs", 4, "parallel pushes: packstudio push --jobs, xargs -P for oras")
	flag.BoolVar(&o.delta, "delta", false, "also measure delta volumes (mirror --volumes --since last, unpack) against full sets, one pack changed (builds the tree if -catalog=false)")
	flag.Parse()
	if err := bench(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

func bench(o options) error {
	bin, _ := filepath.Abs(o.bin)
	// The last run's work folder is deleted after this run's timings.
	aside = trash{dir: filepath.Clean(o.work) + ".trash"}
	if err := aside.setAside(o.work); err != nil {
		return err
	}
	if !o.keepTrash {
		defer aside.empty()
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	if o.catalog {
		if err := benchCatalog(o, bin, o.work); err != nil {
			return err
		}
	}
	if o.delta {
		if err := benchDelta(o, bin, o.work); err != nil {
			return err
		}
	}
	if o.push {
		if err := benchPush(o, bin, o.work); err != nil {
			return err
		}
	}
	if o.bigMiB > 0 {
		return benchBigArtifact(bin, o.work, o.bigMiB)
	}
	return nil
}

// benchCatalog builds the synthetic catalog: full, unchanged, one pack
// changed; then publishes and mirrors it.
func benchCatalog(o options, bin, work string) error {
	so, catalogDir, err := prepareSite(o, bin, work)
	if err != nil {
		return err
	}

	var pub *publisher
	if o.publish {
		if pub, err = newPublisher(o, work, bin); err != nil {
			fmt.Println("publish figures skipped:", err)
		} else {
			defer pub.stop()
		}
	}

	var builds []run
	build := func(name string) error {
		r := measureBuild(work, name, bin)
		builds = append(builds, r)
		return r.err
	}
	// The fresh build. Beside Hugo, both alternate for hugoRounds rounds,
	// each from an empty output and cache, and the median round of each
	// side is reported: one pair of runs on these shared machines can be
	// off by half.
	rounds := 1
	hugoBin := o.hugo
	if hugoBin != "" {
		if _, err := exec.LookPath(hugoBin); err != nil {
			fmt.Println("Hugo not measured:", hugoBin, "is not installed (apt-get install hugo)")
			hugoBin = ""
		} else {
			rounds = hugoRounds
		}
	}
	var fresh, hugos []run
	hugoFiles := 0
	for range rounds {
		if err := setAside(work, "public", "cache"); err != nil {
			return err
		}
		r := measureBuild(work, "full build", bin)
		if r.err != nil {
			return r.err
		}
		fresh = append(fresh, r)
		if hugoBin != "" {
			h, n, err := benchHugo(hugoBin, work)
			if err != nil {
				return err
			}
			hugos, hugoFiles = append(hugos, h), n
		}
	}
	// The tree and cache are the last round's; every round built the same.
	builds = append(builds, medianRun(fresh))
	if pub != nil {
		pub.round("full publish")
		pub.round("publish, nothing changed")
	}
	if err := build("rebuild, nothing changed"); err != nil {
		return err
	}
	name, err := synth.Touch(catalogDir, so)
	if err != nil {
		return err
	}
	if err := build("rebuild, one pack changed (" + name + ")"); err != nil {
		return err
	}
	if pub != nil {
		pub.round("publish, one pack changed")
		pub.mirrorRound("full mirror (down)")
		pub.mirrorRound("mirror, nothing changed")
	}
	cp := run{name: "cp -r of the built tree (not timed)", wall: time.Nanosecond}
	if o.cp {
		cp = measure(work, nil, "cp -r of the built tree", "cp", "-r", "public", "public-copy")
		if cp.err != nil {
			return cp.err
		}
		if err := setAside(work, "public-copy"); err != nil {
			return err
		}
	}

	full := builds[0].st
	fmt.Printf("\nBUILD: %d combinations, %d (combination, pack version) rows, %d compat conflicts, %d objects, %s\n",
		full.Combinations, full.Rows, full.CompatConflicts, full.Objects, mib(full.ObjectBytes))
	fmt.Printf("bytes per row over all files: %.0f, of which compat files: %.0f (%s, %.1f%% of all bytes)\n\n",
		float64(full.ObjectBytes)/float64(full.Rows), float64(full.CompatBytes)/float64(full.Rows),
		mib(full.CompatBytes), 100*float64(full.CompatBytes)/float64(full.ObjectBytes))
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "run\twall\tCPU\tpeak RSS\tfiles written\tbytes written\tpacked\tsigned\twall / cp -r\t")
	for _, r := range builds {
		ratio := "-"
		if o.cp {
			ratio = fmt.Sprintf("%.2f", r.wall.Seconds()/cp.wall.Seconds())
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\t\n", r.name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond),
			mib(r.maxRSS), r.st.FilesWritten, mib(r.st.BytesWritten), r.st.Packed, r.st.Signed, ratio)
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t\t\t1.00\t\n", cp.name, cp.wall.Round(time.Millisecond), cp.cpu.Round(time.Millisecond), mib(cp.maxRSS), full.Objects, mib(full.ObjectBytes))
	w.Flush()
	fmt.Printf("no-op rebuild / full build: %.2f wall, %.2f CPU\n", builds[1].wall.Seconds()/builds[0].wall.Seconds(), builds[1].cpu.Seconds()/builds[0].cpu.Seconds())
	if len(hugos) > 0 {
		reportHugo(builds[0], medianRun(hugos), hugoFiles)
	}
	if pub != nil {
		pub.report()
	}
	return nil
}

// prepareSite writes the synthetic catalog, its site.toml and a key into
// work.
func prepareSite(o options, bin, work string) (so synth.Options, catalogDir string, err error) {
	so = siteOptions(o)
	catalogDir = filepath.Join(work, "catalog")
	t0 := time.Now()
	if err := synth.Generate(catalogDir, so); err != nil {
		return so, "", err
	}
	fmt.Printf("synthetic catalog: %d packs x %d versions, %d products x %d releases, %d clouds (generated in %s)\n",
		so.Packs, so.VersionsPerPack, so.Products, so.ReleasesPerProduct, so.Clouds, time.Since(t0).Round(time.Millisecond))
	if err := writeSite(work); err != nil {
		return so, "", err
	}
	if r := measure(work, nil, "keygen", bin, "keygen", "--out", "key/site"); r.err != nil {
		return so, "", r.err
	}
	// A build records its inputs for the next one only when none changed
	// within a second of its start (a stat cannot tell apart two edits in
	// one tick of the file system's clock): a site is older than that.
	time.Sleep(time.Second)
	return so, catalogDir, nil
}

func siteOptions(o options) synth.Options {
	return synth.Options{Packs: o.packs, VersionsPerPack: o.versions, Products: 2, ReleasesPerProduct: 8, Clouds: 8}
}

// builtSite returns the synthetic catalog's options and folder in work,
// generating and building it first unless an earlier stage of this run
// built it.
func builtSite(o options, bin, work string) (synth.Options, string, error) {
	catalogDir := filepath.Join(work, "catalog")
	if _, err := os.Stat(filepath.Join(work, "public", tree.ManifestName)); err == nil {
		return siteOptions(o), catalogDir, nil
	}
	so, catalogDir, err := prepareSite(o, bin, work)
	if err != nil {
		return so, "", err
	}
	if r := measureBuild(work, "build", bin); r.err != nil {
		return so, "", r.err
	}
	return so, catalogDir, nil
}

// publisher runs the publish rounds of packstudio and its peers against
// one fresh MinIO server, each into a bucket of its own.
type publisher struct {
	o      options
	work   string
	bin    string
	minio  *testenv.MinIO
	tools  []string // packstudio, aws, rclone (those installed)
	rounds []string
	runs   map[string]map[string]run // round → tool → run
}

func newPublisher(o options, work, bin string) (*publisher, error) {
	mbin, err := testenv.MinIOBinary()
	if err != nil {
		return nil, err
	}
	m, err := testenv.StartMinIO(mbin, false)
	if err != nil {
		return nil, err
	}
	p := &publisher{o: o, work: work, bin: bin, minio: m, tools: []string{"packstudio"}, runs: map[string]map[string]run{}}
	if _, err := os.Stat(o.aws); err == nil {
		p.tools = append(p.tools, "aws s3 sync")
	} else {
		fmt.Println("aws s3 sync not measured:", o.aws, "is not installed (apt-get install awscli)")
	}
	if _, err := exec.LookPath(o.rclone); err == nil {
		p.tools = append(p.tools, "rclone sync")
	} else {
		fmt.Println("rclone sync not measured: rclone is not installed (apt-get install rclone)")
	}
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	for _, tool := range p.tools {
		b, err := publish.OpenS3(context.Background(), "s3://"+bucketOf(tool), publish.Options{Endpoint: m.Endpoint})
		if err == nil {
			err = b.CreateBucket(context.Background())
		}
		if err != nil {
			m.Stop()
			return nil, err
		}
	}
	return p, nil
}

func bucketOf(tool string) string { return "bench-" + strings.Fields(tool)[0] }

func (p *publisher) stop() { p.minio.Stop() }

// rcloneEnv configures the remote "bench:" for the MinIO server. rclone
// 1.60 cannot build its HTTP client when AWS_CA_BUNDLE is set
// (LoadCustomCABundleError), so it runs without it.
func (p *publisher) rcloneEnv() []string {
	return []string{"AWS_CA_BUNDLE=", "RCLONE_CONFIG_BENCH_TYPE=s3", "RCLONE_CONFIG_BENCH_PROVIDER=Minio",
		"RCLONE_CONFIG_BENCH_ENDPOINT=" + p.minio.Endpoint, "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=" + p.minio.AccessKey,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=" + p.minio.SecretKey}
}

// round publishes the current tree with every tool.
func (p *publisher) round(name string) {
	p.rounds = append(p.rounds, name)
	p.runs[name] = map[string]run{}
	for _, tool := range p.tools {
		target := "s3://" + bucketOf(tool) + "/site"
		var r run
		if tool == "aws s3 sync" && len(p.rounds) == 1 && !p.o.awsFull {
			// The AWS CLI waits on every small PUT here; fill its bucket
			// with packstudio instead, untimed. Uploaded after the build,
			// every object is newer than its file, so aws s3 sync then
			// sees the same "nothing changed" state as the others.
			r = measure(p.work, p.minio.Env(), tool, p.bin, "publish", "--to", target, "--endpoint", p.minio.Endpoint)
			r.err = fmt.Errorf("not timed (seeded with packstudio; run with -aws-full to time it)")
			p.runs[name][tool] = r
			continue
		}
		before := p.minio.CPU()
		switch tool {
		case "packstudio":
			r = measure(p.work, p.minio.Env(), tool, p.bin, "publish", "--to", target, "--endpoint", p.minio.Endpoint)
		case "aws s3 sync":
			r = measure(p.work, p.minio.Env(), tool, p.o.aws, "--endpoint-url", p.minio.Endpoint, "s3", "sync", "public", target, "--only-show-errors")
		case "rclone sync":
			r = measure(p.work, p.rcloneEnv(), tool, p.o.rclone, "sync", "public", "bench:"+bucketOf(tool)+"/site")
		}
		r.serverCPU = p.minio.CPU() - before
		p.runs[name][tool] = r
		fmt.Printf("  %s, %s: %s (its CPU %s, MinIO's %s)\n", name, tool, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), r.serverCPU.Round(time.Millisecond))
	}
}

// mirrorRound copies the bucket packstudio published back down with each
// tool into a directory of its own: packstudio verifying every object
// against the signed manifest, the others not.
func (p *publisher) mirrorRound(name string) {
	p.rounds = append(p.rounds, name)
	p.runs[name] = map[string]run{}
	source := "s3://" + bucketOf("packstudio") + "/site"
	for _, tool := range p.tools {
		dest := "mirror-" + strings.Fields(tool)[0]
		before := p.minio.CPU()
		var r run
		switch tool {
		case "packstudio":
			r = measure(p.work, p.minio.Env(), tool, p.bin, "mirror", source, dest, "--endpoint", p.minio.Endpoint, "--key", "key/site.pub.pem")
		case "aws s3 sync":
			r = measure(p.work, p.minio.Env(), tool, p.o.aws, "--endpoint-url", p.minio.Endpoint, "s3", "sync", source, dest, "--only-show-errors")
		case "rclone sync":
			r = measure(p.work, p.rcloneEnv(), tool, p.o.rclone, "copy", "bench:"+bucketOf("packstudio")+"/site", dest)
		}
		r.serverCPU = p.minio.CPU() - before
		p.runs[name][tool] = r
		fmt.Printf("  %s, %s: %s (its CPU %s, MinIO's %s)\n", name, tool, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), r.serverCPU.Round(time.Millisecond))
	}
}

func (p *publisher) report() {
	fmt.Printf("\nPUBLISH to and MIRROR from MinIO (%s), the same tree for each tool, in one run (rclone: sync up, copy down):\n\n", p.minio.Endpoint)
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "run\t")
	for _, tool := range p.tools {
		fmt.Fprintf(w, "%s\t", tool)
	}
	for _, tool := range p.tools[1:] {
		fmt.Fprintf(w, "packstudio / %s\t", strings.Fields(tool)[0])
	}
	fmt.Fprintln(w)
	for _, round := range p.rounds {
		fmt.Fprintf(w, "%s\t", round)
		for _, tool := range p.tools {
			r := p.runs[round][tool]
			if r.err != nil {
				fmt.Fprint(w, "-\t")
				continue
			}
			fmt.Fprintf(w, "%s\t", r.wall.Round(time.Millisecond))
		}
		ours := p.runs[round]["packstudio"]
		for _, tool := range p.tools[1:] {
			peer := p.runs[round][tool]
			if peer.err != nil || ours.err != nil {
				fmt.Fprint(w, "-\t")
				continue
			}
			fmt.Fprintf(w, "%.2f\t", ours.wall.Seconds()/peer.wall.Seconds())
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	for _, round := range p.rounds {
		for _, tool := range p.tools {
			if err := p.runs[round][tool].err; err != nil {
				fmt.Printf("%s, %s failed: %v\n", round, tool, err)
			}
		}
	}
}

// measure runs a command in dir and returns its wall time, CPU time (user
// plus system) and peak resident memory.
func measure(dir string, env []string, name, prog string, args ...string) run {
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	r := run{name: name, wall: wall, out: out}
	if cmd.ProcessState != nil {
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		r.maxRSS = ru.Maxrss * 1024
	}
	if err != nil {
		tail := string(out)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		r.err = fmt.Errorf("%s: %v\n%s", name, err, tail)
	}
	return r
}

// measureBuild runs `build --stats` in dir and reads the build's figures.
func measureBuild(dir, name, bin string) run {
	r := measure(dir, nil, name, bin, "build", "--stats", "stats.json")
	if r.err != nil {
		return r
	}
	data, err := os.ReadFile(filepath.Join(dir, "stats.json"))
	if err == nil {
		err = json.Unmarshal(data, &r.st)
	}
	r.err = err
	return r
}

// hugoRounds is how many fresh builds of each side the Hugo comparison takes.
const hugoRounds = 5

// medianRun is the run of median wall time.
func medianRun(rs []run) run {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b run) int { return cmp.Compare(a.wall, b.wall) })
	return s[len(s)/2]
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
