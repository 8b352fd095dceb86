package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/resolve"
)

func resolveCmd(e *env) *cobra.Command {
	var site, out, endpoint, region string
	var c resolve.Context
	var allowMissing bool
	cmd := &cobra.Command{
		Use:   "resolve PROFILE... --product P --version V [--cloud C] [--site DIR|URL] [--out bundle.json] [--allow-missing]",
		Short: "Turn ClusterProfile manifests into a bundle.json for mirror --bundle",
		Long: `resolve reads ClusterProfile manifests (YAML or JSON files, or folders searched
for them), takes the packs of their spec.template.packs (or spec.packs) with their
tag or version, and writes the bundle.json that mirror --bundle reads, for the
product release and cloud given. The packs are looked up in a built site (the
output folder, a mirror, or a published https://, file:// or s3:// location):
each pack the site does not hold, and each version it does not offer there, is
named, and resolve exits 1 without writing unless --allow-missing.`,
		Example: `  packstudio resolve profiles/ --product palette --version 4.7.0 --cloud aws --site ./public
  packstudio mirror https://packs.example.com/ ./mirror --bundle bundle.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if c.Product == "" || c.Version == "" {
				return usage("--product and --version are required")
			}
			packs, err := resolve.ReadProfiles(args)
			if err != nil {
				return usageError{err}
			}
			src, err := publish.OpenSource(cmd.Context(), site, publish.Options{Endpoint: endpoint, Region: region})
			if err != nil {
				return classify(err)
			}
			res, err := resolve.Resolve(cmd.Context(), src, packs, c)
			var ce *resolve.ContextError
			if errors.As(err, &ce) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			for _, m := range res.Missing {
				fmt.Fprintln(e.stdout, "missing:", m)
			}
			if len(res.Missing) > 0 && !allowMissing {
				return fmt.Errorf("%d of %d packs missing, %s not written; fix the profiles or pass --allow-missing", len(res.Missing), len(packs), out)
			}
			data, err := json.MarshalIndent(res.Bundle, "", "  ")
			if err != nil {
				return err
			}
			if err := atomicfile.Write(out, append(data, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s: %d pack versions for %s\n", out, len(res.Bundle.Packs), c)
			return nil
		},
	}
	cmd.Flags().StringVar(&c.Product, "product", "", "product id (catalog.json)")
	cmd.Flags().StringVar(&c.Version, "version", "", "product release version")
	cmd.Flags().StringVar(&c.Cloud, "cloud", "", "cloud id; leave out for add-ons only")
	cmd.Flags().StringVar(&site, "site", "public", "the built site, mirror or published location to look packs up in")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "S3-compatible endpoint for an s3:// site")
	cmd.Flags().StringVar(&region, "region", "", "S3 region for an s3:// site")
	cmd.Flags().StringVarP(&out, "out", "o", "bundle.json", "where to write the bundle")
	cmd.Flags().BoolVar(&allowMissing, "allow-missing", false, "write the bundle of the packs found even when some are missing")
	return cmd
}
