package keyguard

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestScannerMatchesContains checks the sampled matcher against
// bytes.Contains over random streams fed in random chunks, with needles
// planted at every kind of offset, across chunk boundaries and at the end.
func TestScannerMatchesContains(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(4)) // a small alphabet makes near misses common
		}
		return b
	}
	for trial := range 5000 {
		var needles [][]byte
		for range 1 + r.IntN(4) {
			needles = append(needles, randBytes(minNeedle+r.IntN(70)))
		}
		m := newMatcher(needles)
		data := randBytes(r.IntN(3000))
		if r.IntN(3) > 0 {
			n := needles[r.IntN(len(needles))]
			at := r.IntN(len(data) + 1)
			if r.IntN(2) == 0 { // cut: a partial needle must not match
				n = n[:len(n)-1-r.IntN(len(n)/2)]
			}
			data = append(data[:at:at], append(append([]byte(nil), n...), data[at:]...)...)
		}
		want := false
		for _, n := range needles {
			want = want || bytes.Contains(data, n)
		}
		s := m.scanner()
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN([]int{8, 80, 1500}[r.IntN(3)]))
			s.write(rest[:k])
			rest = rest[k:]
		}
		s.finish()
		if s.found != want {
			t.Fatalf("trial %d: found %v, want %v", trial, s.found, want)
		}
	}
}

// BenchmarkScanner measures the scan of random data that holds no needle,
// the common case: every source byte of a build passes through it.
func BenchmarkScanner(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var needles [][]byte
	for range 30 {
		n := make([]byte, 64)
		for i := range n {
			n[i] = byte(r.Uint32())
		}
		needles = append(needles, n)
	}
	needles = append(needles, needles[0][:32])
	m := newMatcher(needles)
	chunk := make([]byte, 256<<10)
	for i := range chunk {
		chunk[i] = byte(r.Uint32())
	}
	b.SetBytes(int64(len(chunk)))
	s := m.scanner()
	for b.Loop() {
		s.write(chunk)
	}
}
