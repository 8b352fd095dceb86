// Package registry reads a pack registry checkout in the common pack
// layout: one folder per pack version holding pack.json, README.md,
// values.yaml, a logo and the pack's content (charts, manifests). It
// reports what the files say, each value with its line; the catalog
// decides what it means. It imports nothing of ours.
package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds pack.json and values.yaml: real ones are a few KiB.
const MaxFileSize = 4 << 20

// Version is one pack.json with its folder's readme and values.yaml.
type Version struct {
	Dir    string // the version's folder: its source
	File   string // the pack.json
	Readme string // README.md in the folder, or ""

	Name, Version, DisplayName, Layer, AddonType, Group, EOL string
	CloudTypes                                               []string
	// From annotations.
	Description, DocsURL string
	Deprecated           bool // system_state = "deprecated"
	Disabled             bool // disabled = "true": not published
	Dependencies         []Dependency
	Images               []string // values.yaml pack.content.images[].image
	Charts               []Chart  // values.yaml pack.content.charts[]

	lines map[string]int // JSON path ("constraints.dependencies[1].type") → line
}

// Line returns the line of a JSON path of pack.json, or of its nearest
// parent that has one.
func (v *Version) Line(path string) int {
	for path != "" {
		if l, ok := v.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 1
}

// Dependency is one constraints.dependencies[] entry.
type Dependency struct {
	PackName, Layer, MinVersion, MaxVersion, Type string
	Path                                          string // its JSON path, for Line
}

// Chart is one values.yaml pack.content.charts[] entry.
type Chart struct {
	Repo, Name, Version string
}

// Problem is something wrong in a registry file.
type Problem struct {
	File     string
	Line     int
	Msg, Fix string
}

// Files is how a registry is read: io/fs's interfaces over OS paths. A
// build passes the one way it reads its inputs, which refuses the signing
// key and records every read; nothing here reads any other way.
type Files interface {
	fs.ReadDirFS
	fs.StatFS
	Lstat(name string) (fs.FileInfo, error)
}

// Read finds every pack.json below dir (a folder holding one is a pack
// version: its subfolders are its content, not searched further) and reads
// it, through files. Versions come in path order; problems are all
// returned at once.
func Read(dir string, files Files) ([]*Version, []Problem) {
	var out []*Version
	var ps []Problem
	// fs.WalkDir joins names with path.Join: the same as filepath.Join
	// for the OS paths given here.
	err := fs.WalkDir(files, dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			ps = append(ps, Problem{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrap(err)), Fix: "make it readable"})
			return nil
		}
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") && path != dir {
			if d.IsDir() {
				return fs.SkipDir // .git and the like
			}
			return nil
		}
		file := filepath.Join(path, "pack.json")
		if fi, err := files.Lstat(file); err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		v, vps := readVersion(path, file, files)
		ps = append(ps, vps...)
		if v != nil {
			out = append(out, v)
		}
		if path == dir {
			return nil
		}
		return fs.SkipDir
	})
	if err != nil {
		ps = append(ps, Problem{File: dir, Msg: err.Error()})
	}
	return out, ps
}

// rawPack mirrors pack.json; fields it does not name are ignored, since
// registries add their own.
type rawPack struct {
	Name          *string           `json:"name"`
	Version       *string           `json:"version"`
	DisplayName   string            `json:"displayName"`
	Layer         *string           `json:"layer"`
	AddonType     string            `json:"addonType"`
	Group         string            `json:"group"`
	EOL           string            `json:"eol"`
	CloudTypes    []string          `json:"cloudTypes"`
	Charts        []string          `json:"charts"`
	KubeManifests []string          `json:"kubeManifests"`
	Annotations   map[string]string `json:"annotations"`
	Constraints   struct {
		Dependencies []struct {
			PackName   string `json:"packName"`
			Layer      string `json:"layer"`
			MinVersion string `json:"minVersion"`
			MaxVersion string `json:"maxVersion"`
			Type       string `json:"type"`
		} `json:"dependencies"`
	} `json:"constraints"`
}

func readVersion(dir, file string, files Files) (*Version, []Problem) {
	var ps []Problem
	add := func(line int, fix, format string, args ...any) {
		ps = append(ps, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix})
	}
	data, err := readLimited(file, files)
	if err != nil {
		add(0, "make it readable and smaller than 4 MiB", "cannot read: %v", err)
		return nil, ps
	}
	var raw rawPack
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		line := 0
		switch {
		case errors.As(err, &se):
			line = lineOf(data, se.Offset)
		case errors.As(err, &te):
			line = lineOf(data, te.Offset)
		}
		add(line, "fix the JSON", "is not a pack.json: %v", err)
		return nil, ps
	}
	v := &Version{Dir: dir, File: file, lines: jsonLines(data),
		DisplayName: strings.TrimSpace(raw.DisplayName), AddonType: strings.TrimSpace(raw.AddonType),
		Group: strings.TrimSpace(raw.Group), EOL: strings.TrimSpace(raw.EOL), CloudTypes: raw.CloudTypes}
	for _, f := range []struct {
		key string
		p   *string
		out *string
	}{{"name", raw.Name, &v.Name}, {"version", raw.Version, &v.Version}, {"layer", raw.Layer, &v.Layer}} {
		if f.p == nil || *f.p == "" {
			add(1, fmt.Sprintf("add %q: the pack's %s", f.key, f.key), "%q is missing", f.key)
			continue
		}
		*f.out = *f.p
	}
	if len(raw.CloudTypes) == 0 {
		add(v.Line("cloudTypes"), `add "cloudTypes": ["all"] or the cloud types it runs on`, `"cloudTypes" is missing or empty`)
	}
	a := raw.Annotations
	v.Description, v.DocsURL = a["description"], a["docsURL"]
	v.Deprecated = a["system_state"] == "deprecated"
	v.Disabled = a["disabled"] == "true"
	for key, list := range map[string][]string{"charts": raw.Charts, "kubeManifests": raw.KubeManifests} {
		for i, p := range list {
			at := v.Line(fmt.Sprintf("%s[%d]", key, i))
			if !filepath.IsLocal(filepath.FromSlash(p)) {
				add(at, "name a file inside the pack's folder", "%s %q leaves the pack's folder", key, p)
				continue
			}
			if fi, err := files.Lstat(filepath.Join(dir, filepath.FromSlash(p))); err != nil || !fi.Mode().IsRegular() && !fi.IsDir() {
				add(at, "add it to the pack's folder or remove it from the list", "%s %q is not in the pack's folder", key, p)
			}
		}
	}
	for i, d := range raw.Constraints.Dependencies {
		v.Dependencies = append(v.Dependencies, Dependency{PackName: d.PackName, Layer: d.Layer,
			MinVersion: strings.TrimSpace(d.MinVersion), MaxVersion: strings.TrimSpace(d.MaxVersion), Type: d.Type,
			Path: fmt.Sprintf("constraints.dependencies[%d]", i)})
	}
	if fi, err := files.Lstat(filepath.Join(dir, "README.md")); err == nil && fi.Mode().IsRegular() {
		v.Readme = filepath.Join(dir, "README.md")
	}
	ps = append(ps, v.readValues(files)...)
	if v.Name == "" || v.Version == "" || v.Layer == "" {
		return nil, ps
	}
	// With its other problems the version is still returned, so that the
	// catalog reports its own about it at the same time.
	return v, ps
}

// yamlLine finds the line yaml.v3 puts in its messages.
var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// readValues takes the images and charts of values.yaml, when there is one.
func (v *Version) readValues(files Files) []Problem {
	file := filepath.Join(v.Dir, "values.yaml")
	if fi, err := files.Lstat(file); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	data, err := readLimited(file, files)
	if err != nil {
		return []Problem{{File: file, Msg: fmt.Sprintf("cannot read: %v", err), Fix: "make it readable and smaller than 4 MiB"}}
	}
	var raw struct {
		Pack struct {
			Content struct {
				Images []struct {
					Image string `yaml:"image"`
				} `yaml:"images"`
				Charts []Chart `yaml:"charts"`
			} `yaml:"content"`
		} `yaml:"pack"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return []Problem{{File: file, Line: line, Msg: err.Error(), Fix: "fix the YAML; pack.content.images[] holds {image: …}, pack.content.charts[] {repo, name, version}"}}
	}
	for _, img := range raw.Pack.Content.Images {
		if img.Image != "" && !slices.Contains(v.Images, img.Image) {
			v.Images = append(v.Images, img.Image)
		}
	}
	v.Charts = raw.Pack.Content.Charts
	return nil
}

func readLimited(file string, files Files) ([]byte, error) {
	f, err := files.Open(file)
	if err != nil {
		return nil, unwrap(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", MaxFileSize>>20)
	}
	return data, nil
}

// jsonLines maps the path of every key and array element of a JSON
// document ("a.b[2].c") to its line. The document has already been
// decoded, so a token error only ends the walk.
func jsonLines(data []byte) map[string]int {
	out := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(path string, depth int) bool
	walk = func(path string, depth int) bool {
		tok, err := dec.Token()
		if err != nil || depth > 64 {
			return false
		}
		if path != "" {
			if _, ok := out[path]; !ok {
				out[path] = lineOf(data, dec.InputOffset())
			}
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return false
				}
				k, _ := key.(string)
				p := k
				if path != "" {
					p = path + "." + k
				}
				out[p] = lineOf(data, dec.InputOffset())
				if !walk(p, depth+1) {
					return false
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if !walk(fmt.Sprintf("%s[%d]", path, i), depth+1) {
					return false
				}
			}
			_, err = dec.Token()
		}
		return err == nil
	}
	walk("", 0)
	return out
}

func lineOf(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
