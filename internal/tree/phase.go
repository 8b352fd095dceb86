package tree

import "strings"

// Phase orders the objects of a tree as they are written to a bucket or a
// mirror. Each phase starts only when the one before has fully succeeded,
// so that a reader never meets a page or list pointing at an object that
// is not there yet:
//
//  1. artifacts and signatures: nothing links to new ones yet;
//  2. objects new to the copy (pages, lists, JSON): nothing links to them
//     until phase 3, so links between new pages are harmless;
//  3. objects that changed: now they may link to anything of phases 1–2;
//  4. the manifest's signature, then the manifest.
//
// Objects the new manifest drops are deleted only after that.
type Phase int

const (
	PhaseArtifacts Phase = 1 + iota
	PhaseNew
	PhaseChanged
	PhaseManifest
)

func (p Phase) String() string {
	switch p {
	case PhaseArtifacts:
		return "artifacts"
	case PhaseNew:
		return "new objects"
	case PhaseChanged:
		return "changed objects"
	case PhaseManifest:
		return "manifest"
	}
	return "unknown phase"
}

// PhaseOf is the phase an object that is not the manifest is written in:
// exists says whether the copy already holds it (with other bytes).
func PhaseOf(path string, exists bool) Phase {
	switch {
	case strings.HasPrefix(path, ArtifactsDir):
		return PhaseArtifacts
	case !exists:
		return PhaseNew
	}
	return PhaseChanged
}

// Progress counts the work of moving a tree's objects so far.
type Progress struct {
	Phase             string
	Done, Total       int
	Bytes, TotalBytes int64
}
