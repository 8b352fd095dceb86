package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"golang.org/x/tools/txtar"

	"github.com/packstudio/packstudio/internal/testing/testenv"
)

func TestMain(m *testing.M) {
	// End-to-end tests run this binary as the packstudio command, so that
	// they can kill it like any process.
	if os.Getenv("PACKSTUDIO_TEST_MAIN") == "1" {
		main()
	}
	testscript.Main(stopServers{m}, map[string]func(){
		"packstudio": func() {
			ctx := context.Background()
			os.Exit(run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
		},
	})
}

// stopServers stops test servers (MinIO) once the tests have run.
type stopServers struct{ m *testing.M }

func (s stopServers) Run() int {
	code := s.m.Run()
	testenv.StopAll()
	return code
}

// TestScripts runs the command-line scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// site writes the generator's test site into the work dir.
			"site": func(ts *testscript.TestScript, neg bool, args []string) {
				extract(ts.Fatalf, "../../generator/testdata/site.txtar", ts.MkAbs("."))
			},
			// exits CODE PROGRAM ARGS... runs a program like exec and checks
			// its exit status exactly (exec only tells zero from non-zero).
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
				}
				err := ts.Exec(args[1], args[2:]...)
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("%v", err)
				}
				if strconv.Itoa(code) != args[0] {
					ts.Fatalf("exit status %d, want %s", code, args[0])
				}
			},
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", e.WorkDir)
			return nil
		},
	})
}

func extract(fatalf func(string, ...any), archive, dir string) {
	ar, err := txtar.ParseFile(archive)
	if err != nil {
		fatalf("%v", err)
	}
	for _, f := range ar.Files {
		p := filepath.Join(dir, f.Name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			fatalf("%v", err)
		}
	}
}

// runCLI runs one command line in dir and returns exit code and output.
func runCLI(t *testing.T, dir string, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return environ[k] }}, args)
	return code, out.String(), errb.String()
}

// TestBadInputExitCodes builds catalogs with each kind of bad input: the
// exit status is 2, the message names file:line and a fix, and nothing is
// written.
func TestBadInputExitCodes(t *testing.T) {
	tests := []struct {
		name, file, old, new, want string
	}{
		{"unknown facet id", "catalog/packs/ubuntu.toml", `clouds = ["aws", "vsphere"]`, `clouds = ["aws", "azure"]`,
			`ubuntu.toml:9: version 20.04: cloud "azure" is not declared in catalog.toml; use one of: aws, vsphere, edge-native`},
		{"duplicate version", "catalog/packs/kubernetes.toml", `version = "1.32.3"`, `version = "1.30.11"`,
			`kubernetes.toml:13: version 1.30.11 of pack "kubernetes" is declared twice (lines 5 and 12); remove or renumber one of them`},
		{"dotdot in a name", "catalog/packs/edge-k3s.toml", `name = "edge-k3s"`, `name = "../edge-k3s"`,
			`edge-k3s.toml:1: pack name "../edge-k3s" holds "..", which could escape its directory`},
		{"bad constraint", "catalog/packs/edge-k3s.toml", `palette = ">=4.7.0"`, `palette = "four point seven"`,
			`edge-k3s.toml:10: version 1.33.5: product "palette": constraint "four point seven" is not a version range`},
		{"missing source", "catalog/packs/edge-k3s.toml", `source = "payload/k3s"`, `source = "payload/k3s-missing"`,
			`edge-k3s.toml:9: source "payload/k3s-missing" does not exist; fix the path`},
		{"unsatisfiable requires", "catalog/packs/cni-calico.toml", `versions = ">=1.31"`, `versions = ">=1.40"`,
			`cni-calico.toml:23: version 3.29.2: requires layer "k8s" versions ">=1.40": no pack version satisfies it; widen the range or add a matching version; the catalog has: 1.30.11, 1.32.3, 1.33.5`},
		{"unsafe public_key_name", "site.toml", `title = "Test packs"`, `public_key_name = "k$(touch${IFS}PWNED).pem"`,
			`site.toml:1: public_key_name "k$(touch${IFS}PWNED).pem" must be a file name at the root of the site, not starting with '.'; use a plain file name of letters, digits, '.', '_' and '-', like "public_key.pem"`},
		{"public_key_name of the home page", "site.toml", `title = "Test packs"`, `public_key_name = "index.html"`,
			`site.toml:1: public_key_name "index.html" is a name the site uses itself: the home page; use another name, like "public_key.pem"`},
		{"layer id the builder's form uses", "catalog/catalog.toml", `id = "k8s"`, `id = "fips"`,
			`catalog.toml:39: layer id "fips" is a name the site uses itself: the builder's FIPS toggle (form control and URL fragment key); choose another id`},
		{"sources_within", "site.toml", "[signing]\n", "[build]\nsources_within = \"content\"\n[signing]\n",
			`catalog/packs/cni-calico.toml:10: source "payload/calico-3.27" is outside sources_within content; move it into content, or set [build] sources_within in the site config to a directory that holds it`},
		{"deeply nested TOML", "catalog/packs/edge-k3s.toml", `name = "edge-k3s"`, "x = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\nname = \"edge-k3s\"",
			`edge-k3s.toml:1: arrays and inline tables nest deeper than 64 levels; flatten the arrays and inline tables, or use [table] headers`},
		{"bad site config", "site.toml", `manifest_ttl = "720h"`, `manifest_ttl = "forever"`,
			`site.toml:9: manifest_ttl "forever": not a duration; write a duration like "2160h" or "90d"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			extract(t.Fatalf, "../../generator/testdata/site.txtar", dir)
			if code, _, errOut := runCLI(t, dir, nil, "keygen", "--out", "key/site"); code != 0 {
				t.Fatal(errOut)
			}
			p := filepath.Join(dir, tt.file)
			b, _ := os.ReadFile(p)
			if !strings.Contains(string(b), tt.old) {
				t.Fatalf("%s has no %q", tt.file, tt.old)
			}
			os.WriteFile(p, []byte(strings.Replace(string(b), tt.old, tt.new, 1)), 0o644)
			code, out, errOut := runCLI(t, dir, nil, "build")
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("message lacks %q:\n%s", tt.want, errOut)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace in the message:\n%s", errOut)
			}
			for _, written := range []string{"public", ".cache"} {
				if _, err := os.Stat(filepath.Join(dir, written)); err == nil {
					t.Errorf("%s was written", written)
				}
			}
		})
	}
}

// TestUsageErrorsExit2: each usage error exits 2 with a one-line reason
// that names its own fault.
func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"verify"}, "accepts 1 arg(s), received 0"},
		{[]string{"keygen"}, "keygen needs --out PREFIX"},
		{[]string{"keygen", "--out", "k", "--type", "dsa"}, `unknown key type "dsa"`},
		{[]string{"build", "--config", "missing.toml"}, "missing.toml: cannot read the site config"},
		{[]string{"sign", "--key", "missing.pem", "file"}, "signing key: open missing.pem"},
		{[]string{"verify", "--key", "missing.pem", dir}, "public key: open missing.pem"},
		{[]string{"verify", "https://"}, "target https://: not an http(s) URL with a host"},
		{[]string{"mirror", "http:///no-host", filepath.Join(dir, "m")}, "target http:///no-host: not an http(s) URL with a host"},
	} {
		code, _, errOut := runCLI(t, dir, nil, tt.args...)
		if code != 2 || !strings.HasPrefix(errOut, "packstudio: ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, want 2 with a one-line reason holding %q; stderr:\n%s", tt.args, code, tt.want, errOut)
		}
	}
}

// TestBrokenSiteTomlIsNotIgnored: serve and publish work without a
// site.toml, but one that is there and broken is reported, not skipped.
func TestBrokenSiteTomlIsNotIgnored(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "site.toml"), []byte("title = \"t\"\nno_such_key = 1\n"), 0o644)
	for _, args := range [][]string{
		{"serve", "--addr", "256.0.0.1:1"}, // an address that cannot listen, should the config be skipped
		{"publish", "--to", "file://" + filepath.Join(dir, "bucket")},
	} {
		code, _, errOut := runCLI(t, dir, nil, args...)
		if code != 2 || !strings.Contains(errOut, "site.toml:2") {
			t.Errorf("%v: exit %d, want 2 naming site.toml:2; stderr:\n%s", args, code, errOut)
		}
	}
}

// TestKeyPasswordErrorsExit2: a missing and a wrong PACKSTUDIO_KEY_PASSWORD
// are both usage errors, each told apart in the message.
func TestKeyPasswordErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), []byte("data"), 0o644)
	if code, _, errOut := runCLI(t, dir, map[string]string{"PACKSTUDIO_KEY_PASSWORD": "s3cret"}, "keygen", "--out", "k"); code != 0 {
		t.Fatal(errOut)
	}
	for _, tt := range []struct{ password, want string }{
		{"", "the private key is encrypted: set PACKSTUDIO_KEY_PASSWORD"},
		{"wrong", "wrong password: PACKSTUDIO_KEY_PASSWORD does not decrypt the private key"},
	} {
		// build and renew load the key the same way.
		code, _, errOut := runCLI(t, dir, map[string]string{"PACKSTUDIO_KEY_PASSWORD": tt.password}, "sign", "--key", "k.pem", "file")
		if code != 2 || !strings.Contains(errOut, "k.pem: "+tt.want) {
			t.Errorf("password %q: exit %d, want 2 with %q; stderr:\n%s", tt.password, code, tt.want, errOut)
		}
	}
}

// TestKeyInInputsExit2: the private key reached through a link in content,
// or copied into a pack source, stops the build with exit 2 naming the file,
// and nothing written holds it.
func TestKeyInInputsExit2(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(dir string) error
		want  string
	}{
		{"link in content", func(dir string) error {
			return os.Symlink("../key/site.pem", filepath.Join(dir, "content/notes.md"))
		}, "site.toml: content directory content holds content/notes.md, which is the private signing key key/site.pem"},
		{"copy in a pack source", func(dir string) error {
			key, _ := os.ReadFile(filepath.Join(dir, "key/site.pem"))
			return os.WriteFile(filepath.Join(dir, "catalog/payload/metallb/tls.txt"), key, 0o644)
		}, "catalog/payload/metallb/tls.txt holds the private signing key key/site.pem"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			extract(t.Fatalf, "../../generator/testdata/site.txtar", dir)
			if code, _, errOut := runCLI(t, dir, nil, "keygen", "--out", "key/site"); code != 0 {
				t.Fatal(errOut)
			}
			if err := tt.setup(dir); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runCLI(t, dir, nil, "build")
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want 2 with %q; stderr:\n%s", code, tt.want, errOut)
			}
			if _, err := os.Stat(filepath.Join(dir, "public/manifest.json")); err == nil {
				t.Error("a manifest was written")
			}
		})
	}
}

// TestExposedKeyIsWarnedAbout: a private key readable by others still
// signs, with a warning that says how to fix it.
func TestExposedKeyIsWarnedAbout(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), []byte("data"), 0o644)
	if code, _, errOut := runCLI(t, dir, nil, "keygen", "--out", "k"); code != 0 {
		t.Fatal(errOut)
	}
	if _, _, errOut := runCLI(t, dir, nil, "sign", "--key", "k.pem", "file"); strings.Contains(errOut, "WARNING") {
		t.Errorf("warning for a 0600 key: %s", errOut)
	}
	os.Chmod(filepath.Join(dir, "k.pem"), 0o644)
	code, _, errOut := runCLI(t, dir, nil, "sign", "--key", "k.pem", "file")
	if code != 0 || !strings.Contains(errOut, "WARNING: private signing key k.pem is readable by group or others (mode 0644); run: chmod 600 k.pem") {
		t.Errorf("exit %d; stderr lacks the warning:\n%s", code, errOut)
	}
}
