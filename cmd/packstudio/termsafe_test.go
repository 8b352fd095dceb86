package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/testing/treetest"
)

func TestTermSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain: packs/a b/ü-é.zst": "plain: packs/a b/ü-é.zst",
		"\x1b[31mred\x1b[0m":       `\x1b[31mred\x1b[0m`,
		"title\x1b]0;pwned\a":      `title\x1b]0;pwned\a`,
		"a\nFAIL b\rc\td":          `a\nFAIL b\rc\td`,
		"evil\u202etxt.exe":        `evil\u202etxt.exe`,
		"bad \xff byte":            `bad \xff byte`,
		`back\slash "quoted"`:      `back\slash "quoted"`,
	} {
		if got := termSafe(in); got != want {
			t.Errorf("termSafe(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestNoEscapesReachTheTerminal: a stray object whose name holds escape
// sequences and a newline shows as one quoted FAIL line of verify, and a
// command-line argument holding them shows quoted in the error.
func TestNoEscapesReachTheTerminal(t *testing.T) {
	pub := treetest.NewPublisher(t, "termsafe")
	dir := t.TempDir()
	pub.Sign(1, map[string]string{"index.html": "home"}).Write(t, dir)
	evil := "x\x1b]0;owned\a\x1b[2J\nverified OK"
	if err := os.WriteFile(filepath.Join(dir, evil), []byte("stray"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, dir, nil, "verify", "--key", pub.KeyFile, ".")
	if code != exitFailed {
		t.Errorf("verify exit %d, want %d\n%s%s", code, exitFailed, stdout, stderr)
	}
	if want := `FAIL x\x1b]0;owned\a\x1b[2J\nverified OK: not in the manifest`; !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout)
	}
	for _, out := range []string{stdout, stderr} {
		if strings.ContainsAny(out, "\x1b\a") || strings.Contains(out, "\nverified OK") {
			t.Errorf("raw escape sequence or forged line on the terminal: %q", out)
		}
	}

	code, stdout, stderr = runCLI(t, dir, nil, "verify", "--key", pub.KeyFile, "nowhere\x1b[2J")
	if code == 0 || !strings.Contains(stderr, `nowhere\x1b[2J`) || strings.ContainsAny(stdout+stderr, "\x1b") {
		t.Errorf("exit %d, error not quoted: %q %q", code, stdout, stderr)
	}
}
