package generator

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/sign/signtest"
	"github.com/packstudio/packstudio/internal/testing/synth"
)

// benchSite generates a synthetic catalog of n packs and a site around it.
func benchSite(b *testing.B, packs int) (*Config, *sign.Signer, string) {
	b.Helper()
	dir := b.TempDir()
	o := synth.Options{Packs: packs, VersionsPerPack: 4, Products: 2, ReleasesPerProduct: 8, Clouds: 8}
	if err := synth.Generate(filepath.Join(dir, "catalog"), o); err != nil {
		b.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "key"), 0o700)
	key, _ := signtest.WriteKey(b, filepath.Join(dir, "key"), "bench")
	site := "title = \"bench\"\nbase_url = \"https://packs.example.com/\"\n[signing]\nkey = \"key/site.pem\"\n"
	os.WriteFile(filepath.Join(dir, "site.toml"), []byte(site), 0o644)
	cfg, err := LoadConfig(filepath.Join(dir, "site.toml"), Overrides{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := sign.LoadSigner(key, nil)
	if err != nil {
		b.Fatal(err)
	}
	return cfg, s, key
}

func reportRows(b *testing.B, st *Stats) {
	b.ReportMetric(float64(st.Rows), "rows")
	b.ReportMetric(float64(st.ObjectBytes)/float64(st.Rows), "bytes/row")
	b.ReportMetric(float64(st.CompatBytes)/float64(st.Rows), "compat-bytes/row")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(st.Rows), "ns/row")
}

// BenchmarkBuild builds a 200-pack synthetic site from scratch each time.
func BenchmarkBuild(b *testing.B) {
	cfg, s, key := benchSite(b, 200)
	var st *Stats
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		os.RemoveAll(cfg.Output)
		os.RemoveAll(cfg.Cache)
		b.StartTimer()
		var err error
		if st, err = Build(context.Background(), Options{Config: cfg, Signer: s, SigningKey: key}); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, st)
}

// BenchmarkRebuildUnchanged rebuilds a built site with nothing changed:
// every file is rendered; none is read or written.
func BenchmarkRebuildUnchanged(b *testing.B) {
	cfg, s, key := benchSite(b, 200)
	if _, err := Build(context.Background(), Options{Config: cfg, Signer: s, SigningKey: key}); err != nil {
		b.Fatal(err)
	}
	var st *Stats
	for b.Loop() {
		var err error
		if st, err = Build(context.Background(), Options{Config: cfg, Signer: s, SigningKey: key}); err != nil {
			b.Fatal(err)
		}
		if st.FilesWritten != 0 {
			b.Fatalf("unchanged rebuild wrote %d files", st.FilesWritten)
		}
	}
	reportRows(b, st)
}

// BenchmarkPlan measures indexing every combination's rows of a
// 1,000-pack catalog, without writing anything.
func BenchmarkPlan(b *testing.B) {
	dir := b.TempDir()
	if err := synth.Generate(dir, synth.Options{}); err != nil {
		b.Fatal(err)
	}
	cat, err := catalog.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	var p *plan
	for b.Loop() {
		p = newPlan(cat)
	}
	b.ReportMetric(float64(len(p.rows)), "rows")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(p.rows)), "ns/row")
}
