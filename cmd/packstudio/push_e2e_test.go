package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/testenv"
	"github.com/packstudio/packstudio/internal/testing/treetest"
)

// cliStdin is cli with standard input.
func cliStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1", "HOME="+t.TempDir(), "REGISTRY_AUTH_FILE=", "DOCKER_CONFIG=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// TestPushAndVerifyOCICommands runs push and verify oci:// as a user
// does: a registry with a login over TLS, the password on stdin.
func TestPushAndVerifyOCICommands(t *testing.T) {
	reg := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true})
	s := treetest.NewSite(t)
	pub := filepath.Join(s.Dir, "key", "site.pub.pem")
	target := "oci://" + reg.Host + "/team/packs"
	login := []string{"--key", pub, "--ca-file", reg.CACert, "--username", reg.Username, "--password-stdin"}

	r := cliStdin(t, reg.Password+"\n", append([]string{"push", s.Public(), target}, login...)...).must(t)
	if !strings.Contains(r.stdout, "pushed "+s.Public()) || !strings.Contains(r.stdout, "0 already there") {
		t.Fatalf("push said:\n%s", r.stdout)
	}
	r = cliStdin(t, reg.Password+"\n", append([]string{"verify", target}, login...)...).must(t)
	if !strings.Contains(r.stdout, "verified manifest version") {
		t.Fatalf("verify said:\n%s", r.stdout)
	}

	r = cliStdin(t, "wrong\n", append([]string{"push", s.Public(), target}, login...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "registry "+reg.Host) || !strings.Contains(r.stderr, "repository team/packs/") {
		t.Fatalf("wrong password: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, bad := range [][]string{
		{"push", s.Public(), "oci://"},
		{"push", s.Public(), "oci://" + reg.Host + "/Upper/Case", "--key", pub},
		{"push", s.Public(), target, "--key", pub, "--username", "u"},
		{"verify", target, "--ca-file", reg.CACert},
	} {
		if r := cliStdin(t, "", bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", bad, r.code, r.stdout, r.stderr)
		}
	}
}
