package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Hugo's site for the comparison: list pages of rows, one content file
// each, rendered by one plain template.
const (
	hugoPages = 10000
	hugoRows  = 25
)

// writeHugoSite writes a Hugo site of hugoPages pages under content/p/,
// each listing hugoRows rows from its front matter, with every kind of
// page Hugo would add besides (taxonomies, feeds, sitemap) turned off.
func writeHugoSite(dir string) error {
	files := map[string]string{
		"hugo.toml": "baseURL = \"https://packs.example.com/\"\ntitle = \"bench\"\n" +
			"disableKinds = [\"taxonomy\", \"term\", \"RSS\", \"sitemap\", \"robotsTXT\", \"404\"]\n",
		"layouts/_default/single.html": `<!doctype html><html><head><title>{{ .Title }}</title></head><body><h1>{{ .Title }}</h1>
<table><tr><th>Pack</th><th>Version</th><th>Layer</th><th>Clouds</th><th>Download</th></tr>
{{ range .Params.rows }}<tr><td>{{ .name }}</td><td>{{ .version }}</td><td>{{ .layer }}</td><td>{{ delimit .clouds ", " }}</td><td><a href="/artifacts/{{ .name }}-{{ .version }}.zst">{{ .name }}-{{ .version }}.zst</a></td></tr>
{{ end }}</table></body></html>
`,
		"layouts/_default/list.html": "<!doctype html><html><body><h1>{{ .Title }}</h1></body></html>\n",
	}
	for name, data := range files {
		if err := writeFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "content", "p"), 0o755); err != nil {
		return err
	}
	layers := []string{"os", "k8s", "cni", "csi", "addon"}
	for i := range hugoPages {
		var b strings.Builder
		fmt.Fprintf(&b, "---\ntitle: \"Combination %d\"\nrows:\n", i)
		for r := range hugoRows {
			fmt.Fprintf(&b, "- name: pack-%d\n  version: 1.%d.%d\n  layer: %s\n  clouds: [aws, azure, gcp]\n", (i*7+r*13)%2500, r, i%10, layers[r%len(layers)])
		}
		b.WriteString("---\n")
		if err := os.WriteFile(filepath.Join(dir, "content", "p", fmt.Sprintf("c%05d.md", i)), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p, data string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(data), 0o644)
}

// benchHugo times `hugo --quiet` building its site into a fresh folder on
// the same disk, and counts the files it wrote.
func benchHugo(hugo, work string) (run, int, error) {
	dir := filepath.Join(work, "hugo")
	if err := aside.setAside(dir); err != nil {
		return run{}, 0, err
	}
	if err := writeHugoSite(dir); err != nil {
		return run{}, 0, err
	}
	r := measure(dir, nil, "hugo --quiet", hugo, "--quiet", "--destination", "public")
	if r.err != nil {
		return r, 0, r.err
	}
	files := 0
	err := filepath.WalkDir(filepath.Join(dir, "public"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return err
	})
	if serr := aside.setAside(dir); err == nil {
		err = serr
	}
	return r, files, err
}

// reportHugo prints the fresh build of packstudio beside Hugo's: pages per
// second (a packstudio page is a combination, written as four files),
// files per second, pages per CPU second (steadier than wall time on a
// shared machine) and peak memory, and packstudio's ratio to Hugo.
func reportHugo(ours run, hugo run, hugoFiles int) {
	fmt.Printf("\nFRESH BUILD vs HUGO, same disk, same run (Hugo: %d list pages of %d rows, one content file each):\n\n", hugoPages, hugoRows)
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\tpages\tfiles\twall\tCPU\tpages/s\tfiles/s\tpages/CPU-s\tpeak RSS\t")
	line := func(name string, r run, pages, files int) (float64, float64, float64) {
		ps, fps, pc := float64(pages)/r.wall.Seconds(), float64(files)/r.wall.Seconds(), float64(pages)/r.cpu.Seconds()
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%.0f\t%.0f\t%.0f\t%s\t\n", name, pages, files, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), ps, fps, pc, mib(r.maxRSS))
		return ps, fps, pc
	}
	ops, ofs, opc := line("packstudio build", ours, ours.st.Combinations, ours.st.Objects)
	hps, hfs, hpc := line("hugo --quiet", hugo, hugoPages, hugoFiles)
	fmt.Fprintf(w, "packstudio / hugo\t\t\t\t\t%.2f\t%.2f\t%.2f\t%.2f\t\n", ops/hps, ofs/hfs, opc/hpc, float64(ours.maxRSS)/float64(hugo.maxRSS))
	w.Flush()
}
