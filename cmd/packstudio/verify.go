package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/sign"
)

func verifyCmd(e *env) *cobra.Command {
	var (
		key          string
		jobs         int
		allowExpired bool
	)
	c := &cobra.Command{
		Use:   "verify [--key PUB] DIR|URL",
		Short: "Check a tree against its signed manifest: signature, expiry, every object, every .sig.bin",
		Long: `Check a built tree, a mirror or a published site: the manifest's signature with
the public key, its expiry, every object's size and SHA-256, and every detached
signature. Each failure is listed; the exit status is 1 when anything fails.
Pin the publisher's key with --key; without it the tree's own public_key.pem
is used, which proves integrity but not who published the tree.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			target := args[0]
			var src publish.Reader
			if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
				r, err := publish.OpenURL(target, &http.Client{Timeout: 10 * time.Minute})
				if err != nil {
					return usageError{err}
				}
				src = r
			} else {
				r, err := publish.OpenDir(strings.TrimPrefix(target, "file://"))
				if err != nil {
					return usage("verify: %v", err)
				}
				defer r.Close()
				src = r
			}
			var v *sign.Verifier
			var err error
			if key != "" {
				v, err = sign.LoadPublicKey(key)
				if err != nil {
					return usageError{err}
				}
			} else {
				data, err := readObject(c, src, "public_key.pem")
				if err != nil {
					return usage("verify: no --key given and the tree has no public_key.pem; pass --key publisher.pub.pem")
				}
				if v, err = sign.ParsePublicKey(data); err != nil {
					return usage("verify: %s: %v", filepath.Join(src.String(), "public_key.pem"), err)
				}
				fmt.Fprintf(e.stderr, "packstudio: warning: no --key given; trusting the tree's own public_key.pem (fingerprint %s). Pin the publisher's key with --key.\n", v.KeyID())
			}
			rep, err := publish.Verify(c.Context(), src, v, publish.VerifyOptions{Jobs: jobs, AllowExpired: allowExpired})
			if err != nil {
				return err
			}
			for _, n := range rep.Notes {
				fmt.Fprintln(e.stdout, "note:", n)
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
				src, version, rep.Manifest.Expires.Format(time.RFC3339), rep.Objects, byteSize(rep.Bytes), rep.Signatures)
			return nil
		},
	}
	c.Flags().StringVar(&key, "key", "", "publisher's public key (PEM) to verify with")
	c.Flags().IntVar(&jobs, "jobs", 8, "objects checked in parallel")
	c.Flags().BoolVar(&allowExpired, "allow-expired", false, "accept an expired manifest (says how old it is)")
	return c
}

func readObject(c *cobra.Command, src publish.Reader, p string) ([]byte, error) {
	rc, err := src.Open(c.Context(), p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		b.Write(buf[:n])
		if b.Len() > 1<<20 {
			return nil, fmt.Errorf("%s is too large", p)
		}
		if err != nil {
			break
		}
	}
	return []byte(b.String()), nil
}
