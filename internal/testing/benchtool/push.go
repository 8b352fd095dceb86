package main

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/oci"
)

// Targets of issue #22: a full push at most pushTarget of oras's time, a
// push with nothing changed at most repushTarget of a full one.
const (
	pushTarget   = 0.80
	repushTarget = 0.05
)

// The runs of one push round, in report order.
const (
	runPush   = "packstudio push"
	runRepush = "packstudio push, nothing changed"
	runAttach = "oras push + oras attach"
	runLayers = "oras push, 2 files"
)

// peerModes are the two ways oras pushes one artifact and its signature:
// as we do (the artifact, then the signature as a referrer: two
// processes), and the cheapest it can (one manifest, both files as
// layers: one process, no referrer).
var peerModes = map[string]string{runAttach: "attach", runLayers: "layers"}

// peerScript pushes one artifact with oras: REPO:TAG DIR FILE SIG
// ARTIFACT-TYPE LAYER-TYPE, into $REGISTRY/bench, as $PEER says. It runs
// in DIR so each layer's title is the file's name, as ours is.
const peerScript = `set -e
ref="$REGISTRY/bench/$1"
cd "$2"
case "$PEER" in
attach)
	"$ORAS" push --plain-http --artifact-type "$5" "$ref" "$3:$6" >/dev/null
	"$ORAS" attach --plain-http --artifact-type ` + oci.SignatureArtifactType + ` "${ref%%,*}" "$4:` + oci.SignatureLayer + `" >/dev/null ;;
layers)
	"$ORAS" push --plain-http --artifact-type "$5" "$ref" "$3:$6" "$4:` + oci.SignatureLayer + `" >/dev/null ;;
*)
	echo "PEER is $PEER, want attach or layers" >&2; exit 2 ;;
esac
`

// peerLoop runs peerScript over every artifact, JOBS at a time, then over
// the signed manifest, last as in ours.
const peerLoop = `xargs -P "$JOBS" -n 6 sh push/peer-one.sh < push/peer-artifacts.txt && sh push/peer-one.sh $(cat push/peer-manifest.txt)`

// pushSet is what a push of the built tree sends: every artifact with a
// place in a registry, and the signed manifest.
type pushSet struct {
	refs     []oci.Ref
	bytes    int64 // of the artifacts and their signatures
	version  int64
	manifest string // its repository:tags
}

// readPushSet reads the built tree's manifest (ours, trusted) for what a
// push sends.
func readPushSet(public string) (*pushSet, error) {
	data, err := os.ReadFile(filepath.Join(public, tree.ManifestName))
	if err != nil {
		return nil, err
	}
	m, err := tree.Parse(data)
	if err != nil {
		return nil, err
	}
	s := &pushSet{version: m.Version}
	idx := m.Index()
	for _, o := range m.Objects {
		r, ok, err := oci.RefOf(o.Path)
		if err != nil {
			return nil, err
		}
		if ok {
			s.refs = append(s.refs, r)
			s.bytes += o.Size + idx[tree.SigPath(o.Path)].Size
		}
	}
	v := strconv.FormatInt(m.Version, 10)
	s.manifest = oci.ManifestRepo + ":" + v + "," + oci.LatestTag
	return s, nil
}

// writePeerFiles writes the peer's script and argument lists into
// work/push, paths relative to work.
func (s *pushSet) writePeerFiles(work string) error {
	var b strings.Builder
	for _, r := range s.refs {
		artifactType, layerType := oci.ArtifactType, oci.FileLayer
		if r.Kind != "pack" {
			artifactType = oci.ReleaseArtifactType
		}
		if strings.HasSuffix(r.Path, ".zst") {
			layerType = oci.ZstdLayer
		}
		fmt.Fprintf(&b, "%s %s %s %s %s %s\n", r, path.Join("public", path.Dir(r.Path)), path.Base(r.Path),
			path.Base(tree.SigPath(r.Path)), artifactType, layerType)
	}
	files := map[string]string{
		"peer-one.sh":        peerScript,
		"peer-artifacts.txt": b.String(),
		"peer-manifest.txt": fmt.Sprintf("%s public %s %s %s %s\n", s.manifest, tree.ManifestName, tree.ManifestSigName,
			oci.ManifestArtifactType, oci.ManifestLayer),
	}
	for name, data := range files {
		if err := writeFile(filepath.Join(work, "push", name), data); err != nil {
			return err
		}
	}
	return nil
}

// pushRun is one timed run against one registry.
type pushRun struct {
	run
	registryCPU time.Duration
	requests    map[string]int // the registry's, by HTTP method
}

// pushBench runs the push rounds.
type pushBench struct {
	o         options
	work, bin string
	registry  string // the distribution registry's binary
	oras      string
	set       *pushSet
	rounds    []map[string]pushRun
}

// benchPush times `packstudio push` of the built tree into an empty
// distribution registry, the same push again with nothing changed, and
// oras pushing the same files in a shell loop at the same parallelism,
// each side into a fresh registry in every round.
func benchPush(o options, bin, work string) error {
	regBin, err := testenv.RegistryBinary()
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	orasBin, err := testenv.ORASBinary()
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	public := filepath.Join(work, "public")
	if _, _, err := builtSite(o, bin, work); err != nil {
		return err
	}
	set, err := readPushSet(public)
	if err != nil {
		return err
	}
	if err := setAside(work, "push"); err != nil {
		return err
	}
	if err := set.writePeerFiles(work); err != nil {
		return err
	}
	b := &pushBench{o: o, work: work, bin: bin, registry: regBin, oras: orasBin, set: set}
	fmt.Printf("\nPUSH: %d artifacts + their signatures (%s) and the signed manifest, %d at a time, %d rounds, fresh registries each round\n",
		len(set.refs), mib(set.bytes), o.jobs, o.pushRounds)
	for i := range o.pushRounds {
		// Alternate which side goes first: the machine's load drifts.
		if err := b.round(i%2 == 1); err != nil {
			return err
		}
	}
	b.report(os.Stdout)
	return setAside(work, "push")
}

// round times each run once: ours into one fresh registry (the full push,
// then the unchanged one), each peer into a fresh registry of its own.
func (b *pushBench) round(peersFirst bool) error {
	n := len(b.rounds) + 1
	runs := map[string]pushRun{}
	ours := func() error {
		return b.withRegistry(fmt.Sprintf("r%d-packstudio", n), func(reg *testenv.Registry) error {
			for _, name := range []string{runPush, runRepush} {
				r := b.timed(reg, name, nil, b.bin, "push", "public", "oci://"+reg.Host+"/bench",
					"--plain-http", "--key", "key/site.pub.pem", "--jobs", strconv.Itoa(b.o.jobs))
				if r.err != nil {
					return r.err
				}
				if err := checkPushOutput(r.out, name == runRepush, len(b.set.refs)); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				runs[name] = r
			}
			return checkTags(reg.Root, b.set)
		})
	}
	peers := func() error {
		for _, name := range []string{runAttach, runLayers} {
			err := b.withRegistry(fmt.Sprintf("r%d-%s", n, peerModes[name]), func(reg *testenv.Registry) error {
				env := []string{"REGISTRY=" + reg.Host, "ORAS=" + b.oras, "PEER=" + peerModes[name], "JOBS=" + strconv.Itoa(b.o.jobs)}
				r := b.timed(reg, name, env, "sh", "-c", peerLoop)
				if r.err != nil {
					return r.err
				}
				runs[name] = r
				return checkTags(reg.Root, b.set)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	steps := []func() error{ours, peers}
	if peersFirst {
		steps = []func() error{peers, ours}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	b.rounds = append(b.rounds, runs)
	fmt.Printf("  round %d:", n)
	for _, name := range []string{runPush, runRepush, runAttach, runLayers} {
		fmt.Printf("  %s %s", name, secs(runs[name].wall))
	}
	fmt.Println()
	return nil
}

// withRegistry runs f against a registry with fresh storage under
// work/push/name, stopped and set aside afterwards.
func (b *pushBench) withRegistry(name string, f func(*testenv.Registry) error) error {
	dir := filepath.Join(b.work, "push", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	reg, err := testenv.StartRegistryIn(b.registry, dir, testenv.RegistryOptions{})
	if err != nil {
		return err
	}
	err = f(reg)
	reg.Stop()
	if err != nil {
		return fmt.Errorf("%w\n(registry log: %s)", err, filepath.Join(dir, "registry.log"))
	}
	return aside.setAside(dir)
}

// timed measures one run in work and what the registry did meanwhile.
func (b *pushBench) timed(reg *testenv.Registry, name string, env []string, prog string, args ...string) pushRun {
	cpu, before := reg.CPU(), requestCounts(reg.Log())
	r := pushRun{run: measure(b.work, env, name, prog, args...)}
	r.registryCPU = reg.CPU() - cpu
	r.requests = requestCounts(reg.Log())
	for m, c := range before {
		r.requests[m] -= c
	}
	return r
}

// requestMethod finds the method of each request in the registry's
// access log (one combined-format line each).
var requestMethod = regexp.MustCompile(`"([A-Z]+) /v2/\S* HTTP/[0-9.]+" \d{3} `)

func requestCounts(log string) map[string]int {
	counts := map[string]int{}
	for _, m := range requestMethod.FindAllStringSubmatch(log, -1) {
		counts[m[1]]++
	}
	return counts
}

// pushSummary is push's closing line.
var pushSummary = regexp.MustCompile(`(\d+) artifacts tagged, (\d+) already there`)

// checkPushOutput makes sure a push did what the bench times it for: all
// n artifacts sent, or (unchanged) all n found there already.
func checkPushOutput(out []byte, unchanged bool, n int) error {
	m := pushSummary.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("no summary line in its output:\n%s", out)
	}
	tagged, there := string(m[1]), string(m[2])
	want := [2]string{strconv.Itoa(n), "0"}
	if unchanged {
		want = [2]string{"0", strconv.Itoa(n)}
	}
	if tagged != want[0] || there != want[1] {
		return fmt.Errorf("%s artifacts tagged, %s already there; want %s and %s:\n%s", tagged, there, want[0], want[1], out)
	}
	return nil
}

// checkTags makes sure a registry's storage (root) holds a tag for every
// artifact and for the signed manifest: a run that skipped some would
// time less work.
func checkTags(root string, s *pushSet) error {
	repos := filepath.Join(root, "docker", "registry", "v2", "repositories", "bench")
	var missing []string
	check := func(repo, tag string) {
		if _, err := os.Stat(filepath.Join(repos, filepath.FromSlash(repo), "_manifests", "tags", tag, "current", "link")); err != nil {
			missing = append(missing, repo+":"+tag)
		}
	}
	for _, r := range s.refs {
		check(r.Repo, r.Tag)
	}
	repo, tags, _ := strings.Cut(s.manifest, ":")
	for tag := range strings.SplitSeq(tags, ",") {
		check(repo, tag)
	}
	if len(missing) > 0 {
		return fmt.Errorf("the registry lacks %d of %d tags, e.g. %s", len(missing), len(s.refs)+2, missing[0])
	}
	return nil
}

// ratio is one figure held against its target.
type ratio struct {
	name   string
	values []float64 // one per round
	target float64
}

// verdict says whether the median ratio meets the target.
func verdict(median, target float64) string {
	if median <= target {
		return "✓"
	}
	return "✗"
}

func (b *pushBench) ratios() []ratio {
	per := func(name, num, den string, target float64) ratio {
		r := ratio{name: name, target: target}
		for _, runs := range b.rounds {
			r.values = append(r.values, runs[num].wall.Seconds()/runs[den].wall.Seconds())
		}
		return r
	}
	return []ratio{
		per("packstudio push / (oras push + oras attach)", runPush, runAttach, pushTarget),
		per("packstudio push / (oras push, 2 files)", runPush, runLayers, pushTarget),
		per("push with nothing changed / full push", runRepush, runPush, repushTarget),
	}
}

// report prints each run's rounds and medians, then the ratios against
// their targets.
func (b *pushBench) report(out *os.File) {
	fmt.Fprintf(out, "\nPUSH into the CNCF distribution registry %s (referrers tag schema), same files, --jobs %d / xargs -P %d; wall per round, medians:\n\n",
		testenv.RegistryVersion, b.o.jobs, b.o.jobs)
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "run\t")
	for i := range b.rounds {
		fmt.Fprintf(w, "round %d\t", i+1)
	}
	fmt.Fprintln(w, "median wall\tits CPU\tregistry CPU\trequests (HEAD GET PUT POST)\t")
	for _, name := range []string{runPush, runRepush, runAttach, runLayers} {
		fmt.Fprintf(w, "%s\t", name)
		var walls, cpus, regs []float64
		for _, runs := range b.rounds {
			r := runs[name]
			fmt.Fprintf(w, "%s\t", secs(r.wall))
			walls, cpus, regs = append(walls, r.wall.Seconds()), append(cpus, r.cpu.Seconds()), append(regs, r.registryCPU.Seconds())
		}
		q := b.rounds[len(b.rounds)-1][name].requests
		fmt.Fprintf(w, "%.2fs\t%.2fs\t%.2fs\t%d %d %d %d\t\n", median(walls), median(cpus), median(regs), q["HEAD"], q["GET"], q["PUT"], q["POST"])
	}
	w.Flush()
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "ratio (median of the rounds' ratios)\tmedian\ttarget\t\t")
	for _, r := range b.ratios() {
		m := median(r.values)
		fmt.Fprintf(w, "%s\t%.3f\t≤ %.2f\t%s\t\n", r.name, m, r.target, verdict(m, r.target))
	}
	w.Flush()
	fmt.Fprintln(out, "(requests: the last round's, as the registry logged them.)")
	fmt.Fprintln(out, "oras push + oras attach lays the registry out as packstudio push does (artifact, signature as a referrer);")
	fmt.Fprintln(out, "oras push, 2 files puts the signature in the artifact's manifest as a second layer: fewer requests, no referrer.")
	fmt.Fprintln(out, "packstudio push also reads and verifies every artifact and signature against the signed manifest first; oras does not.")
	fmt.Fprintln(out, skopeoNote())
	fmt.Fprintln(out, "These machines are shared and noisy: read the ratios, measured in the same rounds, rather than the times.")
}

// skopeoNote says why skopeo copy is not in the table.
func skopeoNote() string {
	why := "skopeo copy not measured: it copies images between registries and layouts and cannot push plain files; " +
		"its part would start from OCI layouts another tool packaged first, timing only the copy, which is not the same job"
	if _, err := exec.LookPath("skopeo"); err != nil {
		why += " (and it is not installed)"
	}
	return why + "."
}
