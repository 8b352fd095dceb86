// Command packstudio builds a signed static site from a pack catalog,
// publishes it to a bucket, and verifies and mirrors published sites.
//
// Commands are thin: each maps its flags to options and calls one function
// of the generator or publish packages. Only this package reads flags and
// the environment, writes to the terminal and exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/keyguard"
)

// Exit codes of the contract.
const (
	exitFailed = 1 // the work failed: verification, upload
	exitUsage  = 2 // bad usage, config or catalog
)

// usageError marks errors caused by how packstudio was called or configured.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usage(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// failed marks an error already reported in full (e.g. a list of failures):
// main only sets the exit code.
var errReported = errors.New("reported")

// env is what commands may use of the process: streams and environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	tty            bool // stdout is a terminal: show progress
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, tty: term.IsTerminal(int(os.Stdout.Fd()))}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, e *env, args []string) int {
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintln(e.stderr, "packstudio:", errorText(err))
	}
	var ue usageError
	var ps catalog.Problems
	var p catalog.Problem
	var ke *keyguard.Error // an input that is or holds the private key
	if errors.As(err, &ue) || errors.As(err, &ps) || errors.As(err, &p) || errors.As(err, &ke) {
		return exitUsage
	}
	return exitFailed
}

// errorText is an error as the terminal shows it: each line quoted by
// termSafe, so a name from a catalog, a bucket or a bundle file cannot
// carry an escape sequence or a line of its own into it.
func errorText(err error) string {
	var ps catalog.Problems
	if errors.As(err, &ps) {
		noun := "problems"
		if len(ps) == 1 {
			noun = "problem"
		}
		lines := make([]string, len(ps))
		for i, p := range ps {
			lines[i] = termSafe(p.Error())
		}
		return fmt.Sprintf("%d %s, nothing written:\n%s", len(ps), noun, strings.Join(lines, "\n"))
	}
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = termSafe(l)
	}
	return strings.Join(lines, "\n")
}

// termSafe quotes, as %q would, every character of s that is not
// printable (escape sequences, control characters, bidi overrides, bytes
// that are not UTF-8) and leaves the rest as it is. Every error and
// FAIL line goes through it: their names come from trees, buckets and
// files that anyone may have written.
func termSafe(s string) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case strconv.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "packstudio",
		Short: "Build, sign, publish and mirror a static site of software packs",
		Long: `packstudio turns a pack catalog into a static, signed artifact site: one build
writes HTML pages, JSON, URL lists and signed .zst artifacts; publish syncs the
tree to a bucket; verify and mirror check every byte against one public key.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       versionText(),
	}
	root.SetVersionTemplate("packstudio {{.Version}}\n")
	var cpuProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	var profile *os.File
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		profile = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if profile != nil {
			pprof.StopCPUProfile()
			profile.Close()
		}
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath())}
	})
	root.AddCommand(
		buildCmd(e),
		serveCmd(e),
		keygenCmd(e),
		signCmd(e),
		verifyCmd(e),
		renewCmd(e),
		publishCmd(e),
		mirrorCmd(e),
		pushCmd(e),
		rebaseCmd(e),
		unpackCmd(e),
		resolveCmd(e),
		mirrorStateCmd(e),
		versionCmd(e),
	)
	for _, c := range root.Commands() {
		c.Args = wrapArgs(c.Args)
	}
	return root
}

// wrapArgs turns cobra's argument-count errors into usage errors.
func wrapArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	if check == nil {
		check = cobra.NoArgs
	}
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return usageError{fmt.Errorf("%w\nusage: %s", err, c.UseLine())}
		}
		return nil
	}
}
