package mirror

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
)

// A volume set is what one run of WriteVolumes wrote. Unpack takes a set
// only whole: every volume once, all of one run, so that what it restores
// is what the set holds and nothing silently less.

// volumeSet is a complete, consistent set of volumes, checked from every
// volume's manifest, index and tar headers before anything is unpacked.
type volumeSet struct {
	manifest *tree.Manifest
	raw, sig []byte
	digest   string      // the set's digest, as every index names it
	base     *VolumeBase // a delta's base; nil for a full set
	volumes  []string    // the files, in volume order
}

// setMember is one volume as read for checkSet.
type setMember struct {
	path string
	head *volumeHead
}

// scanVolumes reads every volume's manifest (checked with key), index and
// tar headers, without reading the objects' bytes, and accepts them only
// as one whole set (checkSet).
func scanVolumes(paths []string, key *sign.Verifier, now time.Time, allowExpired bool) (*volumeSet, error) {
	members := make([]setMember, 0, len(paths))
	for _, p := range paths {
		m := setMember{path: p}
		err := readVolume(p, key, now, allowExpired,
			func(h *volumeHead) error { m.head = h; return nil },
			func(VolumeEntry, io.Reader) error { return nil }) // the tar reader skips what is not read
		if err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return checkSet(members)
}

// checkSet accepts the members only as one whole set: every index of the
// format this reader knows, one manifest (by SHA-256, not by version), one
// run (the same set digest), each volume once, none missing, the indexes
// adding up to the set digest, and every object the set holds there whole
// or in parts that make it up exactly.
func checkSet(members []setMember) (*volumeSet, error) {
	if len(members) == 0 {
		return nil, errors.New("no volumes given")
	}
	for _, m := range members {
		if err := checkMember(m); err != nil {
			return nil, err
		}
	}
	first := members[0]
	sha := first.head.index.ManifestSHA256
	for _, m := range members[1:] {
		if m.head.index.ManifestSHA256 != sha {
			return nil, fmt.Errorf("%s belongs to %s, but %s to %s: volumes of different mirrors; unpack the volumes of one set",
				m.path, manifestName(m.head), first.path, manifestName(first.head))
		}
	}
	for _, m := range members[1:] {
		if m.head.index.Format != first.head.index.Format || !sameBase(m.head.index.Base, first.head.index.Base) {
			return nil, fmt.Errorf("%s is %s, but %s %s: volumes of two runs of mirror --volumes; unpack the volumes of one run",
				m.path, setKind(m.head.index.Base), first.path, setKind(first.head.index.Base))
		}
		if m.head.index.Set != first.head.index.Set || m.head.index.Volumes != first.head.index.Volumes {
			return nil, fmt.Errorf("%s is volume %d of %d of set %s, but %s volume %d of %d of set %s: volumes of two runs of mirror --volumes, both of %s; unpack the volumes of one run",
				m.path, m.head.index.Volume, m.head.index.Volumes, short(m.head.index.Set),
				first.path, first.head.index.Volume, first.head.index.Volumes, short(first.head.index.Set), manifestName(first.head))
		}
	}
	n := first.head.index.Volumes
	byNumber := map[int]setMember{}
	for _, m := range members {
		v := m.head.index.Volume
		if v < 1 || v > n {
			return nil, fmt.Errorf("%s: its volume.json says volume %d of %d; copy it again from the media, or re-create the set", m.path, v, n)
		}
		if d, ok := byNumber[v]; ok {
			if d.path == m.path {
				return nil, fmt.Errorf("%s is given twice (volume %d of %d): give each volume once", m.path, v, n)
			}
			return nil, fmt.Errorf("%s and %s are both volume %d of %d: give each volume once", d.path, m.path, v, n)
		}
		byNumber[v] = m
	}
	if missing := n - len(byNumber); missing > 0 {
		verb := "are"
		if missing == 1 {
			verb = "is"
		}
		return nil, fmt.Errorf("%s of %d %s missing (set %s, %s): give every volume of the set; nothing was unpacked",
			absentVolumes(byNumber, n), n, verb, short(first.head.index.Set), manifestName(first.head))
	}
	set := &volumeSet{manifest: first.head.manifest, raw: first.head.raw, sig: first.head.sig, digest: first.head.index.Set, base: first.head.index.Base}
	entries := make([][]VolumeEntry, n)
	for v := 1; v <= n; v++ {
		set.volumes = append(set.volumes, byNumber[v].path)
		entries[v-1] = byNumber[v].head.index.Entries
	}
	// The format and base are the first volume's: the digest covers them,
	// so a volume that claims others does not add up.
	if setDigest(setContent{Format: first.head.index.Format, ManifestSHA256: sha, Base: set.base, Volumes: entries}) != set.digest {
		return nil, fmt.Errorf("the indexes of these volumes do not add up to their set digest %s: a volume was altered, or comes from another run; copy the set again from the media, or re-create it", short(set.digest))
	}
	if err := checkCoverage(set.manifest, entries); err != nil {
		return nil, fmt.Errorf("volume set %s: %w; re-create the set", short(set.digest), err)
	}
	return set, nil
}

// checkMember checks what one volume says of itself: an index this reader
// knows, naming the manifest the volume carries.
func checkMember(m setMember) error {
	idx := &m.head.index
	switch {
	case idx.Format == 0 || idx.Set == "":
		return fmt.Errorf("%s was written by an older packstudio, without a set digest to prove the set whole; re-create the set with this one (packstudio mirror … --volumes DIR)", m.path)
	case idx.Format > deltaFormat:
		return fmt.Errorf("%s has a volume index of format %d, newer than this packstudio reads (%d); unpack it with the packstudio that wrote it, or a newer one", m.path, idx.Format, deltaFormat)
	case idx.Format != volumeFormat && idx.Format != deltaFormat:
		return fmt.Errorf("%s has a volume index of unknown format %d", m.path, idx.Format)
	case idx.Format == deltaFormat && idx.Base == nil, idx.Format == volumeFormat && idx.Base != nil:
		return fmt.Errorf("%s: its volume.json is of format %d, which does not go with its base (%v): the volume was altered; copy it again from the media, or re-create the set", m.path, idx.Format, idx.Base)
	case idx.Base != nil && (!digestOrEmpty(idx.Base.ManifestSHA256) || idx.Base.ManifestSHA256 == ""):
		return fmt.Errorf("%s: its volume.json names a base that is not a SHA-256; copy it again from the media, or re-create the set", m.path)
	case idx.ManifestSHA256 != tree.Digest(m.head.raw):
		return fmt.Errorf("%s: its volume.json names manifest sha256 %s, but the volume carries %s: the volume was altered; copy it again from the media, or re-create the set",
			m.path, short(idx.ManifestSHA256), manifestName(m.head))
	}
	return nil
}

// checkCoverage checks that the entries of a set hold each object of the
// manifest at most once: whole, at its size, or in parts that follow each
// other from its first byte to its last.
func checkCoverage(m *tree.Manifest, vols [][]VolumeEntry) error {
	objects := m.Index()
	byPath := map[string][]VolumeEntry{}
	for _, es := range vols {
		for _, e := range es {
			if _, ok := objects[e.Path]; !ok {
				return fmt.Errorf("%s is not in the manifest", e.Path)
			}
			byPath[e.Path] = append(byPath[e.Path], e)
		}
	}
	for p, es := range byPath {
		obj := objects[p]
		if len(es) == 1 && es[0].Whole {
			if es[0].Size != obj.Size || es[0].Offset != 0 {
				return fmt.Errorf("%s is listed with %d bytes, the manifest says %d", p, es[0].Size, obj.Size)
			}
			continue
		}
		slices.SortFunc(es, func(a, b VolumeEntry) int { return cmp.Compare(a.Offset, b.Offset) })
		var next int64
		for _, e := range es {
			if e.Whole || e.Offset != next || e.Size <= 0 || e.Size > obj.Size-next {
				return fmt.Errorf("the parts of %s do not make up its %d bytes", p, obj.Size)
			}
			next += e.Size
		}
		if next != obj.Size {
			return fmt.Errorf("the parts of %s hold %d of its %d bytes", p, next, obj.Size)
		}
	}
	return nil
}

// sameBase reports whether two indexes name the same base (or none).
func sameBase(a, b *VolumeBase) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// setKind says what kind of set a volume belongs to: a full one or a delta
// of which base.
func setKind(base *VolumeBase) string {
	if base == nil {
		return "of a full set"
	}
	return "of a delta of " + base.String()
}

// absentVolumes names the numbers in 1..n that present lacks, as ranges
// ("volumes 2, 4-6"), without walking every number a hostile index may
// claim.
func absentVolumes(present map[int]setMember, n int) string {
	have := make([]int, 0, len(present)+1)
	for v := range present {
		have = append(have, v)
	}
	slices.Sort(have)
	have = append(have, n+1)
	var ranges []string
	count, next := 0, 1
	for _, v := range have {
		switch {
		case v == next+1:
			ranges = append(ranges, strconv.Itoa(next))
		case v > next+1:
			ranges = append(ranges, fmt.Sprintf("%d-%d", next, v-1))
		}
		count += v - next
		next = v + 1
	}
	if count == 1 {
		return "volume " + ranges[0]
	}
	return "volumes " + strings.Join(ranges, ", ")
}

// manifestName says which manifest a volume carries: its version and the
// start of its SHA-256, which tells apart two manifests of one version.
func manifestName(h *volumeHead) string {
	return fmt.Sprintf("manifest version %d (sha256 %s)", h.manifest.Version, short(tree.Digest(h.raw)))
}

// short is the first 12 hex digits of a digest, enough to tell sets and
// manifests apart in a message.
func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12] + "…"
	}
	return digest
}
