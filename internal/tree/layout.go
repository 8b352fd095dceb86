// Package tree is the contract of a built tree, shared by the build that
// writes it and by everything that reads one (publish, mirror, verify,
// serve): manifest.json, the signed index of every object with its path,
// size and SHA-256; the names and paths of the layout; the readers of a
// tree in a directory, over HTTP or in a bucket; and Fetch, the one place
// that reads a manifest and checks its signature, form and expiry.
package tree

import "strings"

// Names of the manifest and its detached signature at the root of a tree.
const (
	ManifestName    = "manifest.json"
	ManifestSigName = "manifest.json.sig.bin"
)

// DefaultPublicKeyName is the tree's public key file when the site does
// not name another (public_key_name).
const DefaultPublicKeyName = "public_key.pem"

// TmpDir holds files being written inside a tree or a local bucket, so
// that renames stay on one file system; a dot-folder, so no manifest
// lists it.
const TmpDir = ".packstudio-tmp"

// ArtifactsDir holds every artifact and its signature; artifacts' paths
// never change, so they are written first and cached for ever.
const ArtifactsDir = "artifacts/"

// IsArtifact reports whether an object is an artifact, which must be
// signed: a pack, ISO or chart under artifacts/.
func IsArtifact(p string) bool {
	return strings.HasPrefix(p, ArtifactsDir) &&
		(strings.HasSuffix(p, ".zst") || strings.HasSuffix(p, ".iso") || strings.HasSuffix(p, ".tgz"))
}

// SigSuffix ends every detached signature's name.
const SigSuffix = ".sig.bin"

// SigPath names the detached signature of an artifact: a final ".zst" is
// dropped, then ".sig.bin" added (cni-calico-3.29.2.zst → cni-calico-3.29.2.sig.bin,
// palette-4.7.3.tar.zst → palette-4.7.3.tar.sig.bin, x.iso → x.iso.sig.bin).
func SigPath(artifact string) string {
	return strings.TrimSuffix(artifact, ".zst") + SigSuffix
}

// Names of the lists every browse folder and release holds (CONTRACT §6).
const (
	URLList     = "urls.txt"
	SumsList    = "SHA256SUMS"
	BrowseIndex = "index.json"
)

// Ignored reports whether a local path is bookkeeping of packstudio or a
// mirror rather than part of the tree: dot-files and dot-folders.
func Ignored(p string) bool { return HasDotSegment(p) }
