package registry

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadVersion feeds hostile pack.json and values.yaml to the reader:
// it must never panic, a version it returns has a name, version and
// layer, every problem names its file, and every line found is a line.
func FuzzReadVersion(f *testing.F) {
	f.Add(`{"name": "a", "version": "1.0", "layer": "addon", "cloudTypes": ["all"], "charts": ["charts/a.tgz"]}`, "pack:\n  content:\n    images:\n      - image: x\n")
	f.Add(`{"name": "a", "version": "1", "layer": "k8s", "cloudTypes": ["all"], "kubeManifests": ["../../etc/passwd"], "constraints": {"dependencies": [{"packName": "b", "type": "required"}]}}`, "")
	f.Add(`[[[{"a": [1, {"b": null}]}]]]`, "pack: [")
	f.Fuzz(func(t *testing.T, packJSON, values string) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "charts"), 0o755)
		os.WriteFile(filepath.Join(dir, "charts", "a.tgz"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(dir, "pack.json"), []byte(packJSON), 0o644)
		if values != "" {
			os.WriteFile(filepath.Join(dir, "values.yaml"), []byte(values), 0o644)
		}
		v, ps := readVersion(".", "pack.json", os.DirFS(dir).(Files))
		if v == nil {
			return
		}
		if v.Name == "" || v.Version == "" || v.Layer == "" {
			t.Fatalf("version without name, version or layer: %+v", v)
		}
		for _, p := range ps {
			if p.File == "" || p.Msg == "" {
				t.Fatalf("problem without a file: %+v", p)
			}
		}
		for _, path := range v.lines {
			if path < 1 {
				t.Fatalf("line %d", path)
			}
		}
	})
}
