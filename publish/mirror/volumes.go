package mirror

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/bytesize"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
)

// A volume is a tar file for removable media. Each holds the signed
// manifest, so it verifies on its own, an index (volume.json), and whole
// objects at their paths. Only an object larger than a volume is split,
// into parts named <path>.part-NNN spread over consecutive volumes.

// VolumeIndex is volume.json. It is not signed: parts are checked when
// unpacking reassembles them, whole objects against the manifest, and the
// set as a whole against Set (checkSet).
type VolumeIndex struct {
	// Format is the index's version: a reader refuses one it does not know
	// rather than guess. Volumes made before it (format 0) carry no Set.
	Format         int    `json:"format"`
	Volume         int    `json:"volume"`
	Volumes        int    `json:"volumes"`
	ManifestSHA256 string `json:"manifest_sha256"`
	// Set is the digest of the whole set (setDigest): the same in every
	// volume of one run of WriteVolumes, different for any other run.
	Set string `json:"set"`
	// Base makes the set a delta (format deltaFormat): it holds only the
	// objects new or changed since the base manifest, and unpacks only
	// onto a mirror that holds exactly that manifest.
	Base    *VolumeBase   `json:"base,omitempty"`
	Entries []VolumeEntry `json:"entries"`
}

// VolumeBase names the manifest a delta set was made against.
type VolumeBase struct {
	Version        int64  `json:"version"`
	ManifestSHA256 string `json:"manifest_sha256"`
}

// String names the base like manifestName names a volume's manifest.
func (b *VolumeBase) String() string {
	return fmt.Sprintf("manifest version %d (sha256 %s)", b.Version, short(b.ManifestSHA256))
}

// volumeFormat is the index format of a full set; deltaFormat that of a
// delta, so that a packstudio that knows only full sets refuses a delta
// rather than unpack it as a partial mirror.
const (
	volumeFormat = 1
	deltaFormat  = 2
)

// setDigest is the SHA-256 of what makes a volume set: the manifest it
// carries and every volume's entries, in volume order. It is the JSON of
// setContent, so a later kind of set (a delta's base manifest) adds a
// field with omitempty and leaves the digests of full sets as they are.
func setDigest(c setContent) string {
	data, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain strings and numbers always encode
	}
	return tree.Digest(data)
}

// setContent is what setDigest covers.
type setContent struct {
	Format         int             `json:"format"`
	ManifestSHA256 string          `json:"manifest_sha256"`
	Base           *VolumeBase     `json:"base,omitempty"`
	Volumes        [][]VolumeEntry `json:"volumes"`
}

// VolumeEntry is one object, or part of one, in a volume.
type VolumeEntry struct {
	Path   string `json:"path"`   // the object's path in the tree
	Name   string `json:"name"`   // the tar entry's name
	Offset int64  `json:"offset"` // where this part starts in the object
	Size   int64  `json:"size"`
	Whole  bool   `json:"whole"`
}

const volumeIndexName = "volume.json"

// tarOverhead bounds what tar adds around an entry: a header (two with a
// PAX record for long names) and padding to 512 bytes.
func tarOverhead(name string) int64 { return 3*512 + int64(len(name)) }

// planVolumes assigns the objects, in path order, to volumes of at most
// size bytes, each starting with the manifest, its signature and index.
func planVolumes(objs []tree.Object, size, fixed int64) ([][]VolumeEntry, []string, error) {
	// Room for the index itself, roughly: a line per entry.
	capacity := size - fixed - 1024 - 2*512 // end-of-archive blocks
	if capacity < 64<<10 {
		return nil, nil, fmt.Errorf("volume size %d is too small for the manifest (%d bytes)", size, fixed)
	}
	var (
		vols  [][]VolumeEntry
		cur   []VolumeEntry
		used  int64
		notes []string
	)
	flush := func() {
		if len(cur) > 0 {
			vols = append(vols, cur)
		}
		cur, used = nil, 0
	}
	for _, o := range objs {
		need := o.Size + tarOverhead(o.Path) + int64(len(o.Path)) + 96
		if need <= capacity {
			if used+need > capacity {
				flush()
			}
			cur = append(cur, VolumeEntry{Path: o.Path, Name: o.Path, Size: o.Size, Whole: true})
			used += need
			continue
		}
		// Larger than a volume: split it, starting in a fresh volume.
		flush()
		var off int64
		part := 1
		for off < o.Size {
			name := fmt.Sprintf("%s.part-%03d", o.Path, part)
			room := capacity - tarOverhead(name) - int64(len(name)) - 96
			n := min(room, o.Size-off)
			cur = append(cur, VolumeEntry{Path: o.Path, Name: name, Offset: off, Size: n})
			used += n + tarOverhead(name)
			off += n
			part++
			if off < o.Size {
				flush()
			}
		}
		notes = append(notes, fmt.Sprintf("%s (%s) is larger than a volume: split into %d parts", o.Path, bytesize.Format(o.Size), part-1))
	}
	flush()
	return vols, notes, nil
}

// WriteVolumes writes the verified tree in dir as tar volumes vol-001.tar…
// in outDir, each at most size bytes, and returns their paths and notes
// (objects split across volumes). The volumes of an earlier run in outDir
// are replaced, those beyond the new set's last removed, so that
// vol-*.tar is one set; outDir's other files are left alone, and a file
// named like a volume that is not one is refused before anything is
// written.
func WriteVolumes(dir, outDir string, size int64) ([]string, []string, error) {
	w, err := writeSet(dir, outDir, size, nil)
	return w.Paths, w.Notes, err
}

// WrittenSet is what one run of WriteVolumes or WriteDelta wrote.
type WrittenSet struct {
	Paths []string // the volumes, in order
	Notes []string // objects split across volumes
	// Manifest is the manifest the set carries, ManifestSHA256 its digest.
	Manifest       *tree.Manifest
	ManifestSHA256 string
	Base           *VolumeBase // the base of a delta; nil for a full set
	// Objects and Bytes are what the set holds; FullObjects and FullBytes
	// what a full set of the same tree would hold.
	Objects, FullObjects int
	Bytes, FullBytes     int64
	raw, sig             []byte // the manifest and signature the set carries
}

// writeSet writes the tree in dir as one set of volumes in outDir: every
// object dir holds, or with a base only those new or changed since it.
func writeSet(dir, outDir string, size int64, base *Base) (*WrittenSet, error) {
	w := &WrittenSet{}
	raw, err := os.ReadFile(filepath.Join(dir, tree.ManifestName))
	if err != nil {
		return w, err
	}
	sig, err := os.ReadFile(filepath.Join(dir, tree.ManifestSigName))
	if err != nil {
		return w, err
	}
	m, err := tree.Parse(raw)
	if err != nil {
		return w, err
	}
	w.Manifest, w.ManifestSHA256, w.raw, w.sig = m, tree.Digest(raw), raw, sig
	format := volumeFormat
	var changed func(tree.Object) bool
	if base != nil {
		if err := base.checkBefore(m, w.ManifestSHA256); err != nil {
			return w, err
		}
		format, w.Base, changed = deltaFormat, base.volumeBase(), base.changed
	}
	// Only what the directory holds (a partial mirror holds less).
	var objs []tree.Object
	for _, o := range m.Objects {
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(o.Path))); err == nil && fi.Size() == o.Size {
			w.FullObjects++
			w.FullBytes += o.Size
			if changed == nil || changed(o) {
				objs = append(objs, o)
				w.Objects++
				w.Bytes += o.Size
			}
		}
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Path < objs[j].Path })
	fixed := int64(len(raw)+len(sig)) + tarOverhead(tree.ManifestName) + tarOverhead(tree.ManifestSigName) + tarOverhead(volumeIndexName)
	plan, notes, err := planVolumes(objs, size, fixed)
	w.Notes = notes
	if err != nil {
		return w, err
	}
	if len(plan) == 0 && base != nil {
		plan = [][]VolumeEntry{nil} // nothing changed but the manifest: it still has to travel
	}
	earlier, err := earlierVolumes(outDir)
	if err != nil {
		return w, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return w, err
	}
	set := setDigest(setContent{Format: format, ManifestSHA256: w.ManifestSHA256, Base: w.Base, Volumes: plan})
	for i, entries := range plan {
		idx := VolumeIndex{Format: format, Volume: i + 1, Volumes: len(plan), ManifestSHA256: w.ManifestSHA256, Set: set, Base: w.Base, Entries: entries}
		p := filepath.Join(outDir, volumeName(i+1))
		if err := writeVolume(p, dir, raw, sig, idx); err != nil {
			return w, err
		}
		w.Paths = append(w.Paths, p)
	}
	for n, p := range earlier {
		if n > len(plan) {
			if err := os.Remove(p); err != nil {
				return w, fmt.Errorf("removing %s, a volume of an earlier run: %w", p, err)
			}
		}
	}
	return w, nil
}

// volumeName is the file name of volume n of a set.
func volumeName(n int) string { return fmt.Sprintf("vol-%03d.tar", n) }

// volumeNumber is the n of a file named volumeName(n).
func volumeNumber(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "vol-")
	digits, ok2 := strings.CutSuffix(digits, ".tar")
	n, err := strconv.Atoi(digits)
	if !ok || !ok2 || err != nil || n < 1 || volumeName(n) != name {
		return 0, false
	}
	return n, true
}

// earlierVolumes returns, by number, the volumes an earlier WriteVolumes
// left in dir: regular files named like volumes whose index says they are
// that volume. Any other file of such a name is someone else's and is
// refused, since the new set would overwrite or sit beside it.
func earlierVolumes(dir string) (map[int]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &tree.TargetError{Target: dir, Reason: err.Error()}
	}
	found := map[int]string{}
	for _, e := range entries {
		n, ok := volumeNumber(e.Name())
		if !ok {
			continue
		}
		p := filepath.Join(dir, e.Name())
		ours := e.Type().IsRegular() // looked at before opening: a FIFO would block
		if ours {
			idx, err := readVolumeIndex(p)
			ours = err == nil && idx.Volume == n
		}
		if !ours {
			return nil, &tree.TargetError{Target: p, Reason: "is named like a volume but is not a packstudio volume; move it away, or write the volumes to another --volumes folder (only volumes of an earlier run are replaced)"}
		}
		found[n] = p
	}
	return found, nil
}

// readVolumeIndex reads the index of the volume at p, trusting nothing:
// enough to tell a volume from another file.
func readVolumeIndex(p string) (*VolumeIndex, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head, err := readHead(p, tar.NewReader(f))
	if err != nil {
		return nil, err
	}
	var idx VolumeIndex
	if _, err := parseVolumeIndex(head[volumeIndexName], &idx); err != nil {
		return nil, err
	}
	return &idx, nil
}

func writeVolume(p, dir string, raw, sig []byte, idx VolumeIndex) error {
	tmp, err := atomicfile.Create(p)
	if err != nil {
		return err
	}
	defer tmp.Abort() // after Commit, nothing
	tw := tar.NewWriter(tmp)
	mtime := time.Unix(0, 0)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		n, err := io.Copy(tw, io.LimitReader(r, size))
		if err == nil && n != size {
			err = fmt.Errorf("%s: short read", name)
		}
		return err
	}
	index, _ := json.MarshalIndent(idx, "", " ")
	for _, f := range []struct {
		name string
		data []byte
	}{{tree.ManifestName, raw}, {tree.ManifestSigName, sig}, {volumeIndexName, index}} {
		if err := add(f.name, int64(len(f.data)), bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	for _, e := range idx.Entries {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			return err
		}
		_, err = f.Seek(e.Offset, io.SeekStart)
		if err == nil {
			err = add(e.Name, e.Size, f)
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return tmp.Commit(0o644)
}

// VolumeReport is the outcome of checking one volume.
type VolumeReport struct {
	Manifest *tree.Manifest
	Index    *VolumeIndex
	Objects  int // whole objects checked
	Parts    int // parts, checked only once unpacked and joined
	Bytes    int64
	Failures []tree.Failure
}

// OK reports whether nothing failed.
func (r *VolumeReport) OK() bool { return len(r.Failures) == 0 }

// VerifyVolume checks one volume on its own: the manifest it carries with
// the key, and each whole object in it against that manifest.
func VerifyVolume(p string, key *sign.Verifier, now time.Time, allowExpired bool) (*VolumeReport, error) {
	rep := &VolumeReport{}
	var objects map[string]tree.Object
	err := readVolume(p, key, now, allowExpired, func(h *volumeHead) error {
		rep.Manifest, rep.Index, objects = h.manifest, &h.index, h.manifest.Index()
		return nil
	}, func(e VolumeEntry, r io.Reader) error {
		if !e.Whole {
			rep.Parts++
			_, err := io.Copy(io.Discard, r)
			return err
		}
		obj, ok := objects[e.Path]
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			return err
		}
		rep.Objects++
		rep.Bytes += n
		switch {
		case !ok:
			rep.Failures = append(rep.Failures, tree.Failure{Path: e.Path, Reason: "in the volume but not in the manifest"})
		case n != obj.Size || hex.EncodeToString(h.Sum(nil)) != obj.SHA256:
			rep.Failures = append(rep.Failures, tree.Failure{Path: e.Path, Reason: "does not match the manifest"})
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// volumeHead is what a volume opens with: the signed manifest, its
// signature and the volume's own index.
type volumeHead struct {
	manifest *tree.Manifest
	raw, sig []byte
	index    VolumeIndex
}

// readVolume reads a volume's manifest, signature and index, checks the
// manifest and hands them to start, then calls each for every object
// entry with its content.
func readVolume(p string, key *sign.Verifier, now time.Time, allowExpired bool, start func(*volumeHead) error, each func(VolumeEntry, io.Reader) error) error {
	// Looked at before opening, which blocks on a FIFO; and unpack reads
	// each volume twice (the set's check, then the unpack).
	if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s): copy the volume to a file first", p, fi.Mode().Type())
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	head, err := readHead(p, tr)
	if err != nil {
		return err
	}
	m, err := tree.Open(head[tree.ManifestName], head[tree.ManifestSigName], key, tree.Policy{Now: now, AllowExpired: allowExpired})
	var invalid *tree.InvalidError
	var expired *tree.ExpiredError
	switch {
	case errors.As(err, &expired):
		return &TrustError{Reason: fmt.Sprintf("%s: its manifest expired at %s; pass --allow-expired to accept it", p, expired.Expires.Format(time.RFC3339))}
	case errors.As(err, &invalid):
		return err
	case err != nil:
		return &TrustError{Reason: fmt.Sprintf("%s: its manifest %v (key %s); nothing was trusted", p, err, sign.ShortKeyID(key.KeyID()))}
	}
	vh := &volumeHead{manifest: m, raw: head[tree.ManifestName], sig: head[tree.ManifestSigName]}
	entries, err := parseVolumeIndex(head[volumeIndexName], &vh.index)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := start(vh); err != nil {
		return err
	}
	seen := make(map[string]bool, len(entries))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// A tar may end at any entry: only the index tells that the
			// volume ends early.
			for _, e := range vh.index.Entries {
				if !seen[e.Name] {
					return truncated(p, "it ends before "+e.Name)
				}
			}
			return nil
		}
		if err != nil {
			return volumeError(p, err)
		}
		e, ok := entries[h.Name]
		if !ok || seen[h.Name] || h.Typeflag != tar.TypeReg || h.Size != e.Size {
			return fmt.Errorf("%s: entry %q is not in its volume.json", p, h.Name)
		}
		seen[h.Name] = true
		if err := each(e, tr); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return truncated(p, "it ends inside "+h.Name)
			}
			return err
		}
	}
}

// readHead reads what a volume opens with: the manifest, its signature
// and volume.json, each bounded.
func readHead(p string, tr *tar.Reader) (map[string][]byte, error) {
	head := map[string][]byte{}
	for len(head) < 3 {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, truncated(p, "it ends before its "+volumeIndexName)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not a packstudio volume (%v)", p, err)
		}
		switch h.Name {
		case tree.ManifestName, tree.ManifestSigName, volumeIndexName:
			if h.Size > tree.DefaultMaxManifestSize {
				return nil, fmt.Errorf("%s: %s is too large", p, h.Name)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, volumeError(p, err)
			}
			head[h.Name] = data
		default:
			return nil, fmt.Errorf("%s: not a packstudio volume: %s before the manifest", p, h.Name)
		}
	}
	return head, nil
}

// volumeError names the volume a read failed in, and a volume that ends
// too early as truncated.
func volumeError(p string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return truncated(p, err.Error())
	}
	return fmt.Errorf("%s: %w", p, err)
}

// truncated is a volume file cut short: a copy that did not finish, or a
// medium that lost its end.
func truncated(p, detail string) error {
	return fmt.Errorf("%s is truncated (%s): copy it again from the media, or re-create the volume set (packstudio mirror … --volumes DIR)", p, detail)
}

// parseVolumeIndex decodes volume.json into idx and returns its entries by
// tar entry name. The index is not signed: only safe paths pass, and what
// the entries claim is checked against the manifest and the tar headers.
func parseVolumeIndex(data []byte, idx *VolumeIndex) (map[string]VolumeEntry, error) {
	if err := json.Unmarshal(data, idx); err != nil {
		return nil, fmt.Errorf("bad volume.json: %w", err)
	}
	entries := map[string]VolumeEntry{}
	for _, e := range idx.Entries {
		if tree.CheckPath(e.Path) != nil || tree.CheckPath(e.Name) != nil {
			return nil, errors.New("volume.json names an unsafe path")
		}
		if _, dup := entries[e.Name]; dup {
			return nil, fmt.Errorf("volume.json lists %s twice", e.Name)
		}
		entries[e.Name] = e
	}
	return entries, nil
}
