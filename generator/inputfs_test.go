package generator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readsAround are the calls that read the file system without inputFS:
// a loader making one reads an input the no-change check never sees (and
// the key guard never checks), so edits to it would not rebuild.
var readsAround = map[string][]string{
	"os":            {"Open", "OpenFile", "ReadFile", "ReadDir", "Stat", "Lstat", "DirFS", "Readlink", "OpenRoot", "OpenInRoot"},
	"path/filepath": {"Walk", "WalkDir", "Glob"},
	"io/ioutil":     {"ReadFile", "ReadDir"},
}

// loaderDirs are the packages that read a build's inputs, from here.
var loaderDirs = []string{"../catalog", "../catalog/registry", "../content", "../theme", ".", "pack"}

// readsAllowed are the places that may read around inputFS, as
// "dir/file.go" (every function of it) or "dir/file.go:Func" (Recv.Method
// for a method), each with why it reads no build input, or why what it
// reads is recorded another way.
var readsAllowed = map[string]string{
	// The reader itself.
	"inputfs.go:inputFS.Open":    "inputFS: opens through the key guard and records",
	"inputfs.go:inputFS.ReadDir": "inputFS: records the folder before listing it",
	"inputfs.go:inputFS.Stat":    "inputFS: records what it saw",
	"inputfs.go:inputFS.Lstat":   "inputFS: records what it saw",
	"../catalog/files.go":        "catalog.Load outside a build (tools, tests); a build passes inputFS as LoadOptions.Files",

	// The record and its check.
	"inputs.go:inputRecorder.recordKeyFile": "the key file's stamp, taken before keyguard.New reads it",
	"inputs.go:lstamp":                      "the check's stamps of manifest, signature and cache files (output side)",
	"inputs.go:upToDate":                    "reads the record (cache) and re-stats what it holds",
	"inputs.go:objectsUntouched":            "stats the output files",

	// The output side and the cache.
	"output.go":                          "the output tree",
	"outstamps.go":                       "outputs.json (cache) and the output files' stamps",
	"manifest.go":                        "the previous build's manifest, in the output",
	"build.go:builder.checkManifestSize": "the manifest just written",
	"artifacts.go:loadCache":             "artifacts.json (cache)",
	"artifacts.go:makeArtifact":          "stats the artifact in the output",

	// Read before the build knows its key, or not an input's bytes.
	"config.go:LoadConfig":                 "site.toml names the key, so it is read before the guard exists; load reads it again through inputFS, which records it",
	"config.go:configLoader.sourcesWithin": "checks that the sources_within setting (in the setup hash) is a folder; the catalog stats each source through inputFS",

	// Pack sources: every byte is read through the key guard (the packer's
	// Opener), and what the check needs of them is the fingerprint of each
	// source (names, sizes, modes, times, inodes of everything under it)
	// that artifacts.json keeps and the check recomputes.
	"artifacts.go:packArtifact": "packs a source through the key guard; fingerprinted",
	"pack/pack.go":              "walks and reads a source; fingerprinted",
}

// TestLoadersReadOnlyThroughInputFS reads the loaders' source: none reads
// the file system, or opens through the key guard, except through
// inputFS, bar the places readsAllowed names and explains. It cannot go
// stale as a list of inputs can: a new loader is checked as it is written.
func TestLoadersReadOnlyThroughInputFS(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	for _, dir := range loaderDirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			for _, r := range readsIn(t, file) {
				key, whole := r.file+":"+r.fn, r.file
				switch {
				case readsAllowed[key] != "":
					used[key] = true
				case readsAllowed[whole] != "":
					used[whole] = true
				default:
					t.Errorf("%s: %s in %s reads around inputFS: the no-change check would miss that input and the key guard would not check it; read it through the loader's Files (inputFS in a build), or, if it is no build input, add %q to readsAllowed with the reason",
						r.pos, r.call, r.fn, key)
				}
			}
		}
	}
	for key := range readsAllowed {
		if !used[key] {
			t.Errorf("readsAllowed[%q] allows nothing any more: remove it", key)
		}
	}
}

type readCall struct {
	pos      token.Position
	file, fn string // file as loaderDirs name it; function, Recv.Method for a method
	call     string // e.g. os.ReadFile or guard.Open
}

// readsIn lists the file's uses (calls or function values) of readsAround
// and of a key guard's Open or ReadFile.
func readsIn(t *testing.T, file string) []readCall {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = p
	}
	var out []readCall
	for _, decl := range f.Decls {
		fn := "(top level)"
		if d, ok := decl.(*ast.FuncDecl); ok {
			fn = d.Name.Name
			if d.Recv != nil && len(d.Recv.List) > 0 {
				fn = recvName(d.Recv.List[0].Type) + "." + fn
			}
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			var call string
			switch x := sel.X.(type) {
			case *ast.Ident:
				if slices.Contains(readsAround[names[x.Name]], sel.Sel.Name) {
					call = x.Name + "." + sel.Sel.Name
				} else if isGuard(x.Name) && isGuardRead(sel.Sel.Name) {
					call = x.Name + "." + sel.Sel.Name
				}
			case *ast.SelectorExpr: // b.guard.Open
				if isGuard(x.Sel.Name) && isGuardRead(sel.Sel.Name) {
					call = x.Sel.Name + "." + sel.Sel.Name
				}
			}
			if call != "" {
				out = append(out, readCall{pos: fset.Position(sel.Pos()), file: filepath.ToSlash(file), fn: fn, call: call})
			}
			return true
		})
	}
	return out
}

func isGuard(name string) bool     { return name == "guard" }
func isGuardRead(name string) bool { return name == "Open" || name == "ReadFile" }

func recvName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return recvName(x.X)
	case *ast.IndexExpr:
		return recvName(x.X)
	case *ast.Ident:
		return x.Name
	}
	return "?"
}

// TestReadsAroundAreFound: the check finds a loader reading around
// inputFS in each way it looks for, so its silence means something.
func TestReadsAroundAreFound(t *testing.T) {
	t.Parallel()
	src := `package x

import (
	"os"
	fp "path/filepath"
)

func load(b *builder) {
	os.ReadFile("a")
	_ = os.Stat
	fp.WalkDir("d", nil)
	b.guard.ReadFile("c")
}

func (l *loader) list() { os.ReadDir("d") }
`
	file := filepath.Join(t.TempDir(), "x.go")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range readsIn(t, file) {
		got = append(got, r.fn+" "+r.call)
	}
	want := []string{"load os.ReadFile", "load os.Stat", "load fp.WalkDir", "load guard.ReadFile", "loader.list os.ReadDir"}
	if !slices.Equal(got, want) {
		t.Errorf("found %q, want %q", got, want)
	}
}
