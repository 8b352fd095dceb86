package generator

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/packstudio/packstudio/catalog"
)

// contextEntry is one pack version offered in a bundle context, with the
// pack versions of the same context it conflicts with.
type contextEntry struct {
	Version *catalog.PackVersion
	// Conflicts are positions in the same []contextEntry, ascending: the
	// entries of other packs (of another layer, or of the same
	// multiple-choice layer) that this one is not compatible with.
	// Symmetric. Two entries are compatible exactly when they may combine
	// (catalog.MayCombine) and neither lists the other.
	Conflicts []int32
	// Needs has, for each required rule of Version, the positions of the
	// entries that meet it (empty: none here can); nil without such rules.
	Needs [][]int32
}

// contextEntries returns the pack versions offered for release r on cloud
// (every cloud when cloud is "", as the add-on-only builder needs), in
// entry order (layer order, name, version), each with its conflicts. It is
// what compat/<product>/<version>/<cloud>.json holds, so pages that inline
// a context's data use it too. Safe for concurrent use; nil for a cloud
// that the catalog does not declare.
func (b *builder) contextEntries(r *catalog.Release, cloud string) []contextEntry {
	list := b.contextList(r, cloud)
	if list == nil {
		return nil
	}
	conflicts := b.compat.conflicts(list)
	entries := make([]contextEntry, len(list))
	for p, i := range list {
		entries[p] = contextEntry{Version: b.cat.Versions[i], Conflicts: conflicts[p], Needs: b.compat.needsIn(i, list)}
	}
	return entries
}

// contextList returns the indices of the versions listed under
// browse/<product>/<version>/<cloud>/all/all/all, or nil when the cloud or
// release is not in the plan.
func (b *builder) contextList(r *catalog.Release, cloud string) []int32 {
	f := releaseFolder(r)
	if cloud != "" {
		f = f.With("cloud", cloud)
	}
	return b.plan.listed(f)
}

// renderCompat writes compat/<product>/<version>/<cloud>.json: the pack
// versions offered in that context, each with its facets, artifact size
// and the name@version of every pack version there it conflicts with.
func (b *builder) renderCompat() error {
	// Each version's quoted id and the head of its entry, made once: a
	// version appears in many contexts.
	quoted := make([]string, len(b.cat.Versions))
	entryHead := make([]string, len(b.cat.Versions))
	for i, v := range b.cat.Versions {
		quoted[i] = jsonString(v.ID())
		entryHead[i] = b.compatEntryHead(v)
	}
	var buf bytes.Buffer
	for _, p := range b.cat.Products {
		for _, r := range p.Releases {
			for _, cloud := range b.cat.Clouds {
				entries := b.contextEntries(r, cloud.ID)
				buf.Reset()
				fmt.Fprintf(&buf, "{\"product\":%s,\"version\":%s,\"cloud\":%s,\"packs\":[",
					jsonString(p.ID), jsonString(r.Version.Raw), jsonString(cloud.ID))
				for n, e := range entries {
					if n > 0 {
						buf.WriteByte(',')
					}
					buf.WriteString(entryHead[e.Version.Index])
					for k, c := range e.Conflicts {
						if k > 0 {
							buf.WriteByte(',')
						}
						buf.WriteString(quoted[entries[c].Version.Index])
					}
					b.stats.CompatConflicts += int64(len(e.Conflicts))
					buf.WriteByte(']')
					if e.Needs != nil {
						buf.WriteString(",\"needs\":[")
						for k, met := range e.Needs {
							if k > 0 {
								buf.WriteByte(',')
							}
							buf.WriteByte('[')
							for m, c := range met {
								if m > 0 {
									buf.WriteByte(',')
								}
								buf.WriteString(quoted[entries[c].Version.Index])
							}
							buf.WriteByte(']')
						}
						buf.WriteByte(']')
					}
					buf.WriteByte('}')
				}
				buf.WriteString("\n]}\n")
				b.stats.CompatBytes += int64(buf.Len())
				path := "compat/" + p.ID + "/" + r.Version.Raw + "/" + cloud.ID + ".json"
				if err := b.out.write(path, buf.Bytes()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// compatEntryHead is a compat entry up to the opening of its
// conflicts_with list.
func (b *builder) compatEntryHead(v *catalog.PackVersion) string {
	var s bytes.Buffer
	s.WriteString("\n{\"name\":" + jsonString(v.Pack.Name) + ",\"version\":" + jsonString(v.Version.Raw) +
		",\"layer\":" + jsonString(v.Pack.Layer) + ",\"arch\":[")
	for k, a := range v.Arch {
		if k > 0 {
			s.WriteByte(',')
		}
		s.WriteString(jsonString(a))
	}
	s.WriteString("],\"fips\":" + strconv.FormatBool(v.FIPS) +
		",\"size\":" + strconv.FormatInt(b.packArtifacts[v.Index].Size, 10) + ",\"conflicts_with\":[")
	return s.String()
}
