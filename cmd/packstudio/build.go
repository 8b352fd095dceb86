package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/generator"
	"github.com/packstudio/packstudio/internal/bytesize"
)

// optionalConfig reads site.toml for commands that also work without one
// (serve, publish): none when the default file is absent, but a named or
// present file must load, so that a broken one is not silently ignored.
func optionalConfig(c *cobra.Command, path string, o generator.Overrides) (*generator.Config, error) {
	if _, err := os.Stat(path); err != nil && !c.Flags().Changed("config") {
		return nil, nil
	}
	return generator.LoadConfig(path, o)
}

func buildCmd(e *env) *cobra.Command {
	var (
		config, out, baseURL, statsFile string
		jobs                            int
		checkOutput                     bool
	)
	c := &cobra.Command{
		Use:   "build",
		Short: "Build the site: check the catalog, pack and sign artifacts, render every page, list and manifest",
		Long: `Build the site described by site.toml into the output directory (default public/).
The catalog is checked first; any problem is reported with its file and line and
nothing is written. Artifacts are packed and signed only when their sources
changed, and a file is rewritten only when its bytes change. A file that the
last build wrote and whose size, modification time and inode are unchanged is
taken to hold what the last manifest says without being read; --check-output
reads them all ('packstudio verify' checks a tree against its manifest).
When nothing the last build read or depended on changed (its input files and
folders, options, key, this packstudio binary, and the output as it left it),
the build stops there: nothing is loaded or written.`,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := generator.LoadConfig(config, generator.Overrides{Output: out, BaseURL: baseURL})
			if err != nil {
				return err
			}
			if cfg.SigningKey == "" {
				return usage("%s: [signing] key is not set; make a key with 'packstudio keygen --out keys/site' and set key = \"keys/site.pem\"", cfg.File)
			}
			signer, err := e.loadSigner(cfg.SigningKey)
			if err != nil {
				return err
			}
			start := time.Now()
			opts := generator.Options{Config: cfg, Signer: signer, SigningKey: cfg.SigningKey, Jobs: jobs, CheckOutput: checkOutput}
			if e.tty {
				opts.Progress = func(stage string, done, total int) {
					fmt.Fprintf(e.stdout, "\r%s %d/%d", stage, done, total)
					if done == total {
						fmt.Fprintln(e.stdout)
					}
				}
			}
			st, err := generator.Build(c.Context(), opts)
			if err != nil {
				return err
			}
			verb := "built"
			if st.UpToDate {
				verb = "nothing changed since the last build (--check-output rebuilds in full); checked"
			}
			fmt.Fprintf(e.stdout, "%s %s in %s: %d packs (%d versions), %d combinations, %d rows, %d compat conflicts; artifacts %d packed, %d unchanged, %d signed; files %d written (%s), %d unchanged, %d removed; manifest version %d%s\n",
				verb, cfg.Output, time.Since(start).Round(time.Millisecond), st.Packs, st.PackVersions, st.Combinations, st.Rows, st.CompatConflicts,
				st.Packed, st.Reused, st.Signed, st.FilesWritten, bytesize.Format(st.BytesWritten), st.FilesUnchanged, st.Removed,
				st.ManifestVersion, map[bool]string{true: "", false: " (unchanged)"}[st.ManifestChanged])
			for _, w := range st.Warnings {
				fmt.Fprintln(e.stderr, "packstudio: warning:", termSafe(w))
			}
			if statsFile != "" {
				data, _ := json.MarshalIndent(st, "", " ")
				if err := os.WriteFile(statsFile, append(data, '\n'), 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&config, "config", "site.toml", "site config file")
	c.Flags().StringVar(&out, "out", "", "output directory (default: output in site.toml, else public)")
	c.Flags().StringVar(&baseURL, "base-url", "", "absolute base URL for URL lists (default: base_url in site.toml)")
	c.Flags().IntVar(&jobs, "jobs", 0, "parallel jobs (default: number of CPUs)")
	c.Flags().StringVar(&statsFile, "stats", "", "also write the build's figures as JSON to this file")
	c.Flags().BoolVar(&checkOutput, "check-output", false, "read every file already in the output to compare it, instead of trusting the last manifest for files whose size, time and inode are unchanged")
	return c
}

func renewCmd(e *env) *cobra.Command {
	var config, dir, ttl string
	c := &cobra.Command{
		Use:   "renew",
		Short: "Re-sign manifest.json with a new expiry date, changing nothing else",
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := generator.LoadConfig(config, generator.Overrides{Output: dir})
			if err != nil {
				return err
			}
			if cfg.SigningKey == "" {
				return usage("%s: [signing] key is not set", cfg.File)
			}
			signer, err := e.loadSigner(cfg.SigningKey)
			if err != nil {
				return err
			}
			d := cfg.ManifestTTL
			if ttl != "" {
				if d, err = generator.ParseTTL(ttl); err != nil {
					return usage("--ttl %q: %v", ttl, err)
				}
			}
			m, err := generator.Renew(cfg.Output, signer, d, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "renewed %s/manifest.json: version %d, expires %s\n", cfg.Output, m.Version, m.Expires.Format(time.RFC3339))
			return nil
		},
	}
	c.Flags().StringVar(&config, "config", "site.toml", "site config file (for the key and manifest_ttl)")
	c.Flags().StringVar(&dir, "dir", "", "built tree (default: output in site.toml)")
	c.Flags().StringVar(&ttl, "ttl", "", "validity from now, e.g. 2160h or 90d (default: manifest_ttl)")
	return c
}
