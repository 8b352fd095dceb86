package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/oci"
)

func pushCmd(e *env) *cobra.Command {
	var (
		key, bundle, maxManifest string
		chunkSize                string
		s3                       s3Flags
		jobs                     int
		allowExpired             bool
		f                        mirror.Filter
		rf                       registryFlags
	)
	c := &cobra.Command{
		Use:   "push SOURCE oci://HOST[:PORT]/PREFIX [--key PUB] [filters | --bundle bundle.json]",
		Short: "Push a verified site's artifacts into an OCI registry, each signature as a referrer",
		Long: `Push the artifacts of a site (a directory or mirror, file://DIR, an https:// URL or
s3://BUCKET/PREFIX) into an OCI registry. The source's signed manifest is checked
first with the key (--key, else a mirror's pinned key, else the tree's own with a
warning), then the registry's manifest: a push never replaces a newer one
(rollback) or another manifest under the same version. Then every selected artifact
and signature is read and verified; only then is anything sent.

Each pack version becomes PREFIX/packs/<name>:<version>, each release artifact
PREFIX/releases/<product>:<version>-<kind> (bundle, iso, helm), an artifact whose
one layer is the published file itself (the digest in the signed manifest), with
its .sig.bin as a referrer (subject set). A Helm chart is pushed as a Helm OCI
chart. The signed manifest goes last, as PREFIX/packstudio-manifest:<version> and
:latest with its signature as a referrer. Blobs the registry has are not sent
again; each artifact is tagged only once its blobs and signature are in.
Blobs larger than --chunk-size go in chunks of that size; a chunk cut off (a
broken connection, a 5xx) is sent again from where the registry says it
stands, up to 5 failed attempts in a row. A push killed or failed part way,
run again, sends only what the registry lacks.

Logins come from --username with --password-stdin, else --auth-file,
$REGISTRY_AUTH_FILE, podman's auth.json or ~/.docker/config.json. TLS uses the
system roots (SSL_CERT_FILE) and --ca-file; --plain-http only when asked.
Filters (repeatable) and --bundle push a part of the site, as for mirror.

Check what the registry holds with: packstudio verify oci://HOST/PREFIX --key PUB`,
		Example: `  packstudio push ./mirror oci://registry.internal:5000/packstudio --key publisher.pub.pem
  echo "$TOKEN" | packstudio push ./mirror oci://registry.internal/packs --key pub.pem --username ci --password-stdin
  packstudio push https://packs.example.com/ oci://registry.internal/packs --key pub.pem --bundle bundle.json`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			source, target := args[0], args[1]
			if _, err := oci.ParseTarget(target); err != nil {
				return classify(err)
			}
			conn, err := rf.conn(c, e, jobs)
			if err != nil {
				return err
			}
			o := oci.PushOptions{Conn: conn, KeyFile: key, Jobs: jobs, AllowExpired: allowExpired, Filter: &f}
			if o.MaxManifestSize, err = bytesize.Parse(maxManifest); err != nil {
				return usage("--max-manifest-size: %v", err)
			}
			if o.ChunkSize, err = bytesize.Parse(chunkSize); err != nil || o.ChunkSize <= 0 {
				return usage("--chunk-size %q: want a size above 0, like 64MiB", chunkSize)
			}
			if bundle != "" {
				if f.Bundle, err = mirror.ReadBundle(bundle); err != nil {
					return classify(err)
				}
			}
			if fi, err := os.Stat(source); err == nil && fi.IsDir() {
				o.SourceDir = source
			}
			src, err := publish.OpenSource(c.Context(), source, s3.options(jobs))
			if err != nil {
				return classify(err)
			}
			if cl, ok := src.(io.Closer); ok {
				defer cl.Close()
			}
			bar := newProgressBar(e)
			o.Progress = bar.update
			start := time.Now()
			res, err := oci.Push(c.Context(), src, target, o)
			bar.finish()
			e.printPush(source, res, time.Since(start))
			return classify(err)
		},
	}
	c.Flags().StringVar(&key, "key", "", "publisher's public key (PEM) the source's manifest must verify with")
	c.Flags().IntVar(&jobs, "jobs", 4, "artifacts pushed in parallel")
	s3.register(c, "source")
	c.Flags().BoolVar(&allowExpired, "allow-expired", false, "push an expired manifest (says how old it is)")
	c.Flags().StringVar(&maxManifest, "max-manifest-size", "64MiB", "largest manifest.json read before its signature is checked")
	c.Flags().StringVar(&chunkSize, "chunk-size", "64MiB", "blobs larger than this go to the registry in chunks of this size; a cut chunk resumes where the registry stands")
	registerSegments(c, &f)
	c.Flags().StringVar(&bundle, "bundle", "", "only the pack versions of this bundle.json, saved by the bundle builder")
	rf.register(c)
	return c
}

// printPush says what a push did, or which source objects failed.
func (e *env) printPush(source string, res *oci.PushResult, elapsed time.Duration) {
	if res == nil {
		return
	}
	if res.KeyWarning != "" {
		fmt.Fprintln(e.stderr, "packstudio: WARNING:", res.KeyWarning)
	}
	for _, n := range res.Notes {
		fmt.Fprintln(e.stdout, "note:", n)
	}
	for _, f := range res.Failures {
		fmt.Fprintln(e.stdout, "FAIL", f.String())
	}
	if res.Manifest == nil || len(res.Failures) > 0 || res.Tagged+res.Unchanged == 0 && res.BlobsSent == 0 && res.LeftOut == 0 {
		return
	}
	partial := ""
	if res.LeftOut > 0 {
		partial = fmt.Sprintf("; %d artifacts left out by choice", res.LeftOut)
	}
	fmt.Fprintf(e.stdout, "pushed %s version %d to %s: %d artifacts tagged, %d already there; sent %d blobs (%s)%s in %s\n",
		source, res.Manifest.Version, res.Target, res.Tagged, res.Unchanged, res.BlobsSent, bytesize.Format(res.BytesSent), partial, elapsed.Round(time.Millisecond))
}

// verifyOCI checks what a registry holds against the signed manifest.
func (e *env) verifyOCI(c *cobra.Command, target string, o oci.VerifyOptions, rf *registryFlags) error {
	conn, err := rf.conn(c, e, o.Jobs)
	if err != nil {
		return err
	}
	o.Conn = conn
	rep, err := oci.Verify(c.Context(), target, o)
	if err != nil {
		return classify(err)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(e.stdout, "note:", n)
	}
	if len(rep.LeftOut) > 0 {
		fmt.Fprintf(e.stdout, "partial push: %d artifacts left out by choice\n", len(rep.LeftOut))
	}
	for _, x := range rep.Extra {
		fmt.Fprintln(e.stdout, "extra", x, "(not an artifact of the signed manifest)")
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(e.stdout, "FAIL", f.String())
	}
	version := int64(0)
	if rep.Manifest != nil {
		version = rep.Manifest.Version
	}
	if !rep.OK() {
		fmt.Fprintf(e.stdout, "%s: %d failures (manifest version %d; %d artifacts read back)\n", rep.Target, len(rep.Failures), version, rep.Artifacts)
		return errReported
	}
	fmt.Fprintf(e.stdout, "%s: verified manifest version %d (expires %s), %d artifacts (%s), %d signatures\n",
		rep.Target, version, rep.Manifest.Expires.Format(time.RFC3339), rep.Artifacts, bytesize.Format(rep.Bytes), rep.Signatures)
	return nil
}
