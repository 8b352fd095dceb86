package browsertest

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/testing/testenv"
)

// AxeVersion is the axe-core release the accessibility audit runs. It is
// fetched with `npm pack` into the user cache on first use, never
// committed.
const AxeVersion = "4.10.3"

// axeScript returns axe.min.js, fetching it into the cache if needed.
func axeScript(t testing.TB) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(cache, "packstudio", "axe-core-"+AxeVersion, "axe.min.js")
	if b, err := os.ReadFile(file); err == nil {
		return string(b)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		testenv.Missing(t, "npm is not installed, so axe-core %s cannot be fetched (apt-get install npm)", AxeVersion)
	}
	tmp := t.TempDir()
	cmd := exec.Command(npm, "pack", "axe-core@"+AxeVersion, "--silent")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		testenv.Missing(t, "npm pack axe-core@%s: %v\n%s", AxeVersion, err, out)
	}
	src, err := untarFile(filepath.Join(tmp, strings.TrimSpace(lastLine(string(out)))), "package/axe.min.js")
	if err != nil {
		t.Fatalf("axe-core %s: %v", AxeVersion, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return string(src)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// untarFile reads one file out of a .tgz.
func untarFile(tgz, name string) ([]byte, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s has no %s", tgz, name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tgz, err)
		}
		if h.Name == name {
			return io.ReadAll(io.LimitReader(tr, 16<<20))
		}
	}
}

// AxeViolation is one failed axe-core rule on a page.
type AxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v AxeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
}

// Axe runs the axe-core WCAG 2 A/AA rules on the page as it is now. The
// script is evaluated through DevTools, which the page's CSP does not
// govern; it makes no request.
func (p *Page) Axe() []AxeViolation {
	p.t.Helper()
	p.Do(axeScript(p.t) + "\n;undefined")
	return Eval[[]AxeViolation](p, `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
			nodes: v.nodes.map(n => n.target.join(' '))})))`)
}
