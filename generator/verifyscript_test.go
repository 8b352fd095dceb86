package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// verifyShells are the shells the rendered script must work under.
var verifyShells = []string{"sh", "bash"}

// downloads copies the ubuntu pack, its signature and the site's key from
// the built site into a fresh folder, as a user would download them.
func downloads(t *testing.T, s *site) string {
	t.Helper()
	dl := t.TempDir()
	for _, f := range []string{"artifacts/packs/ubuntu/ubuntu-20.04.zst", "artifacts/packs/ubuntu/ubuntu-20.04.sig.bin", "public_key.pem"} {
		if err := os.WriteFile(filepath.Join(dl, filepath.Base(f)), []byte(s.read(f)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dl
}

// runScript runs the built site's verify-signatures.sh under shell with
// args and extra environment, and returns stdout, stderr and the exit status.
func runScript(t *testing.T, s *site, shell string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(shell, append([]string{s.out("verify/verify-signatures.sh")}, args...)...)
	cmd.Env = append(os.Environ(), "PACKSTUDIO_TRUST_ANY_KEY=")
	cmd.Env = append(cmd.Env, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// openssl runs the real openssl with args.
func openssl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fingerprint is the SHA-256 of a public key's DER form, as the site states it.
func fingerprint(t *testing.T, pub string) string {
	t.Helper()
	der, err := exec.Command("openssl", "pkey", "-pubin", "-in", pub, "-outform", "DER").Output()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// TestVerifyScriptRefusesAnotherKey plays the attack the script's key check
// is for: an attacker swaps an artifact, signs it with a key of their own
// made by openssl and swaps public_key.pem beside it. The real script under
// real openssl must refuse that key, naming both fingerprints, unless the
// user says to trust it, and then warn loudly.
func TestVerifyScriptRefusesAnotherKey(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	siteID := fingerprint(t, s.out("public_key.pem"))

	// The attacker's tree: another key, other bytes, signed with that key.
	evil := downloads(t, s)
	attacker := filepath.Join(t.TempDir(), "attacker.pem")
	openssl(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", attacker)
	openssl(t, "pkey", "-in", attacker, "-pubout", "-out", filepath.Join(evil, "public_key.pem"))
	artifact := filepath.Join(evil, "ubuntu-20.04.zst")
	if err := os.WriteFile(artifact, []byte("not what the site signed"), 0o644); err != nil {
		t.Fatal(err)
	}
	openssl(t, "dgst", "-sha256", "-sign", attacker, "-out", filepath.Join(evil, "ubuntu-20.04.sig.bin"), artifact)
	evilID := fingerprint(t, filepath.Join(evil, "public_key.pem"))
	good := downloads(t, s)

	cases := []struct {
		name string
		dir  string
		env  []string
		args []string
		// code is the exit status; out must appear in stdout+stderr,
		// notOut must not.
		code        int
		out, notOut []string
	}{
		{name: "site key", dir: good, code: 0,
			out:    []string{"OK       key ", "OK       ubuntu-20.04.zst", "1 verified, 0 failed"},
			notOut: []string{"WARNING", "NOT the site key"}},
		{name: "site key named on the command line", dir: good, args: []string{"KEY"}, code: 0,
			out: []string{"1 verified, 0 failed"}},
		{name: "swapped key", dir: evil, code: 1,
			out:    []string{"FAILED   key ", evilID, siteID, "--trust-key", "PACKSTUDIO_TRUST_ANY_KEY=1"},
			notOut: []string{"OK       ubuntu-20.04.zst", "verified"}},
		{name: "swapped key named on the command line", dir: evil, args: []string{"KEY"}, code: 1,
			out: []string{evilID, siteID}, notOut: []string{"OK       ubuntu"}},
		{name: "swapped key, PACKSTUDIO_TRUST_ANY_KEY=0", dir: evil, env: []string{"PACKSTUDIO_TRUST_ANY_KEY=0"}, code: 1,
			out: []string{evilID, siteID}, notOut: []string{"OK       ubuntu"}},
		{name: "swapped key, --trust-key", dir: evil, args: []string{"--trust-key"}, code: 0,
			out: []string{"WARNING  ", "NOT the site key", evilID, siteID, "OK       ubuntu-20.04.zst", "1 verified with a key that is NOT the site key"}},
		{name: "swapped key, --trust-key after the folder", dir: evil, args: []string{"KEY", "--trust-key"}, code: 0,
			out: []string{"WARNING  ", "1 verified with a key that is NOT the site key"}},
		{name: "swapped key, PACKSTUDIO_TRUST_ANY_KEY=1", dir: evil, env: []string{"PACKSTUDIO_TRUST_ANY_KEY=1"}, code: 0,
			out: []string{"WARNING  ", "NOT the site key", evilID, siteID, "1 verified with a key that is NOT the site key"}},
		{name: "site key, tampered artifact", dir: func() string {
			d := downloads(t, s)
			os.WriteFile(filepath.Join(d, "ubuntu-20.04.zst"), []byte("tampered"), 0o644)
			return d
		}(), code: 1, out: []string{"FAILED   ubuntu-20.04.zst", "0 verified, 1 failed"}},
		{name: "help", dir: good, args: []string{"--help"}, code: 0,
			out: []string{"Usage:", "--trust-key", "PACKSTUDIO_TRUST_ANY_KEY=1", siteID}, notOut: []string{"verified"}},
		{name: "-h", dir: good, args: []string{"-h"}, code: 0, out: []string{"--trust-key", "PACKSTUDIO_TRUST_ANY_KEY=1"}},
		{name: "unknown option", dir: good, args: []string{"--trust-any"}, code: 2, out: []string{"unknown option --trust-any"}},
		{name: "not a key", dir: func() string {
			d := downloads(t, s)
			os.WriteFile(filepath.Join(d, "public_key.pem"), []byte("junk\n"), 0o644)
			return d
		}(), code: 2, out: []string{"is not a public key"}},
	}
	for _, shell := range verifyShells {
		for _, c := range cases {
			t.Run(shell+"/"+c.name, func(t *testing.T) {
				args := []string{c.dir}
				for _, a := range c.args {
					if a == "KEY" { // the folder's key, named as an argument
						a = filepath.Join(c.dir, "public_key.pem")
					}
					args = append(args, a)
				}
				stdout, stderr, code := runScript(t, s, shell, c.env, args...)
				all := stdout + stderr
				if code != c.code {
					t.Errorf("exit status %d, want %d:\n%s", code, c.code, all)
				}
				for _, w := range c.out {
					if !strings.Contains(all, w) {
						t.Errorf("output lacks %q:\n%s", w, all)
					}
				}
				for _, w := range c.notOut {
					if strings.Contains(all, w) {
						t.Errorf("output has %q:\n%s", w, all)
					}
				}
			})
		}
	}

	// The header comment says the same as --help.
	script := s.read("verify/verify-signatures.sh")
	header := script[:strings.Index(script, "\nset -u")]
	for _, w := range []string{"--trust-key", "PACKSTUDIO_TRUST_ANY_KEY=1", "-h, --help", "SHA256SUMS.txt"} {
		if !strings.Contains(header, w) {
			t.Errorf("the script's header comment does not name %s:\n%s", w, header)
		}
	}
	page := s.read("verify/index.html")
	for _, w := range []string{"--trust-key", "PACKSTUDIO_TRUST_ANY_KEY=1", "SHA256SUMS.txt", "refuses any other key"} {
		if !strings.Contains(page, w) {
			t.Errorf("verify/index.html does not say %s", w)
		}
	}
}

// TestVerifyScriptChecksSHA256SUMSUnderEitherName checks that the script
// runs sha256sum -c on SHA256SUMS.txt (the name Chromium saves SHA256SUMS
// under) as well as on SHA256SUMS, says which list it checked, and says so
// when there is none instead of passing in silence.
func TestVerifyScriptChecksSHA256SUMSUnderEitherName(t *testing.T) {
	t.Parallel()
	s := builtSite(t)
	sum := sha256.Sum256([]byte(s.read("artifacts/packs/ubuntu/ubuntu-20.04.zst")))
	right := hex.EncodeToString(sum[:]) + "  ubuntu-20.04.zst\n"
	wrong := strings.Repeat("0", 64) + "  ubuntu-20.04.zst\n"
	cases := []struct {
		name  string
		lists map[string]string
		code  int
		out   []string
	}{
		{"SHA256SUMS right", map[string]string{"SHA256SUMS": right}, 0, []string{"OK       SHA256SUMS\n"}},
		{"SHA256SUMS wrong", map[string]string{"SHA256SUMS": wrong}, 1, []string{"FAILED   SHA256SUMS:"}},
		{"SHA256SUMS.txt right", map[string]string{"SHA256SUMS.txt": right}, 0, []string{"OK       SHA256SUMS.txt\n"}},
		{"SHA256SUMS.txt wrong", map[string]string{"SHA256SUMS.txt": wrong}, 1, []string{"FAILED   SHA256SUMS.txt:", "1 verified, 1 failed"}},
		{"both, the .txt wrong", map[string]string{"SHA256SUMS": right, "SHA256SUMS.txt": wrong}, 1, []string{"OK       SHA256SUMS\n", "FAILED   SHA256SUMS.txt:"}},
		{"neither", nil, 0, []string{"NOTE     no SHA256SUMS or SHA256SUMS.txt", "1 verified, 0 failed"}},
	}
	for _, shell := range verifyShells {
		for _, c := range cases {
			t.Run(shell+"/"+c.name, func(t *testing.T) {
				dl := downloads(t, s)
				for name, data := range c.lists {
					if err := os.WriteFile(filepath.Join(dl, name), []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				stdout, stderr, code := runScript(t, s, shell, nil, dl)
				all := stdout + stderr
				if code != c.code {
					t.Errorf("exit status %d, want %d:\n%s", code, c.code, all)
				}
				for _, w := range c.out {
					if !strings.Contains(all, w) {
						t.Errorf("output lacks %q:\n%s", w, all)
					}
				}
			})
		}
	}
}
