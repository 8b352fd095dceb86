package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRebuildWithNothingChangedSaysSo runs the real binary: a rebuild with
// nothing changed says so; --check-output builds in full; a copy of the
// binary with one byte more (another packstudio) never trusts what this
// one recorded, nor this one what the copy recorded.
func TestRebuildWithNothingChangedSaysSo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	extract(t.Fatalf, "../../generator/testdata/site.txtar", dir)
	cli(t, dir, nil, "keygen", "--out", "key/site").must(t)
	// A build does not record inputs changed within a second of its start.
	time.Sleep(1100 * time.Millisecond)
	other := changedCopy(t, os.Args[0], filepath.Join(t.TempDir(), "packstudio"))
	for i, step := range []struct {
		bin, flag, want string
	}{
		{os.Args[0], "", "built public"},
		{os.Args[0], "", "nothing changed since the last build"},
		{os.Args[0], "--check-output", "built public"},
		{os.Args[0], "", "nothing changed since the last build"},
		{other, "", "built public"},
		{other, "", "nothing changed since the last build"},
		{os.Args[0], "", "built public"},
	} {
		args := []string{"build"}
		if step.flag != "" {
			args = append(args, step.flag)
		}
		cmd := exec.Command(step.bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PACKSTUDIO_TEST_MAIN=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("step %d: %v\n%s", i, err, out)
		}
		if !strings.HasPrefix(string(out), step.want) {
			t.Errorf("step %d (%s build %s): %q, want it to start %q", i, filepath.Base(step.bin), step.flag, out, step.want)
		}
	}
}

// changedCopy copies the executable from to to with one byte appended,
// which changes its identity and not what it does.
func changedCopy(t *testing.T, from, to string) string {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return to
}
