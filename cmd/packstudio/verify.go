package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/verify"
)

func verifyCmd(e *env) *cobra.Command {
	var (
		key, endpoint, region string
		maxManifest           string
		jobs                  int
		allowExpired, listOut bool
	)
	c := &cobra.Command{
		Use:   "verify [--key PUB] DIR|URL|s3://BUCKET/PREFIX|VOLUME.tar",
		Short: "Check a tree against its signed manifest: signature, expiry, every object, every .sig.bin",
		Long: `Check a built tree, a mirror or a published site: the manifest's signature with
the public key, its expiry, every object's size and SHA-256, and every detached
signature. Each failure is listed; the exit status is 1 when anything fails.
Pin the publisher's key with --key; without it the tree's own public key (its
public_key_name) is used, which proves integrity but not who published the tree.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			target := args[0]
			if strings.HasSuffix(target, ".tar") {
				return e.verifyVolume(target, key, allowExpired)
			}
			var src tree.Reader
			var opts verify.Options
			switch {
			case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"), strings.HasPrefix(target, "s3://"):
				r, err := openSource(c, target, endpoint, region, jobs)
				if err != nil {
					return classify(err)
				}
				src = r
				// A re-hosted copy's URL lists point at where it is served.
				if h, ok := r.(*tree.HTTPReader); ok {
					opts.RebasedTo = h.String()
				}
			default:
				dir := strings.TrimPrefix(target, "file://")
				r, err := tree.OpenDir(dir)
				if err != nil {
					return usage("verify: %v", err)
				}
				defer r.Close()
				src = r
				// A mirror says what it left out by choice and where its URL
				// lists point.
				if err := opts.ApplyMirrorState(dir); err != nil {
					return err
				}
			}
			var err error
			if opts.MaxManifestSize, err = bytesize.Parse(maxManifest); err != nil {
				return usage("--max-manifest-size: %v", err)
			}
			v, warning, err := mirror.TrustedKey(c.Context(), src, mirror.KeyOptions{KeyFile: key, MaxManifestSize: opts.MaxManifestSize})
			if err != nil {
				return classify(err)
			}
			if warning != "" {
				fmt.Fprintln(e.stderr, "packstudio: warning:", warning)
			}
			opts.Jobs, opts.AllowExpired = jobs, allowExpired
			rep, err := verify.Tree(c.Context(), src, v, opts)
			if err != nil {
				return err
			}
			for _, n := range rep.Notes {
				fmt.Fprintln(e.stdout, "note:", n)
			}
			if len(rep.LeftOut) > 0 {
				fmt.Fprintf(e.stdout, "partial mirror: %d objects left out by choice", len(rep.LeftOut))
				show := rep.LeftOut
				if !listOut && len(show) > 10 {
					show = show[:10]
					fmt.Fprintf(e.stdout, " (first 10; --list-left-out lists all)")
				}
				fmt.Fprintln(e.stdout, ":")
				for _, p := range show {
					fmt.Fprintln(e.stdout, "  left out", p)
				}
			}
			for _, f := range rep.Failures {
				fmt.Fprintln(e.stdout, "FAIL", f.String())
			}
			version := int64(0)
			if rep.Manifest != nil {
				version = rep.Manifest.Version
			}
			if !rep.OK() {
				fmt.Fprintf(e.stdout, "%s: %d failures (manifest version %d; %d objects checked)\n", src, len(rep.Failures), version, rep.Objects)
				return errReported
			}
			fmt.Fprintf(e.stdout, "%s: verified manifest version %d (expires %s), %d objects (%s), %d signatures\n",
				src, version, rep.Manifest.Expires.Format(time.RFC3339), rep.Objects, bytesize.Format(rep.Bytes), rep.Signatures)
			return nil
		},
	}
	c.Flags().StringVar(&key, "key", "", "publisher's public key (PEM) to verify with")
	c.Flags().IntVar(&jobs, "jobs", 8, "objects checked in parallel")
	c.Flags().BoolVar(&allowExpired, "allow-expired", false, "accept an expired manifest (says how old it is)")
	c.Flags().BoolVar(&listOut, "list-left-out", false, "list every object a partial mirror left out")
	c.Flags().StringVar(&maxManifest, "max-manifest-size", "64MiB", "largest manifest.json read before its signature is checked")
	c.Flags().StringVar(&endpoint, "endpoint", "", "S3-compatible endpoint for an s3:// target")
	c.Flags().StringVar(&region, "region", "", "S3 region for an s3:// target")
	return c
}

// verifyVolume checks one tar volume on its own.
func (e *env) verifyVolume(p, key string, allowExpired bool) error {
	if key == "" {
		return usage("verify of a volume needs --key PUB: the publisher's public key")
	}
	v, err := sign.LoadPublicKey(key)
	if err != nil {
		return usageError{err}
	}
	rep, err := mirror.VerifyVolume(p, v, time.Now(), allowExpired)
	if err != nil {
		return err
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(e.stdout, "FAIL", f.String())
	}
	if !rep.OK() {
		fmt.Fprintf(e.stdout, "%s: %d failures\n", p, len(rep.Failures))
		return errReported
	}
	parts := ""
	if rep.Parts > 0 {
		parts = fmt.Sprintf(", and %d parts of split objects (checked when unpacked)", rep.Parts)
	}
	fmt.Fprintf(e.stdout, "%s: volume %d of %d verified: manifest version %d, %d objects (%s)%s\n",
		p, rep.Index.Volume, rep.Index.Volumes, rep.Manifest.Version, rep.Objects, bytesize.Format(rep.Bytes), parts)
	return nil
}
