package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

// mirrorFlags are the mirror command's flags.
type mirrorFlags struct {
	key, baseURL, volumes, volumeSize, bundle   string
	maxManifest, since, sinceSig                string
	jobs                                        int
	allowExpired, prune, force, allowIncomplete bool
	f                                           mirror.Filter
	s3                                          s3Flags
}

func mirrorCmd(e *env) *cobra.Command {
	var fl mirrorFlags
	c := &cobra.Command{
		Use:   "mirror SOURCE DEST [--key PUB] [--jobs N] [filters | --bundle bundle.json] [--volumes DIR --volume-size N [--since BASE|last]]",
		Short: "Copy a published site into DEST (or tar volumes), verifying every object",
		Long: `Copy a published site (https:// URL, file://DIR or s3://BUCKET/PREFIX) into the
directory DEST. The signed manifest is fetched first and checked with the pinned
key, its expiry, and its version against the last mirror into DEST (a rollback is
refused); nothing is written before that. Then every object is downloaded in
parallel, resuming interrupted downloads, and takes its place only after its size
and SHA-256 match the manifest; objects already there are not fetched again. The
manifest goes in last; objects it no longer lists are removed (--prune), and only
those: prune removes nothing an earlier verified manifest of this mirror did not
list. A folder that holds files but is not a mirror is refused unless --force.

Filters (repeatable; values of one filter are alternatives) make a partial mirror:
only the matching artifacts, with every page, list and the manifest. --bundle takes
a bundle.json saved by the site's bundle builder and mirrors exactly its pack
versions (it does not combine with the other filters).

--volumes DIR also writes the mirror as tar volumes vol-001.tar, vol-002.tar, …
of at most --volume-size bytes, one set: each volume carries the signed manifest
(it verifies on its own) and an index naming its set, and unpack takes them only
all together. Volumes an earlier run wrote in DIR are replaced, and those beyond
the new set's last are removed, so that DIR/vol-*.tar is always one set; any other
file in DIR is left alone, and a file named like a volume that is not one is
refused (exit 2) before anything is written.

--since BASE makes the volumes a delta: only the objects new or changed since
BASE, with the new signed manifest, and every volume's index naming BASE by
version and SHA-256. BASE is the manifest.json the far side holds (written there
by 'packstudio mirror-state DEST --out FILE' and carried back; its signature
FILE.sig.bin beside it, or --since-sig), checked with the key; or 'last', the
manifest of the last set this DEST wrote into volumes. Each delta volume still
verifies alone, and unpack applies the set only onto a mirror that holds exactly
BASE. The summary says the delta's size against a full set's. If a delta was
lost, make the next one --since the manifest the far side holds, or a full set.`,
		Example: `  packstudio mirror https://packs.example.com/ ./mirror --key publisher.pub.pem
  packstudio mirror s3://packs/site ./mirror --endpoint http://127.0.0.1:9000 --key pub.pem --product palette --version 4.7.3
  packstudio mirror https://packs.example.com/ ./stage --key pub.pem --volumes ./dvd --volume-size 4.7G
  packstudio mirror https://packs.example.com/ ./mirror --key pub.pem --bundle bundle.json
  packstudio mirror https://packs.example.com/ ./stage --key pub.pem --volumes ./usb --since last
  packstudio mirror https://packs.example.com/ ./stage --key pub.pem --volumes ./usb --since far-manifest.json`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			source, dest := args[0], args[1]
			j, err := fl.job(c, source)
			if err != nil {
				return err
			}
			src, err := publish.OpenSource(c.Context(), source, fl.s3.options(fl.jobs))
			if err != nil {
				return classify(err)
			}
			bar := newProgressBar(e)
			j.Mirror.Progress = bar.update
			res, err := mirror.Run(c.Context(), src, dest, j)
			bar.finish()
			e.printMirror(dest, j, res)
			return classify(err) // a refused manifest is failed work: exit 1
		},
	}
	fl.register(c)
	return c
}

// job turns the flags into a mirror job, refusing bad values before
// anything is read.
func (fl *mirrorFlags) job(c *cobra.Command, source string) (mirror.Job, error) {
	j := mirror.Job{KeyFile: fl.key, BaseURL: fl.baseURL, VolumesDir: fl.volumes, Since: fl.since, SinceSig: fl.sinceSig, Mirror: mirror.Options{
		Jobs: fl.jobs, AllowExpired: fl.allowExpired, Filter: &fl.f, SourceName: source, Force: fl.force}}
	var err error
	if fl.volumes != "" {
		if j.VolumeSize, err = bytesize.Parse(fl.volumeSize); err != nil {
			return j, usage("--volume-size: %v", err)
		}
	}
	if fl.volumes == "" && (fl.since != "" || fl.sinceSig != "") {
		return j, usage("--since and --since-sig make delta volumes: give --volumes DIR too")
	}
	if fl.sinceSig != "" && (fl.since == "" || fl.since == mirror.SinceLast) {
		return j, usage("--since-sig names the signature of the manifest given with --since FILE")
	}
	if fl.bundle != "" {
		if fl.f.Bundle, err = mirror.ReadBundle(fl.bundle); err != nil {
			return j, classify(err)
		}
		fl.f.Bundle.AllowIncomplete = fl.allowIncomplete
	} else if fl.allowIncomplete {
		return j, usage("--allow-incomplete goes with --bundle")
	}
	if j.Mirror.MaxManifestSize, err = bytesize.Parse(fl.maxManifest); err != nil {
		return j, usage("--max-manifest-size: %v", err)
	}
	if fl.baseURL != "" {
		if _, err := tree.CheckBaseURL(fl.baseURL); err != nil {
			return j, usage("--base-url %q: %v", fl.baseURL, err)
		}
	}
	if c.Flags().Changed("prune") {
		j.Prune = &fl.prune
	}
	return j, nil
}

func (fl *mirrorFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&fl.key, "key", "", "publisher's public key (PEM) the manifest must verify with")
	c.Flags().IntVar(&fl.jobs, "jobs", 8, "parallel downloads")
	fl.s3.register(c, "source")
	c.Flags().BoolVar(&fl.allowExpired, "allow-expired", false, "mirror an expired manifest (says how old it is)")
	c.Flags().BoolVar(&fl.prune, "prune", true, "remove objects the manifest no longer lists (default on for a full mirror, off for a partial one)")
	c.Flags().BoolVar(&fl.force, "force", false, "adopt a DEST that holds files but is not a mirror yet (nothing outside the manifest is ever deleted)")
	c.Flags().StringVar(&fl.maxManifest, "max-manifest-size", "64MiB", "largest manifest.json read before its signature is checked")
	c.Flags().StringVar(&fl.baseURL, "base-url", "", "after mirroring, rebase the URL lists to this URL (see rebase)")
	c.Flags().StringVar(&fl.volumes, "volumes", "", "also write the mirror as tar volumes into this directory (replacing an earlier run's volumes there; other files are kept)")
	c.Flags().StringVar(&fl.volumeSize, "volume-size", "4.7G", "largest size of a volume (4.7G, 700M, 25GiB)")
	c.Flags().StringVar(&fl.since, "since", "", "write delta volumes: only what changed since this manifest.json the far side holds (see mirror-state), or 'last' (the last set this DEST wrote)")
	c.Flags().StringVar(&fl.sinceSig, "since-sig", "", "signature of the --since manifest (default: beside it, FILE.sig.bin)")
	registerSegments(c, &fl.f)
	c.Flags().StringVar(&fl.bundle, "bundle", "", "only the pack versions of this bundle.json, saved by the bundle builder")
	c.Flags().BoolVar(&fl.allowIncomplete, "allow-incomplete", false, "mirror a --bundle in which a required rule of a pack version is unmet")
}

// printMirror says what each step of a mirror did, up to the one that
// failed.
func (e *env) printMirror(dest string, j mirror.Job, res *mirror.JobResult) {
	if res == nil {
		return
	}
	if res.KeyWarning != "" {
		fmt.Fprintln(e.stderr, "packstudio: WARNING:", termSafe(res.KeyWarning))
	}
	if res.Result != nil {
		for _, n := range res.Notes {
			fmt.Fprintln(e.stdout, "note:", termSafe(n))
		}
		for _, fl := range res.Failures {
			fmt.Fprintln(e.stdout, "FAIL", termSafe(fl.String()))
		}
	}
	if !res.Mirrored {
		return
	}
	rate := float64(res.Bytes) / max(res.Elapsed.Seconds(), 0.001)
	partial := ""
	if res.LeftOut > 0 {
		partial = fmt.Sprintf("; %d objects left out by choice", res.LeftOut)
		if f := j.Mirror.Filter; !f.Empty() {
			partial += " (" + termSafe(f.String()) + ")"
		}
	}
	fmt.Fprintf(e.stdout, "mirrored %s version %d into %s: fetched %d objects (%s, %d resumed), skipped %d already there, removed %d%s; %s at %s/s\n",
		j.Mirror.SourceName, res.Manifest.Version, dest, res.Fetched, bytesize.Format(res.Bytes), res.Resumed, res.Skipped, res.Removed, partial, res.Elapsed.Round(time.Millisecond), bytesize.Format(int64(rate)))
	if res.RebasedTo != "" {
		fmt.Fprintf(e.stdout, "rebased %d URL lists to %s\n", res.Rebased, res.RebasedTo)
	}
	for _, n := range res.VolumeNotes {
		fmt.Fprintln(e.stdout, "note:", termSafe(n))
	}
	if len(res.Volumes) > 0 {
		fmt.Fprintf(e.stdout, "wrote %d volumes of at most %s to %s (each verifies on its own: packstudio verify --key PUB %s)\n",
			len(res.Volumes), bytesize.Format(j.VolumeSize), j.VolumesDir, res.Volumes[0])
	}
	if w := res.Set; w != nil && w.Base != nil {
		fmt.Fprintf(e.stdout, "delta from %s to manifest version %d: %d of %d objects, %s of %s in full; it unpacks only onto a mirror holding that base\n",
			w.Base, w.Manifest.Version, w.Objects, w.FullObjects, bytesize.Format(w.Bytes), bytesize.Format(w.FullBytes))
	}
	e.printNextSteps(dest, res)
}

// printNextSteps names what a mirror did not do and a person usually
// does next: rebase the URL lists to where the copy will be served (so
// that the curl commands work there), serve it, verify it.
func (e *env) printNextSteps(dest string, res *mirror.JobResult) {
	fmt.Fprintln(e.stdout, "next steps (not done):")
	if len(res.Volumes) > 0 {
		fmt.Fprintf(e.stdout, "  packstudio unpack %s/vol-*.tar DEST --key PUB   # on the other side, then the steps below there\n", filepath.Dir(res.Volumes[0]))
	}
	if res.RebasedTo == "" {
		fmt.Fprintf(e.stdout, "  packstudio rebase %s NEW_BASE_URL   # point the URL lists at where this copy will be served\n", dest)
	}
	fmt.Fprintf(e.stdout, "  packstudio serve --dir %s   # or copy %s to that server\n", dest, dest)
	fmt.Fprintf(e.stdout, "  packstudio verify %s\n", dest)
}

func rebaseCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "rebase DIR URL",
		Short: "Point a mirror's URL lists at a new base URL for re-hosting; it still verifies",
		Long: `Rewrite every urls.txt in DIR so that its URLs start with URL instead of the
publisher's base, so that curl against the re-hosted copy fetches from it. The
signed manifest is unchanged; verify maps the lists back before checking them.`,
		Example: "  packstudio rebase ./mirror https://mirror.internal.example/packs/",
		Args:    cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			bar := newProgressBar(e)
			res, err := mirror.RebaseWith(args[0], args[1], mirror.RebaseOptions{Progress: bar.update})
			bar.finish()
			if err != nil {
				return classify(err)
			}
			fmt.Fprintf(e.stdout, "rebased %d URL lists in %s to %s; %d others needed no change (empty, or already there)\n", res.Rewritten, args[0], args[1], res.Lists-res.Rewritten)
			fmt.Fprintf(e.stdout, "next: packstudio serve --dir %s   # or copy %s to the server behind that URL\n", args[0], args[0])
			return nil
		},
	}
}

func unpackCmd(e *env) *cobra.Command {
	var key string
	var allowExpired, force bool
	c := &cobra.Command{
		Use:   "unpack VOLUME... DEST",
		Short: "Rebuild a tree from tar volumes, verified; a delta set only onto its base",
		Long: `Rebuild a tree in DEST from a set of tar volumes written by mirror --volumes,
given in any order, with the publisher's key. The set is taken only whole: every
volume's manifest, index and tar headers are read first, and a volume given twice,
volumes missing (named by number), volumes of two runs or of two manifests, or a
truncated volume is refused (exit 1) before DEST is created or touched. Then every
object is checked against the signed manifest before it takes its place, and the
manifest goes in last. Like mirror, unpack refuses a rollback, another publisher's
key, and a DEST that holds files but is not a mirror unless --force.

A delta set (mirror --volumes --since) is applied only onto the exact manifest it
was made from: unless DEST's state holds that base, it is refused (exit 1) before
anything is written, naming both manifests (an empty DEST, one behind or past the
base, or another site's mirror). Then the new and changed objects are placed, the
objects the base listed and the new manifest dropped are removed (nothing else:
files of your own stay), and the manifest and state go in last, and the whole tree
is verified. A delta unpacked again is a no-op that says so; one cut short is run
again. A DEST whose delta was lost takes a delta --since its own manifest
(packstudio mirror-state DEST --out FILE, carried back), or a full set.`,
		Example: `  packstudio unpack --key publisher.pub.pem /media/dvd*/vol-*.tar ./mirror
  packstudio unpack --key publisher.pub.pem /media/usb/delta/vol-*.tar ./mirror`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			vols, dest := args[:len(args)-1], args[len(args)-1]
			res, err := verify.Unpack(c.Context(), vols, dest, key, mirror.UnpackOptions{AllowExpired: allowExpired, Force: force})
			if err != nil {
				return classify(err)
			}
			rep := res.Report
			for _, f := range rep.Failures {
				fmt.Fprintln(e.stdout, "FAIL", termSafe(f.String()))
			}
			if len(res.Missing) > 0 {
				fmt.Fprintf(e.stdout, "%d objects of the manifest are on no volume of the set: a partial mirror left them out\n", len(res.Missing))
			}
			if !rep.OK() {
				return errReported
			}
			switch {
			case res.AlreadyApplied:
				fmt.Fprintf(e.stdout, "%s already holds manifest version %d, which this delta brings: nothing to do, nothing written; %d objects verified\n", dest, res.Manifest.Version, rep.Objects)
			case res.Base != nil:
				fmt.Fprintf(e.stdout, "applied the delta from %s in %d volumes to %s: manifest version %d; placed %d objects, removed %d the new manifest dropped; %d objects verified\n",
					res.Base, len(vols), dest, res.Manifest.Version, res.Placed, len(res.Removed), rep.Objects)
			default:
				fmt.Fprintf(e.stdout, "unpacked %d volumes into %s: manifest version %d, %d objects verified\n", len(vols), dest, res.Manifest.Version, rep.Objects)
			}
			return nil
		},
	}
	c.Flags().StringVar(&key, "key", "", "publisher's public key (PEM)")
	c.Flags().BoolVar(&allowExpired, "allow-expired", false, "accept an expired manifest")
	c.Flags().BoolVar(&force, "force", false, "adopt a DEST that holds files but is not a mirror (files the manifest lists are replaced, nothing else is touched)")
	return c
}
