package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/oci"
	"github.com/packstudio/packstudio/publish/verify"
)

func verifyCmd(e *env) *cobra.Command {
	var (
		key                   string
		s3                    s3Flags
		maxManifest           string
		jobs                  int
		allowExpired, listOut bool
		rf                    registryFlags
	)
	c := &cobra.Command{
		Use:   "verify [--key PUB] DIR|URL|s3://BUCKET/PREFIX|VOLUME.tar|oci://HOST/PREFIX",
		Short: "Check a tree against its signed manifest: signature, expiry, every object, every .sig.bin",
		Long: `Check a built tree, a mirror or a published site: the manifest's signature with
the public key, its expiry, every object's size and SHA-256, and every detached
signature. Each failure is listed; the exit status is 1 when anything fails.
Pin the publisher's key with --key; without it the tree's own public key (its
public_key_name) is used, which proves integrity but not who published the tree.

oci://HOST[:PORT]/PREFIX checks what 'packstudio push' put into a registry: the
signed packstudio-manifest (--key is required), then every artifact pushed under
it: its layer's digest and size, the bytes the registry serves, and its signature
referrer. Missing, tampered and extra artifacts are listed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			target := args[0]
			j := verify.Job{KeyFile: key, Options: verify.Options{Jobs: jobs, AllowExpired: allowExpired}}
			if oci.IsTarget(target) {
				max, err := bytesize.Parse(maxManifest)
				if err != nil {
					return usage("--max-manifest-size: %v", err)
				}
				return e.verifyOCI(c, target, oci.VerifyOptions{KeyFile: key, Jobs: jobs, AllowExpired: allowExpired, MaxManifestSize: max}, &rf)
			}
			if verify.IsVolume(target) {
				return e.verifyVolume(target, j)
			}
			src, err := publish.OpenSource(c.Context(), target, s3.options(jobs))
			if err != nil {
				return classify(err)
			}
			if cl, ok := src.(io.Closer); ok {
				defer cl.Close()
			}
			if j.MaxManifestSize, err = bytesize.Parse(maxManifest); err != nil {
				return usage("--max-manifest-size: %v", err)
			}
			rep, err := verify.Run(c.Context(), src, j)
			if err != nil {
				return classify(err)
			}
			return e.printVerify(src, rep, listOut)
		},
	}
	c.Flags().StringVar(&key, "key", "", "publisher's public key (PEM) to verify with")
	c.Flags().IntVar(&jobs, "jobs", 8, "objects checked in parallel")
	c.Flags().BoolVar(&allowExpired, "allow-expired", false, "accept an expired manifest (says how old it is)")
	c.Flags().BoolVar(&listOut, "list-left-out", false, "list every object a partial mirror left out")
	c.Flags().StringVar(&maxManifest, "max-manifest-size", "64MiB", "largest manifest.json read before its signature is checked")
	s3.register(c, "target")
	rf.register(c)
	return c
}

// printVerify lists what a verification found and sums it up; any failure
// is exit 1.
func (e *env) printVerify(src tree.Reader, rep *verify.Report, listOut bool) error {
	if rep.KeyWarning != "" {
		fmt.Fprintln(e.stderr, "packstudio: warning:", termSafe(rep.KeyWarning))
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(e.stdout, "note:", termSafe(n))
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
			fmt.Fprintln(e.stdout, "  left out", termSafe(p))
		}
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(e.stdout, "FAIL", termSafe(f.String()))
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
}

// verifyVolume checks one tar volume on its own.
func (e *env) verifyVolume(p string, j verify.Job) error {
	rep, err := verify.Volume(p, j.KeyFile, j.Options)
	if err != nil {
		return classify(err)
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(e.stdout, "FAIL", termSafe(f.String()))
	}
	if !rep.OK() {
		fmt.Fprintf(e.stdout, "%s: %d failures\n", p, len(rep.Failures))
		return errReported
	}
	parts := ""
	if rep.Parts > 0 {
		parts = fmt.Sprintf(", and %d parts of split objects (checked when unpacked)", rep.Parts)
	}
	if b := rep.Index.Base; b != nil {
		parts += fmt.Sprintf("; a delta from %s: it unpacks only onto a mirror holding that manifest", b)
	}
	fmt.Fprintf(e.stdout, "%s: volume %d of %d verified: manifest version %d, %d objects (%s)%s\n",
		p, rep.Index.Volume, rep.Index.Volumes, rep.Manifest.Version, rep.Objects, bytesize.Format(rep.Bytes), parts)
	return nil
}
