package keyguard

import (
	"bytes"
	"encoding/binary"
)

// The matcher finds any of a few dozen needles (32 bytes and longer) in a
// stream without looking at every byte: it looks up the 8-byte gram at
// every stride-th offset of the stream, stride = shortest needle − 7, so
// that every occurrence of a needle covers at least one looked-up offset.
// A table of every gram of every needle, behind a 64 Ki-bit filter, says
// which needle and where to compare. Scanning costs about one filter test
// per 25 bytes, next to the hashing and compression of the same bytes.
const (
	gram      = 8
	minNeedle = 32 // shorter lines (a PEM's last) are too common to refuse
)

type gramRef struct {
	needle, offset int
}

type matcher struct {
	needles [][]byte
	grams   map[uint64][]gramRef
	filter  [1 << 16 / 64]uint64
	stride  int
	longest int
}

func newMatcher(all [][]byte) *matcher {
	m := &matcher{grams: map[uint64][]gramRef{}}
	seen := map[string]bool{}
	for _, n := range all {
		if len(n) < minNeedle || seen[string(n)] {
			continue
		}
		seen[string(n)] = true
		i := len(m.needles)
		m.needles = append(m.needles, n)
		if m.stride == 0 || len(n)-gram+1 < m.stride {
			m.stride = len(n) - gram + 1
		}
		m.longest = max(m.longest, len(n))
		for o := 0; o+gram <= len(n); o++ {
			g := binary.LittleEndian.Uint64(n[o:])
			m.grams[g] = append(m.grams[g], gramRef{i, o})
			h := filterBit(g)
			m.filter[h/64] |= 1 << (h % 64)
		}
	}
	return m
}

func filterBit(g uint64) uint64 { return (g * 0x9E3779B97F4A7C15) >> 48 }

func (m *matcher) scanner() *scanner { return &scanner{m: m} }

// scanner matches one stream. It keeps the tail of the stream that a needle
// around the next looked-up offset may still need; the body of each write
// is scanned where it is, not copied.
type scanner struct {
	m     *matcher
	tail  []byte
	start int64 // stream offset of tail[0]
	next  int64 // next offset to look up
	found bool
}

func (s *scanner) write(p []byte) {
	if s.found || len(s.m.needles) == 0 || len(p) == 0 {
		return
	}
	m := s.m
	pStart := s.start + int64(len(s.tail))
	// Offsets near the seam: the tail and the head of p, together.
	head := min(len(p), 3*m.longest)
	s.tail = append(s.tail, p[:head]...)
	s.scan(s.tail, s.start, false)
	// Offsets wholly inside p: every needle around them lies in p.
	if len(p) > head && !s.found {
		s.scan(p, pStart, false)
	}
	// Keep what the offsets not looked up yet may need.
	keep := min(max(s.next-int64(m.longest), s.start), pStart+int64(len(p)))
	if keep < pStart { // p was short: keep part of the old tail as well
		s.tail = append(s.tail[keep-s.start:pStart-s.start:pStart-s.start], p...)
	} else {
		s.tail = append(s.tail[:0], p[keep-pStart:]...)
	}
	s.start = keep
}

// finish looks up the offsets left at the end of the stream.
func (s *scanner) finish() {
	if !s.found && len(s.m.needles) > 0 {
		s.scan(s.tail, s.start, true)
	}
}

// scan looks up the offsets of data (which starts at stream offset start)
// whose needles all lie in data; at the end of the stream, every offset left.
func (s *scanner) scan(data []byte, start int64, final bool) {
	m, end := s.m, start+int64(len(data))
	for ; s.next+gram <= end && (final || s.next+int64(m.longest) <= end); s.next += int64(m.stride) {
		g := binary.LittleEndian.Uint64(data[s.next-start:])
		if h := filterBit(g); m.filter[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, r := range m.grams[g] {
			n := m.needles[r.needle]
			at := s.next - int64(r.offset)
			if at >= start && at+int64(len(n)) <= end && bytes.Equal(data[at-start:at-start+int64(len(n))], n) {
				s.found = true
				return
			}
		}
	}
}
