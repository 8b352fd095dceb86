package browsertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// demoSite is the demo catalog, built once per test binary.
func demoSite(t *testing.T) *Site { return Shared(t, "demo", BuildDemo) }

// roots are the two ways a site is opened: served over HTTP, and from disk.
func roots(t *testing.T, s *Site) []string {
	return []string{ServeRoot(t, s.Dir), FileRoot(s.Dir)}
}

// readJSON decodes a file of the built tree.
func readJSON(t *testing.T, s *Site, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// builtCatalog is the part of catalog.json the tests use as their oracle.
type builtCatalog struct {
	Packs []struct {
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
		Layer       string `json:"layer"`
		AddonType   string `json:"addon_type"`
		Description string `json:"description"`
		Versions    []struct {
			Version string   `json:"version"`
			Clouds  []string `json:"clouds"`
			URL     string   `json:"url"`
			SigURL  string   `json:"sig_url"`
		} `json:"versions"`
	} `json:"packs"`
	Layers []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"layers"`
	Clouds []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"clouds"`
}

func loadCatalog(t *testing.T, s *Site) *builtCatalog {
	var c builtCatalog
	readJSON(t, s, "catalog.json", &c)
	if len(c.Packs) == 0 {
		t.Fatal("catalog.json lists no packs")
	}
	return &c
}

func (c *builtCatalog) layerName(id string) string {
	for _, l := range c.Layers {
		if l.ID == id {
			return l.Name
		}
	}
	return ""
}
