package generator

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/sign/signtest"
	"github.com/packstudio/packstudio/internal/tree"
	"github.com/packstudio/packstudio/publish/verify"
)

// buildSetup is what a test build takes besides the site's files.
type buildSetup struct {
	out, cache  string // default: the site's
	baseURL     string // --base-url
	key         string // default: the site's key
	signer      *sign.Signer
	checkOutput bool
}

func (s *site) buildWith(b buildSetup) *Stats {
	s.t.Helper()
	cfg, err := LoadConfig(s.path("site.toml"), Overrides{Output: b.out, BaseURL: b.baseURL})
	if err != nil {
		s.t.Fatal(err)
	}
	if b.cache != "" {
		cfg.Cache = b.cache
	}
	if b.key == "" {
		b.key, b.signer = s.key, s.signer
	}
	st, err := Build(context.Background(), Options{Config: cfg, Signer: b.signer, SigningKey: b.key, Jobs: 3,
		Now: func() time.Time { return s.now }, CheckOutput: b.checkOutput})
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

// freshBuild builds the site as it is now into a new output with a new
// cache, and returns the output.
func (s *site) freshBuild(b buildSetup) string {
	s.t.Helper()
	dir := s.t.TempDir()
	b.out, b.cache = filepath.Join(dir, "public"), filepath.Join(dir, "cache")
	if st := s.buildWith(b); st.UpToDate {
		s.t.Fatal("a build into a new output and cache found nothing changed")
	}
	return b.out
}

// agedSite is a test site with a theme overlay whose files are all older
// than racyWindow, so that a build may record them; prepare, when given,
// changes the site first.
func agedSite(t *testing.T, prepare ...func(*site)) *site {
	t.Helper()
	s := newSite(t)
	for _, p := range prepare {
		p(s)
	}
	s.edit("site.toml", `content = "content"`, "content = \"content\"\ntheme = \"theme\"")
	for name, data := range map[string]string{
		"theme/assets/extra.css":     "body { color: black }\n",
		"theme/templates/.gitignore": "", // a folder the theme walks
	} {
		os.MkdirAll(filepath.Dir(s.path(name)), 0o755)
		if err := os.WriteFile(s.path(name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(racyWindow + 50*time.Millisecond)
	return s
}

// armed builds the site in full and checks that the next build with
// nothing changed takes the fast path.
func (s *site) armed(b buildSetup) {
	s.t.Helper()
	if st := s.buildWith(b); st.UpToDate || st.InputFiles == 0 {
		s.t.Fatalf("first build: up to date %v, %d inputs read; want a full build", st.UpToDate, st.InputFiles)
	}
	if st := s.buildWith(b); !st.UpToDate {
		s.t.Fatal("a rebuild with nothing changed did not find everything as it was")
	}
}

// sameTree fails unless got holds what want holds: the same files with
// the same bytes, except signatures (ECDSA signs differently each time),
// which must verify, and a manifest listing the same objects.
func sameTree(t *testing.T, got, want string, pubKey []byte) {
	t.Helper()
	g, w := treeFiles(t, got), treeFiles(t, want)
	if !slices.Equal(g, w) {
		t.Fatalf("the rebuilt tree has other files than a fresh build:\nmissing %v\nextra %v", minus(w, g), minus(g, w))
	}
	differ := 0
	for _, f := range g {
		if strings.HasSuffix(f, ".sig.bin") || f == tree.ManifestName {
			continue
		}
		a, _ := os.ReadFile(filepath.Join(got, f))
		b, _ := os.ReadFile(filepath.Join(want, f))
		if !bytes.Equal(a, b) {
			if differ++; differ <= 5 {
				t.Errorf("%s differs from a fresh build's", f)
			}
		}
	}
	gm, wm := readObjects(t, got), readObjects(t, want)
	if len(gm) != len(wm) {
		t.Errorf("manifest lists %d objects, a fresh build's %d", len(gm), len(wm))
	}
	for p, o := range wm {
		if g, ok := gm[p]; !ok || (!strings.HasSuffix(p, ".sig.bin") && g != o) {
			t.Errorf("manifest entry %s: %+v, a fresh build's %+v", p, g, o)
		}
	}
	key, err := sign.ParsePublicKey(pubKey)
	if err != nil {
		t.Fatal(err)
	}
	verifyTree(t, got, key, true)
}

// verifyTree runs verify on a built tree and fails when its verdict is
// not want.
func verifyTree(t *testing.T, dir string, key *sign.Verifier, want bool) *verify.Report {
	t.Helper()
	src, err := tree.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rep, err := verify.Tree(context.Background(), src, key, verify.Options{AllowExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() != want {
		t.Errorf("verify says OK=%v, want %v: %v", rep.OK(), want, rep.Failures)
	}
	return rep
}

func readObjects(t *testing.T, dir string) map[string]tree.Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, tree.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := tree.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return m.Index()
}

func treeFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

const extraPack = `name = "addon-extra"
display_name = "Extra"
layer = "addon"
addon_type = "monitoring"
description = "A pack added after the last build."

[[version]]
version = "1.0.0"
clouds = ["vsphere"]
arch = ["amd64"]
source = "payload/dashboard.txt"
products = { palette = ">=4.6.0" }
`

// withRegistry makes the site's catalog the registry fixture's, whose
// packs come from pack.json and values.yaml files.
func withRegistry(s *site) {
	if err := os.RemoveAll(s.path("catalog")); err != nil {
		s.t.Fatal(err)
	}
	if err := os.CopyFS(s.path("catalog"), os.DirFS(filepath.Join("..", "catalog", "testdata", "registry", "catalog"))); err != nil {
		s.t.Fatal(err)
	}
}

// withThemeTemplate gives the theme overlay a template of its own.
func withThemeTemplate(s *site) {
	writeFile(s.t, s.path("theme/templates/verify-signatures.sh"), "#!/bin/sh\necho overridden\n")
}

// TestEveryInputKindLeadsToAFullBuild changes one input of each kind after
// a build that recorded its inputs: the rebuild must not take the fast
// path, and must leave the tree a fresh build of the changed site makes.
// Every loader reads through inputFS (TestLoadersReadOnlyThroughInputFS),
// so these cases check the reader and the record, one kind each.
func TestEveryInputKindLeadsToAFullBuild(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		change  func(s *site, b *buildSetup)
		prepare func(s *site) // before the first build
	}{
		{name: "catalog.toml edited", change: func(s *site, _ *buildSetup) {
			s.edit("catalog/catalog.toml", `name = "VerteX"`, `name = "VerteX Pro"`)
		}},
		{name: "pack toml edited", change: func(s *site, _ *buildSetup) {
			s.edit("catalog/packs/dashboard.toml", `display_name = "Dashboard"`, `display_name = "Dashboard Pro"`)
		}},
		{name: "registry pack.json edited", prepare: withRegistry, change: func(s *site, _ *buildSetup) {
			s.edit("catalog/registry/argo-cd-3.27.0/pack.json", `"displayName": "Argo CD"`, `"displayName": "Argo CD Pro"`)
		}},
		{name: "registry values.yaml edited", prepare: withRegistry, change: func(s *site, _ *buildSetup) {
			s.edit("catalog/registry/argo-cd-3.27.0/values.yaml", "dex:v2.41.1", "dex:v2.42.0")
		}},
		{name: "registry readme edited", prepare: withRegistry, change: func(s *site, _ *buildSetup) {
			s.edit("catalog/registry/argo-cd-3.27.0/README.md", "A pack of the registry fixture.", "Another text.")
		}},
		{name: "file source edited", change: func(s *site, _ *buildSetup) {
			s.edit("catalog/payload/dashboard.txt", "dashboard", "dashboard 2")
		}},
		{name: "file added to a folder source", change: func(s *site, _ *buildSetup) {
			writeFile(s.t, s.path("catalog/payload/metallb/crds.yaml"), "kind: CustomResourceDefinition\n")
		}},
		{name: "theme overlay template edited", prepare: withThemeTemplate, change: func(s *site, _ *buildSetup) {
			s.edit("theme/templates/verify-signatures.sh", "overridden", "overridden again")
		}},
		{name: "pack readme edited", change: func(s *site, _ *buildSetup) {
			s.edit("catalog/readme/ubuntu.md", "| 22.04 | 5.15 |", "| 22.04 | 6.8 |")
		}},
		{name: "content page edited", change: func(s *site, _ *buildSetup) {
			s.edit("content/about.md", "Plain text.", "Other text.")
		}},
		{name: "content page added", change: func(s *site, _ *buildSetup) {
			writeFile(s.t, s.path("content/faq.md"), "# FAQ\n\nAsked often.\n")
		}},
		{name: "pack file added to the catalog", change: func(s *site, _ *buildSetup) {
			writeFile(s.t, s.path("catalog/packs/extra.toml"), extraPack)
		}},
		{name: "theme overlay file edited", change: func(s *site, _ *buildSetup) {
			s.edit("theme/assets/extra.css", "black", "white")
		}},
		{name: "theme overlay file added in a folder", change: func(s *site, _ *buildSetup) {
			writeFile(s.t, s.path("theme/assets/img/logo.svg"), "<svg/>\n")
		}},
		{name: "theme overlay template added", change: func(s *site, _ *buildSetup) {
			// Overrides the embedded script, read while rendering.
			writeFile(s.t, s.path("theme/templates/verify-signatures.sh"), "#!/bin/sh\necho overridden\n")
		}},
		{name: "site.toml edited", change: func(s *site, _ *buildSetup) {
			s.edit("site.toml", `title = "Test packs"`, `title = "Other packs"`)
		}},
		{name: "deep file of a directory source edited", change: func(s *site, _ *buildSetup) {
			s.edit("catalog/payload/ubuntu-22.04/values.yaml", "kernel: 5.15", "kernel: 6.08")
		}},
		{name: "--base-url changed", change: func(s *site, b *buildSetup) {
			b.baseURL = "https://mirror.example.org/packs/"
		}},
		{name: "another signing key", change: func(s *site, b *buildSetup) {
			dir := s.path("key2")
			os.MkdirAll(dir, 0o700)
			b.key, _ = signtest.WriteKey(s.t, dir, "another")
			var err error
			if b.signer, err = sign.LoadSigner(b.key, nil); err != nil {
				s.t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var prepare []func(*site)
			if c.prepare != nil {
				prepare = append(prepare, c.prepare)
			}
			s := agedSite(t, prepare...)
			var b buildSetup
			s.armed(b)
			c.change(s, &b)
			st := s.buildWith(b)
			if st.UpToDate || st.InputFiles == 0 {
				t.Fatalf("after the change the build found nothing changed (%d inputs read)", st.InputFiles)
			}
			pub := s.signer.PublicKeyPEM()
			if b.signer != nil {
				pub = b.signer.PublicKeyPEM()
			}
			sameTree(t, s.out(""), s.freshBuild(b), pub)
		})
	}
}

// TestUnchangedRebuildLoadsNothing: with nothing changed the second build
// reads no input, writes no file (output or cache) and reports the first
// build's figures; --check-output still does the full build.
func TestUnchangedRebuildLoadsNothing(t *testing.T) {
	t.Parallel()
	s := agedSite(t)
	first := s.buildWith(buildSetup{})
	if first.UpToDate || first.InputFiles < 10 {
		t.Fatalf("first build: up to date %v, %d inputs read", first.UpToDate, first.InputFiles)
	}
	out, cache := snapshot(t, s.out("")), snapshot(t, s.path(".cache"))
	st := s.buildWith(buildSetup{})
	if !st.UpToDate || st.InputFiles != 0 {
		t.Fatalf("unchanged rebuild: up to date %v, %d inputs read; want true, 0", st.UpToDate, st.InputFiles)
	}
	if d := snapshot(t, s.out("")).diff(out); len(d) > 0 {
		t.Errorf("the up-to-date build touched output files %v", d)
	}
	if d := snapshot(t, s.path(".cache")).diff(cache); len(d) > 0 {
		t.Errorf("the up-to-date build touched cache files %v", d)
	}
	if st.Objects != first.Objects || st.Rows != first.Rows || st.PackVersions != first.PackVersions ||
		st.ManifestVersion != first.ManifestVersion || st.FilesWritten != 0 || st.Packed != 0 || st.Signed != 0 ||
		st.Reused != first.Packed || st.FilesUnchanged != first.FilesWritten-int64(first.Packed) ||
		st.PackTime != 0 || st.RenderTime != 0 {
		t.Errorf("up-to-date figures %+v do not match the first build's %+v (and should show no stage run)", *st, *first)
	}
	if st := s.buildWith(buildSetup{checkOutput: true}); st.UpToDate || st.InputFiles == 0 {
		t.Errorf("--check-output took the fast path (%d inputs read)", st.InputFiles)
	}
	if st := s.buildWith(buildSetup{}); !st.UpToDate {
		t.Error("after a --check-output build the next one is not up to date")
	}
}

// TestInputsChangedJustBeforeABuildAreNotTrusted: an input edited just
// before a build may be edited again within one tick of the file system's
// clock keeping every stat, so such a build records nothing and the next
// one is a full build.
func TestInputsChangedJustBeforeABuildAreNotTrusted(t *testing.T) {
	t.Parallel()
	s := agedSite(t)
	s.edit("content/about.md", "Plain text.", "Other text.")
	if st := s.buildWith(buildSetup{}); st.UpToDate {
		t.Fatal("a build after an edit found nothing changed")
	}
	if _, err := os.Stat(s.path(".cache/" + inputsFile)); !os.IsNotExist(err) {
		t.Errorf("%s recorded an input edited just before the build (%v)", inputsFile, err)
	}
	if st := s.buildWith(buildSetup{}); st.UpToDate {
		t.Error("the build after it trusted what the first recorded")
	}
}

// TestOutputEditsAfterAnUpToDateBuild: an output file edited so that its
// size changes, or removed, or the manifest renewed, makes the next build
// a full one that repairs or keeps it; an edit that keeps size, time and
// inode is trusted by the rebuild, as by a full one, and caught by verify
// and --check-output.
func TestOutputEditsAfterAnUpToDateBuild(t *testing.T) {
	t.Parallel()
	s := agedSite(t)
	s.armed(buildSetup{})
	key, err := sign.ParsePublicKey(s.signer.PublicKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	const page, gone = "packs/ubuntu/index.html", "artifacts/packs/ubuntu/ubuntu-22.04.zst"
	want := map[string]string{page: s.read(page), gone: s.read(gone)}

	os.WriteFile(s.out(page), []byte("defaced"), 0o644)
	os.Remove(s.out(gone))
	if st := s.buildWith(buildSetup{}); st.UpToDate {
		t.Fatal("an edited page and a removed artifact left the build up to date")
	}
	for f, data := range want {
		if s.read(f) != data {
			t.Errorf("%s was not restored", f)
		}
	}
	verifyTree(t, s.out(""), key, true)

	m, err := Renew(s.out(""), s.signer, time.Hour, s.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st := s.buildWith(buildSetup{}); st.UpToDate || st.ManifestVersion != m.Version || st.ManifestChanged {
		t.Errorf("after renew: up to date %v, manifest version %d changed %v; want a full build keeping version %d", st.UpToDate, st.ManifestVersion, st.ManifestChanged, m.Version)
	}
	if st := s.buildWith(buildSetup{}); !st.UpToDate || st.ManifestVersion != m.Version {
		t.Errorf("the build after that: up to date %v, manifest version %d", st.UpToDate, st.ManifestVersion)
	}

	hideEdit(t, s.out(page))
	if st := s.buildWith(buildSetup{}); !st.UpToDate {
		t.Error("an edit keeping size, time and inode was noticed without --check-output: the stamps are not what decides")
	}
	rep := verifyTree(t, s.out(""), key, false)
	if len(rep.Failures) != 1 || rep.Failures[0].Path != page {
		t.Errorf("verify should name only %s: %v", page, rep.Failures)
	}
	if st := s.buildWith(buildSetup{checkOutput: true}); st.UpToDate || st.FilesWritten != 1 || s.read(page) != want[page] {
		t.Errorf("--check-output: up to date %v, %d written; want the page restored", st.UpToDate, st.FilesWritten)
	}
	verifyTree(t, s.out(""), key, true)
}

// TestAnotherBinaryRebuilds: a packstudio built from other code never
// trusts what this one recorded. Not parallel: it swaps the identity.
func TestAnotherBinaryRebuilds(t *testing.T) {
	s := agedSite(t)
	s.armed(buildSetup{})
	real := binaryIdentity
	t.Cleanup(func() { binaryIdentity = real })
	binaryIdentity = func() (string, error) { return "another packstudio", nil }
	if st := s.buildWith(buildSetup{}); st.UpToDate || st.InputFiles == 0 {
		t.Fatal("another binary trusted this one's record")
	}
	if st := s.buildWith(buildSetup{}); !st.UpToDate {
		t.Fatal("the other binary does not trust its own record")
	}
	binaryIdentity = func() (string, error) { return "", os.ErrNotExist }
	if st := s.buildWith(buildSetup{}); st.UpToDate {
		t.Fatal("a binary that cannot name itself took the fast path")
	}
}

// TestBinaryIdentityIsItsBytes: the identity changes with one byte of the
// executable, whatever its size and times.
func TestBinaryIdentityIsItsBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, "packstudio build 1")
	writeFile(t, b, "packstudio build 2")
	ia, err := fileIdentity(a)
	if err != nil {
		t.Fatal(err)
	}
	ib, _ := fileIdentity(b)
	if ia == ib || ia == "" {
		t.Errorf("two executables differing in one byte share the identity %q", ia)
	}
	if self, err := binaryIdentity(); err != nil || self == "" {
		t.Errorf("the test binary has no identity: %v", err)
	}
}
