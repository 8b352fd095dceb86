package synth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// write puts the plan on disk under dir. TOML is written by hand: every
// string is plain printable ASCII, for which Go's %q quoting is valid TOML,
// and hand-writing keeps the layout stable and readable.
//
// Creating files is nearly all of the cost (~1ms each on a busy ext4 disk,
// ~25µs on tmpfs); writing from several goroutines did not measurably help,
// so it stays sequential.
func (p *plan) write(dir string) error {
	w := newWriter(dir)
	w.file("catalog.toml", p.catalogTOML())
	for _, pr := range p.products {
		for _, r := range pr.releases {
			w.release(pr, r)
		}
	}
	for _, pk := range p.packs {
		w.pack(pk)
	}
	return w.err
}

// writer keeps the first error so that callers can write in straight lines,
// and remembers the directories it made: syscalls dominate Generate, so each
// directory is made once instead of being checked before every file.
type writer struct {
	dir  string
	made map[string]bool
	err  error
}

func newWriter(dir string) *writer { return &writer{dir: dir, made: map[string]bool{}} }

func (w *writer) file(rel, content string) {
	if w.err != nil {
		return
	}
	path := filepath.Join(w.dir, filepath.FromSlash(rel))
	if parent := filepath.Dir(path); !w.made[parent] {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			w.err = fmt.Errorf("synth: %w", err)
			return
		}
		w.made[parent] = true
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		w.err = fmt.Errorf("synth: %w", err)
	}
}

func releaseDir(pr product, r release) string { return "releases/" + pr.id + "/" + r.version }

// release writes the three tiny release sources: a bundle directory, an
// ISO file and a Helm chart directory.
func (w *writer) release(pr product, r release) {
	d := releaseDir(pr, r)
	w.file(d+"/bundle/content.txt", fmt.Sprintf("content bundle for %s %s\n", pr.id, r.version))
	w.file(d+"/appliance.iso", fmt.Sprintf("appliance image for %s %s\n", pr.id, r.version))
	w.file(d+"/helm/Chart.yaml", fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\nappVersion: %q\n", pr.id, r.version, r.version))
}

func (w *writer) pack(pk *pack) {
	w.file("packs/"+pk.name+".toml", pk.toml())
	w.file(readmePath(pk.name), pk.readme())
	for _, v := range pk.versions {
		w.file(v.sourceFile(pk.name), v.payload)
		if v.dir {
			w.file(v.source(pk.name)+"/values.yaml", v.values)
		}
	}
}

func (p *plan) catalogTOML() string {
	var b strings.Builder
	b.WriteString("# Synthetic catalog written by internal/synth for benchmarks.\n")
	for _, pr := range p.products {
		fmt.Fprintf(&b, "\n[[product]]\nid = %q\nname = %q\n", pr.id, pr.name)
		for _, r := range pr.releases {
			d := releaseDir(pr, r)
			fmt.Fprintf(&b, "\n  [[product.release]]\n  version = %q\n  date = %s\n  bundle = %q\n  iso = %q\n  helm = %q\n",
				r.version, r.date, d+"/bundle", d+"/appliance.iso", d+"/helm")
		}
	}
	for _, c := range p.clouds {
		fmt.Fprintf(&b, "\n[[cloud]]\nid = %q\nname = %q\nkind = %q\n", c.id, c.name, c.kind)
	}
	for i, l := range layerSpecs {
		fmt.Fprintf(&b, "\n[[layer]]\nid = %q\nname = %q\norder = %d\n", l.id, l.name, i+1)
		if l.multiple {
			b.WriteString("multiple = true\n")
		}
	}
	return b.String()
}

func (pk *pack) toml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "name = %q\ndisplay_name = %q\nlayer = %q\n", pk.name, pk.display, pk.layer)
	if pk.addonType != "" {
		fmt.Fprintf(&b, "addon_type = %q\n", pk.addonType)
	}
	fmt.Fprintf(&b, "description = %q\nreadme = %q\n", pk.description(), readmePath(pk.name))
	for _, v := range pk.versions {
		fmt.Fprintf(&b, "\n[[version]]\nversion = %q\nclouds = %s\narch = %s\nfips = %t\nsource = %q\n",
			v.raw, list(v.clouds), list(v.arch), v.fips, v.source(pk.name))
		b.WriteString("products = { ")
		for i, pr := range v.products {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s = %q", pr.id, pr.constraint)
		}
		b.WriteString(" }\n")
		for _, r := range v.requires {
			b.WriteString("\n  [[version.requires]]\n")
			if r.pack != "" {
				fmt.Fprintf(&b, "  pack = %q\n", r.pack)
			} else {
				fmt.Fprintf(&b, "  layer = %q\n", r.layer)
			}
			fmt.Fprintf(&b, "  versions = %q\n", r.versions)
			if r.kind != "" {
				fmt.Fprintf(&b, "  kind = %q\n", r.kind)
			}
		}
	}
	return b.String()
}

// list formats a TOML array of strings.
func list(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (pk *pack) description() string {
	kind := pk.layer
	if pk.addonType != "" {
		kind = pk.addonType
	}
	return fmt.Sprintf("%s, a synthetic %s pack with %d versions.", pk.display, kind, len(pk.versions))
}

func (pk *pack) readme() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\n## Versions\n\n", pk.display, pk.description())
	for _, v := range pk.versions {
		fmt.Fprintf(&b, "- `%s` on %s (%s)\n", v.raw, strings.Join(v.clouds, ", "), strings.Join(v.arch, ", "))
	}
	return b.String()
}
