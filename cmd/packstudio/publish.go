package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/generator"
	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/mirror"
)

func publishCmd(e *env) *cobra.Command {
	var (
		config, dir, to, key         string
		s3                           s3Flags
		jobs                         int
		dryRun, prune, repair, force bool
	)
	c := &cobra.Command{
		Use:   "publish [--dir DIR] [--to file://DIR | s3://BUCKET/PREFIX] [--endpoint URL] [--dry-run] [--prune] [--repair] [--force]",
		Short: "Sync the built tree to a bucket: only what changed, artifacts first, the signed manifest last",
		Long: `Sync a built tree to a bucket so that a CDN in front of it serves a consistent
site at every moment. An object is uploaded only when the bucket lacks it or holds
other bytes (judged by the bucket's signed manifest, else the SHA-256 recorded at
upload). Artifacts go first, then new and changed pages and lists, then the
manifest's signature and the manifest. When the bucket already serves the tree's manifest,
publish stops after that one read; --repair (or --prune) lists the bucket anyway
and puts back any object removed or replaced behind its back. S3 credentials come from the AWS SDK's default chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, …); AWS_CA_BUNDLE is honoured.

What --prune may delete: once the new manifest is live, exactly the objects that
the bucket's previous manifest (verified with the site key) listed and the new
one does not. Nothing else, ever: not objects another tool or person put in the
bucket or prefix, not objects of a manifest older than the previous one. Without
a previous manifest of this site in the bucket it deletes nothing.

A target that holds objects but no manifest.json signed by the site key (another
site, a user's files) is refused (exit 2) unless --force, which publishes beside
them and still deletes nothing publish did not write. A bucket whose manifest has
a version higher than or equal to the tree's, with other content, is refused
(exit 1): versions only grow, or mirrors would take the new tree for a rollback.`,
		Example: "  packstudio publish --to file://bucket\n  packstudio publish --to s3://packs/site --endpoint http://127.0.0.1:9000 --prune",
		RunE: func(c *cobra.Command, _ []string) error {
			j := publish.Job{Dir: dir, KeyFile: key, Target: to, Location: s3.options(jobs),
				Sync: publish.SyncOptions{Jobs: jobs, DryRun: dryRun, Prune: prune, Repair: repair, Force: force}}
			cfg, err := optionalConfig(c, config, generator.Overrides{Output: dir})
			if err != nil {
				return err
			}
			withConfig(&j, cfg)
			start := time.Now()
			bar := newProgressBar(e)
			j.Sync.Progress = bar.update
			res, err := publish.Run(c.Context(), j)
			bar.finish()
			e.printPublish(j, res, err, time.Since(start))
			return classify(err)
		},
	}
	c.Flags().StringVar(&config, "config", "site.toml", "site config, for the output directory and [publish] settings")
	c.Flags().StringVar(&dir, "dir", "", "built tree to publish (default: output of site.toml, else public)")
	c.Flags().StringVar(&to, "to", "", "target: file://DIR or s3://BUCKET/PREFIX (default: [publish] target)")
	s3.register(c, "target")
	c.Flags().StringVar(&key, "key", "", "public key the tree's manifest must verify with (default: the tree's own)")
	c.Flags().IntVar(&jobs, "jobs", 0, "parallel uploads (default 16)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be uploaded and deleted, change nothing")
	c.Flags().BoolVar(&prune, "prune", false, "after the new manifest is live, delete the objects the bucket's previous manifest listed and the new one drops (nothing else)")
	c.Flags().BoolVar(&force, "force", false, "publish into a target that holds objects but no manifest of this site (deletes nothing publish did not write)")
	c.Flags().BoolVar(&repair, "repair", false, "compare every object even when the bucket serves this manifest already")
	return c
}

// withConfig fills in what the flags left unset from site.toml: the tree
// is its output, with its public key's name, and [publish] gives the
// target, endpoint, region and jobs. Without either, the tree is public/.
func withConfig(j *publish.Job, cfg *generator.Config) {
	if cfg != nil {
		j.Dir, j.PublicKeyName = cfg.Output, cfg.PublicKeyName
		if j.Target == "" {
			j.Target = cfg.Publish.Target
		}
		if j.Location.Endpoint == "" {
			j.Location.Endpoint = cfg.Publish.Endpoint
		}
		if j.Location.Region == "" {
			j.Location.Region = cfg.Publish.Region
		}
		if j.Sync.Jobs == 0 {
			j.Sync.Jobs, j.Location.Jobs = cfg.Publish.Jobs, cfg.Publish.Jobs
		}
	}
	if j.Dir == "" {
		j.Dir = "public"
	}
}

// printPublish says what a publish did, or on a dry run what it would do.
func (e *env) printPublish(j publish.Job, res *publish.JobResult, err error, elapsed time.Duration) {
	if res == nil {
		return
	}
	for _, n := range res.Plan.Notes {
		fmt.Fprintln(e.stdout, "note:", termSafe(n))
	}
	if j.Sync.DryRun && err == nil {
		printPlan(e.stdout, res.Plan, res.Target)
		return
	}
	for _, f := range res.Failures {
		fmt.Fprintln(e.stdout, "FAIL", termSafe(f.String()))
	}
	fmt.Fprintf(e.stdout, "uploaded %d objects, %s; skipped %d; deleted %d (%s to %s in %s)\n",
		res.Uploaded, bytesize.Format(res.Bytes), res.Plan.Skipped, res.Deleted, j.Dir, res.Target, elapsed.Round(time.Millisecond))
}

// classify maps publish errors to exit codes: a bad target is a usage
// error (2); everything else failed work (1).
func classify(err error) error {
	var te *tree.TargetError
	var be *mirror.BundleError
	var ke *tree.KeyError
	if errors.As(err, &te) || errors.As(err, &be) || errors.As(err, &ke) {
		return usageError{err}
	}
	var se *publish.StoreError
	if errors.As(err, &se) {
		return errors.New(se.Error()) // the plain words, not the SDK's chain
	}
	return err
}

func printPlan(w io.Writer, p *publish.SyncPlan, target string) {
	var phase tree.Phase
	for _, a := range p.Uploads {
		if a.Phase != phase {
			phase = a.Phase
			fmt.Fprintf(w, "phase %d:\n", phase)
		}
		fmt.Fprintf(w, "  upload %s (%s, %s)\n", a.Key, bytesize.Format(a.Size), a.Reason)
	}
	for _, d := range p.Deletes {
		fmt.Fprintf(w, "  delete %s\n", d)
	}
	fmt.Fprintf(w, "dry run: would upload %d objects, %s; skip %d; delete %d (to %s)\n", len(p.Uploads), bytesize.Format(p.Bytes), p.Skipped, len(p.Deletes), target)
}
