// Package bytesize reads and writes sizes in bytes, the one place that
// knows their units.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parse reads sizes like 4.7G, 700M, 25GiB or 1048576 (K, M, G, T are
// decimal, as on media labels; Ki, Mi, Gi, Ti binary). A size is at least
// one byte and fits in an int64.
func Parse(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "B")
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.m
			break
		}
	}
	bad := fmt.Errorf("%q is not a size like 4.7G or 700M (at least one byte, at most 8 EiB)", s)
	// Whole numbers exactly: a float64 would round byte counts past 2^53.
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n < 1 || n > math.MaxInt64/mult {
			return 0, bad
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	size := f * float64(mult)
	// Written so that NaN fails too; 1<<63 is the first float past int64.
	if err != nil || !(size >= 1 && size < 1<<63) {
		return 0, bad
	}
	return int64(size), nil
}

// Format writes a size for people: binary units (KiB, MiB, GiB, TiB),
// one decimal (two from GiB on), exact bytes below 1 KiB.
func Format(n int64) string {
	units := []struct {
		suffix string
		size   float64
		format string
	}{{"TiB", 1 << 40, "%.2f %s"}, {"GiB", 1 << 30, "%.2f %s"}, {"MiB", 1 << 20, "%.1f %s"}, {"KiB", 1 << 10, "%.1f %s"}}
	for _, u := range units {
		if float64(n) >= u.size {
			return fmt.Sprintf(u.format, float64(n)/u.size, u.suffix)
		}
	}
	return fmt.Sprintf("%d B", n)
}
