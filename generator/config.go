package generator

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/packstudio/packstudio/catalog"
	"github.com/packstudio/packstudio/internal/keyguard"
	"github.com/packstudio/packstudio/internal/tree"
)

// Config is a loaded site.toml. Paths are resolved against the directory of
// site.toml (absolute paths stay as they are).
type Config struct {
	File          string
	Title         string
	BaseURL       string // absolute, ends in "/"
	Catalog       string
	Content       string // "" when the site has no content pages
	Theme         string // "" for the embedded theme
	Output        string
	Cache         string
	SigningKey    string
	PublicKeyName string
	ManifestTTL   time.Duration
	Publish       PublishConfig
	// SourcesWithin is [build] sources_within: when set, every source,
	// readme and content page must be inside it once links are resolved.
	SourcesWithin string
}

// PublishConfig is the [publish] table.
type PublishConfig struct {
	Target   string
	Endpoint string
	Region   string
	Jobs     int
}

type rawConfig struct {
	Title         string `toml:"title"`
	BaseURL       string `toml:"base_url"`
	Catalog       string `toml:"catalog"`
	Content       string `toml:"content"`
	Theme         string `toml:"theme"`
	Output        string `toml:"output"`
	Cache         string `toml:"cache"`
	PublicKeyName string `toml:"public_key_name"`
	ManifestTTL   string `toml:"manifest_ttl"`
	Signing       struct {
		Key string `toml:"key"`
		// Also accepted here, since the contract lists them after [signing].
		PublicKeyName string `toml:"public_key_name"`
		ManifestTTL   string `toml:"manifest_ttl"`
	} `toml:"signing"`
	Publish struct {
		Target   string `toml:"target"`
		Endpoint string `toml:"endpoint"`
		Region   string `toml:"region"`
		Jobs     int    `toml:"jobs"`
	} `toml:"publish"`
	Build struct {
		SourcesWithin string `toml:"sources_within"`
	} `toml:"build"`
}

// Overrides are command-line flags that take precedence over site.toml.
type Overrides struct {
	Output  string
	BaseURL string
}

// DefaultManifestTTL is how long a manifest is valid unless site.toml says.
const DefaultManifestTTL = 2160 * time.Hour

// LoadConfig reads and checks site.toml. Errors are catalog.Problems naming
// the file and line.
func LoadConfig(file string, o Overrides) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, catalog.Problems{{File: file, Msg: fmt.Sprintf("cannot read the site config: %v", err),
			Fix: "run from the site's directory or pass --config path/to/site.toml"}}
	}
	var raw rawConfig
	lines, ps, ok := catalog.DecodeTOML(file, data, &raw)
	if !ok || len(ps) > 0 {
		return nil, ps
	}
	l := &configLoader{file: file, dir: filepath.Dir(file), lines: lines}
	c := l.paths(&raw, o)
	// Each check adds its problems, so that one run reports them all.
	c.BaseURL = l.baseURL(raw.BaseURL, o.BaseURL)
	c.PublicKeyName = l.publicKeyName(&raw)
	c.ManifestTTL = l.manifestTTL(&raw)
	if c.Publish.Jobs < 0 {
		l.add("publish.jobs", "use a positive number or leave it out", "publish.jobs is negative")
	}
	l.checkOutput(c)
	c.SourcesWithin = l.sourcesWithin(raw.Build.SourcesWithin, c)
	if len(l.ps) > 0 {
		return nil, l.ps
	}
	return c, nil
}

// configLoader collects the problems of one site.toml, each at the line of
// its key.
type configLoader struct {
	file, dir string // site.toml and its directory, which paths are relative to
	lines     catalog.Lines
	ps        catalog.Problems
}

func (l *configLoader) add(key, fix, format string, args ...any) {
	l.ps = append(l.ps, catalog.Problem{File: l.file, Line: l.lines.Line(key), Msg: fmt.Sprintf(format, args...), Fix: fix})
}

// rel resolves p (or def when p is empty) against site.toml's directory;
// absolute paths and "" stay as they are.
func (l *configLoader) rel(p, def string) string {
	if p == "" {
		p = def
	}
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(l.dir, p)
}

// paths fills in the title, the paths with their defaults and the
// [publish] table; the output directory given on the command line wins.
func (l *configLoader) paths(raw *rawConfig, o Overrides) *Config {
	c := &Config{
		File:       l.file,
		Title:      raw.Title,
		Catalog:    l.rel(raw.Catalog, "catalog"),
		Content:    l.rel(raw.Content, ""),
		Theme:      l.rel(raw.Theme, ""),
		Output:     l.rel(raw.Output, "public"),
		Cache:      l.rel(raw.Cache, ".packstudio-cache"),
		SigningKey: l.rel(raw.Signing.Key, ""),
		Publish:    PublishConfig(raw.Publish),
	}
	// A file:// target is a path like the others: relative to site.toml.
	if t, ok := strings.CutPrefix(c.Publish.Target, "file://"); ok {
		c.Publish.Target = "file://" + l.rel(t, "")
	}
	if o.Output != "" {
		c.Output = o.Output
	}
	if c.Title == "" {
		c.Title = "Packs"
	}
	// A key URL (a KMS, a token) is not a path.
	if strings.Contains(raw.Signing.Key, "://") {
		c.SigningKey = raw.Signing.Key
	}
	return c
}

// baseURL checks the base URL (the command line's, else site.toml's) and
// returns it with its trailing slash.
func (l *configLoader) baseURL(configured, override string) string {
	base := configured
	if override != "" {
		base = override
	}
	b, err := tree.CheckBaseURL(base)
	if err != nil {
		l.add("base_url", `set base_url = "https://packs.example.com/" (absolute; used in URL lists)`,
			"base_url %q: %v", base, err)
		return ""
	}
	return b
}

// publicKeyName returns the name of the public key at the root of the
// site, from the top level or [signing], and checks that it is a plain
// file name.
func (l *configLoader) publicKeyName(raw *rawConfig) string {
	keyName, keyNameAt := raw.PublicKeyName, "public_key_name"
	if raw.Signing.PublicKeyName != "" {
		keyName, keyNameAt = raw.Signing.PublicKeyName, "signing.public_key_name"
	}
	if keyName == "" {
		keyName = tree.DefaultPublicKeyName
	}
	if !safeFileName.MatchString(keyName) {
		l.add(keyNameAt, `use a plain file name of letters, digits, '.', '_' and '-', like "public_key.pem"`,
			"public_key_name %q must be a file name at the root of the site, not starting with '.'", keyName)
	} else if use, ok := tree.Reserved[keyName]; ok {
		l.add(keyNameAt, `use another name, like "public_key.pem"`,
			"public_key_name %q is a name the site uses itself: %s", keyName, use)
	}
	return keyName
}

// sourcesWithin checks [build] sources_within, a directory, and that the
// content directory is inside it; it returns the path, or "" when unset.
func (l *configLoader) sourcesWithin(p string, c *Config) string {
	if p == "" {
		return ""
	}
	dir := l.rel(p, "")
	real, err := catalog.RealPath(dir)
	if fi, serr := os.Stat(dir); err != nil || serr != nil || !fi.IsDir() {
		l.add("build.sources_within", "point it at the directory that holds the catalog's sources, readmes and content pages",
			"sources_within %q is not a directory", p)
		return dir
	}
	if c.Content == "" {
		return dir
	}
	if realContent, err := catalog.RealPath(c.Content); err == nil && !catalog.Within(realContent, real) {
		l.add("content", "move the content directory into "+p+", or set [build] sources_within to a directory that holds it",
			"content directory %q is outside sources_within %s", c.Content, p)
	}
	return dir
}

// manifestTTL returns how long a manifest is valid, from the top level or
// [signing], else DefaultManifestTTL.
func (l *configLoader) manifestTTL(raw *rawConfig) time.Duration {
	ttl, ttlAt := raw.ManifestTTL, "manifest_ttl"
	if raw.Signing.ManifestTTL != "" {
		ttl, ttlAt = raw.Signing.ManifestTTL, "signing.manifest_ttl"
	}
	if ttl == "" {
		return DefaultManifestTTL
	}
	d, err := ParseTTL(ttl)
	if err != nil {
		l.add(ttlAt, `write a duration like "2160h" or "90d"`, "manifest_ttl %q: %v", ttl, err)
	}
	return d
}

// checkOutput refuses an output directory that holds the site's inputs or
// its private key: the output is replaced file by file, stale files are
// removed from it, and everything in it is published.
func (l *configLoader) checkOutput(c *Config) {
	if abs(c.Output) == abs(l.dir) || within(abs(c.Catalog), abs(c.Output)) || (c.Content != "" && within(abs(c.Content), abs(c.Output))) {
		l.add("output", `use a directory of its own, like "public"`, "output %q holds the site's own files", c.Output)
	}
	if c.SigningKey != "" && !strings.Contains(c.SigningKey, "://") && keyguard.Inside(c.SigningKey, c.Output) {
		l.add("signing.key", "keep the private key outside the output directory, e.g. in keys/ next to site.toml",
			"the private signing key %s is inside the output directory %s, which is published", c.SigningKey, c.Output)
	}
}

// safeFileName is what a name may hold that scripts and URL lists use as is.
var safeFileName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)

// ParseTTL parses a Go duration, also accepting whole days ("90d").
func ParseTTL(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		// More days than a Duration holds would wrap to a past expiry.
		if err != nil || n <= 0 || int64(n) > math.MaxInt64/int64(24*time.Hour) {
			return 0, fmt.Errorf("not a number of days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("not a duration")
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool { return catalog.Within(p, dir) }
