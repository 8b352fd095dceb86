package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/generator"
	"github.com/packstudio/packstudio/publish/serve"
)

func serveCmd(e *env) *cobra.Command {
	var dir, addr, config string
	c := &cobra.Command{
		Use:   "serve [DIR]",
		Short: "Serve a built tree or a mirror over HTTP",
		Long: `Serve a built tree or a mirror over HTTP: content types, Range and conditional
requests, index.html for folders, no folder listings, nothing outside the tree.
DIR (or --dir) defaults to the output directory of site.toml, else public.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				dir = args[0]
			}
			if dir == "" {
				cfg, err := optionalConfig(c, config, generator.Overrides{})
				if err != nil {
					return err
				}
				dir = "public"
				if cfg != nil {
					dir = cfg.Output
				}
			}
			h, err := serve.New(dir)
			if err != nil {
				return usage("serve: %v", err)
			}
			defer h.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usage("serve: %v", err)
			}
			var opts serve.Options
			srv := serve.Server(addr, h, opts)
			fmt.Fprintf(e.stdout, "serving %s on http://%s/ (Ctrl-C to stop)\n", dir, ln.Addr())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(serve.Listen(ln, opts)) }()
			select {
			case err := <-errc:
				return err
			case <-c.Context().Done():
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			}
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "tree to serve")
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	c.Flags().StringVar(&config, "config", "site.toml", "site config, for the default directory")
	return c
}
