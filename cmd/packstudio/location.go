package main

import (
	"bufio"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish"
	"github.com/packstudio/packstudio/publish/mirror"
	"github.com/packstudio/packstudio/publish/oci"
)

// The flags that say how to reach a location, and which part of a site to
// take, are registered here once, so every command that opens a bucket or
// a registry names and explains them alike. locationFlagNames lists them
// for the test that keeps browse segments (--product, --cloud, …) from
// taking one of their names.

// s3Flags are how a command reaches an s3:// location.
type s3Flags struct{ endpoint, region string }

// register adds --endpoint and --region; role is "source" or "target".
func (s *s3Flags) register(c *cobra.Command, role string) {
	c.Flags().StringVar(&s.endpoint, "endpoint", "", "S3-compatible endpoint URL for an s3:// "+role+", e.g. http://127.0.0.1:9000 (path-style)")
	c.Flags().StringVar(&s.region, "region", "", "S3 region for an s3:// "+role+" (default: the AWS configuration, else us-east-1)")
}

func (s *s3Flags) options(jobs int) publish.Options {
	return publish.Options{Endpoint: s.endpoint, Region: s.region, Jobs: jobs}
}

// registryFlags are how push and verify reach an OCI registry.
type registryFlags struct {
	username, caFile, authFile string
	passwordStdin, plainHTTP   bool
}

func (rf *registryFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&rf.username, "username", "", "registry user (the password comes from --password-stdin)")
	c.Flags().BoolVar(&rf.passwordStdin, "password-stdin", false, "read the registry password (or token) from standard input")
	c.Flags().StringVar(&rf.authFile, "auth-file", "", "docker/podman auth file to log in with (default $REGISTRY_AUTH_FILE, then ~/.docker/config.json)")
	c.Flags().StringVar(&rf.caFile, "ca-file", "", "PEM certificates to trust besides the system roots (which honour SSL_CERT_FILE)")
	c.Flags().BoolVar(&rf.plainHTTP, "plain-http", false, "talk plain HTTP to the registry, login included (a registry on localhost or a closed network); HTTPS otherwise")
}

// conn turns the flags into a connection, reading the password from
// stdin when asked.
func (rf *registryFlags) conn(c *cobra.Command, e *env, jobs int) (oci.Conn, error) {
	conn := oci.Conn{Username: rf.username, AuthFile: rf.authFile, CAFile: rf.caFile, PlainHTTP: rf.plainHTTP, Getenv: e.getenv, Jobs: jobs}
	switch {
	case rf.passwordStdin && rf.username == "":
		return conn, usage("--password-stdin needs --username")
	case rf.username != "" && !rf.passwordStdin:
		return conn, usage("--username needs --password-stdin (a password on the command line would show in ps and shell history)")
	case rf.passwordStdin:
		line, err := bufio.NewReader(io.LimitReader(c.InOrStdin(), 64<<10)).ReadString('\n')
		if err != nil && err != io.EOF {
			return conn, usage("--password-stdin: %v", err)
		}
		conn.Password = strings.TrimRight(line, "\r\n")
		if conn.Password == "" {
			return conn, usage("--password-stdin: standard input is empty")
		}
	}
	return conn, nil
}

// registerSegments adds one flag per browse segment (--product, --cloud,
// …) filling f, for the commands that take part of a site.
func registerSegments(c *cobra.Command, f *mirror.Filter) {
	for i, s := range tree.BrowseSegments {
		c.Flags().StringArrayVar(f.Field(i), s.Name, nil, "only artifacts "+s.Selects+" (repeatable)")
	}
}
