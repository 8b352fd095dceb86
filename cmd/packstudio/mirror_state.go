package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/mirror"
)

func mirrorStateCmd(e *env) *cobra.Command {
	var key, out string
	c := &cobra.Command{
		Use:   "mirror-state DEST [--out FILE] [--key PUB]",
		Short: "Say which signed manifest a mirror holds, and write it out to carry back for mirror --since",
		Long: `Say which signed manifest the mirror in DEST holds (as its state records it, after
a mirror or unpack): its version, SHA-256, dates and object count. With --out FILE,
also write that manifest to FILE and its signature beside it (FILE.sig.bin, by the
naming rule): two small files to carry back across the air gap, so that the
connected side makes delta volumes for exactly what this side holds:
'packstudio mirror SOURCE STAGE --volumes DIR --since FILE'.

The manifest is checked against DEST's state and its signature with --key, or
without it with the tree's own public key if that is the key the mirror pinned.`,
		Example: `  packstudio mirror-state /srv/mirror
  packstudio mirror-state /srv/mirror --out /media/usb/far-manifest.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dest := args[0]
			var v *sign.Verifier
			if key != "" {
				var err error
				if v, err = sign.LoadPublicKey(key); err != nil {
					return classify(&tree.KeyError{Reason: err.Error()})
				}
			}
			h, err := mirror.HeldManifest(dest, v)
			if err != nil {
				return classify(err)
			}
			m := h.Manifest
			fmt.Fprintf(e.stdout, "%s holds manifest version %d (sha256 %s), generated %s, expires %s, %d objects, key %s\n",
				dest, m.Version, tree.Digest(h.Raw), m.Generated.Format("2006-01-02T15:04:05Z07:00"), m.Expires.Format("2006-01-02T15:04:05Z07:00"), len(m.Objects), sign.ShortKeyID(h.KeyID))
			if out == "" {
				return nil
			}
			sigOut, err := h.Save(out)
			if err != nil {
				return classify(err)
			}
			fmt.Fprintf(e.stdout, "wrote %s and %s: carry them back and give --since %s to mirror --volumes\n", out, sigOut, out)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "also write the manifest to FILE and its signature to FILE.sig.bin")
	c.Flags().StringVar(&key, "key", "", "publisher's public key (PEM); default: the tree's own, if the mirror pinned it")
	return c
}
