// Package oci pushes a verified site's artifacts into an OCI registry and
// verifies what a registry holds against the site's signed manifest.
//
// Each artifact becomes an OCI artifact whose one layer is the file itself
// (the digest the signed manifest gives it), each signature a referrer of
// its artifact, and the signed manifest one more artifact tagged last.
package oci

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/packstudio/packstudio/internal/tree"
)

// Scheme introduces a registry location: oci://HOST[:PORT]/PREFIX.
const Scheme = "oci://"

// Media and artifact types packstudio writes. A pack or release artifact
// has one layer, the file as published; its signature's manifest has one
// layer, the .sig.bin, and the artifact as subject.
const (
	ArtifactType          = "application/vnd.packstudio.pack.v1"
	ReleaseArtifactType   = "application/vnd.packstudio.release.v1"
	SignatureArtifactType = "application/vnd.packstudio.signature.v1"
	ManifestArtifactType  = "application/vnd.packstudio.manifest.v1"

	ZstdLayer      = "application/zstd"
	FileLayer      = "application/octet-stream"
	SignatureLayer = "application/vnd.packstudio.signature.v1+der"
	ManifestLayer  = "application/vnd.packstudio.manifest.v1+json"
	// PushConfig is the packstudio-manifest artifact's config: which
	// artifacts were pushed (a filtered push holds only some).
	PushConfig = "application/vnd.packstudio.push.v1+json"

	HelmConfig = "application/vnd.cncf.helm.config.v1+json"
	HelmLayer  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
)

// Annotations beyond the OCI standard ones.
const (
	annotationPath    = "dev.packstudio.path"     // the object's path in the site
	annotationBaseURL = "dev.packstudio.base-url" // the site's base_url
	annotationVersion = "dev.packstudio.manifest-version"
)

// ManifestRepo is the repository (under the prefix) of the signed
// manifest; LatestTag names the newest pushed.
const (
	ManifestRepo = "packstudio-manifest"
	LatestTag    = "latest"
)

// Target is a parsed oci://HOST[:PORT]/PREFIX.
type Target struct {
	Host   string // registry host[:port]
	Prefix string // repository prefix, may be empty
}

func (t Target) String() string { return Scheme + path.Join(t.Host, t.Prefix) }

// repoPattern is the OCI distribution spec's repository name grammar.
var repoPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)

// tagPattern is the OCI distribution spec's tag grammar.
var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// ParseTarget reads oci://HOST[:PORT]/PREFIX.
func ParseTarget(loc string) (Target, error) {
	rest, ok := strings.CutPrefix(loc, Scheme)
	if !ok {
		return Target{}, &tree.TargetError{Target: loc, Reason: "not a registry location; write oci://HOST[:PORT]/PREFIX"}
	}
	host, prefix, _ := strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if host == "" || strings.ContainsAny(host, "@?#\\ ") {
		return Target{}, &tree.TargetError{Target: loc, Reason: "no registry host; write oci://HOST[:PORT]/PREFIX"}
	}
	if prefix != "" && !repoPattern.MatchString(prefix) {
		return Target{}, &tree.TargetError{Target: loc, Reason: fmt.Sprintf("prefix %q is not a repository path: lower-case letters, digits and single . _ - between them, / between parts", prefix)}
	}
	return Target{Host: host, Prefix: prefix}, nil
}

// IsTarget reports whether loc names a registry.
func IsTarget(loc string) bool { return strings.HasPrefix(loc, Scheme) }

// repo is a repository's name under the target's prefix.
func (t Target) repo(name string) string {
	if t.Prefix == "" {
		return name
	}
	return t.Prefix + "/" + name
}

// Ref is where one artifact of the site lives in the registry.
type Ref struct {
	Path    string // the artifact's path in the site
	Repo    string // repository under the prefix: packs/<name>, releases/<product>
	Tag     string
	Kind    string // "pack", or a release artifact's kind: bundle, iso, helm
	Version string // the pack's or release's version
}

func (r Ref) String() string { return r.Repo + ":" + r.Tag }

// RefOf places an artifact path of the site: artifacts/packs/<name>/<name>-<version>.zst
// is packs/<name>:<version>; artifacts/releases/<product>/<version>/<file>
// is releases/<product>:<version>-<kind>. ok is false for a path that is
// neither (a signature, a page).
func RefOf(p string) (Ref, bool, error) {
	parts := strings.Split(p, "/")
	var r Ref
	switch {
	case len(parts) == 4 && parts[0] == "artifacts" && parts[1] == "packs" && strings.HasSuffix(parts[3], ".zst"):
		name := parts[2]
		version, ok := strings.CutPrefix(strings.TrimSuffix(parts[3], ".zst"), name+"-")
		if !ok {
			return r, false, nil
		}
		r = Ref{Path: p, Repo: "packs/" + name, Tag: tagOf(version), Kind: "pack", Version: version}
	case len(parts) == 5 && parts[0] == "artifacts" && parts[1] == "releases" && !strings.HasSuffix(p, tree.SigSuffix):
		product, version, file := parts[2], parts[3], parts[4]
		kind := releaseKind(product, version, file)
		if kind == "" {
			return r, false, nil
		}
		r = Ref{Path: p, Repo: "releases/" + product, Tag: tagOf(version + "-" + kind), Kind: kind, Version: version}
	default:
		return r, false, nil
	}
	if !repoPattern.MatchString(r.Repo) || !tagPattern.MatchString(r.Tag) {
		return r, false, fmt.Errorf("%s: cannot be named in a registry as %s (repository names are lower-case letters and digits with single . _ - between them; tags at most 128 of letters, digits, . _ -); rename the pack or version", p, r)
	}
	return r, true, nil
}

// releaseKind is the kind of a release artifact, from the names the build
// gives them (generator/artifacts.go).
func releaseKind(product, version, file string) string {
	base := product + "-" + version
	switch file {
	case base + ".tar.zst":
		return "bundle"
	case product + "-appliance-" + version + ".iso":
		return "iso"
	case base + ".tgz":
		return "helm"
	}
	return ""
}

// tagOf turns a version into a tag: "+" (semver build metadata) is not
// allowed in tags, and Helm writes it as "_".
func tagOf(version string) string { return strings.ReplaceAll(version, "+", "_") }
