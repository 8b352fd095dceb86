package bytesize

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576":             1048576,
		"4.7G":                4_700_000_000,
		"700M":                700_000_000,
		"25GiB":               25 << 30,
		" 2Ki ":               2048,
		"1e3":                 1000,
		"9007199254740993":    9007199254740993, // past 2^53: exact, not rounded by a float
		"9223372036854775807": math.MaxInt64,
		"8388607Ti":           8388607 << 40,
	} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	// NaN, Inf, 0.5 and those past int64 were once accepted: NaN and
	// +Inf as sizes, a fraction of a byte as 0, and the rest wrapped to
	// negative numbers.
	for _, bad := range []string{"", "G", "-1", "0", "0.5", "-1G", "NaN", "Inf", "+Inf", "1e30", "9223372036854775808",
		"8388608Ti", "9.3e18", "10T12", "1 G"} {
		if got, err := Parse(bad); err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)+" is not a size") {
			t.Errorf("Parse(%q) = %d, %v; want an error naming it", bad, got, err)
		}
	}
}

// FuzzParse: any input gives a positive size or an error, and a whole
// number of any unit reads back exactly when it fits in an int64.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"4.7G", "700M", "25GiB", "1048576", "0.5", "NaN", "1e30", "-1"} {
		f.Add(s, int64(1))
	}
	f.Add("", int64(9007199254740993))
	f.Add("", int64(math.MaxInt64))
	units := []struct {
		suffix string
		m      int64
	}{{"", 1}, {"B", 1}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"Ki", 1 << 10}, {"MiB", 1 << 20}, {"Gi", 1 << 30}, {"TiB", 1 << 40}}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		if got, err := Parse(s); err == nil && got < 1 {
			t.Fatalf("Parse(%q) = %d", s, got)
		}
		for _, u := range units {
			in := strconv.FormatInt(n, 10) + u.suffix
			got, err := Parse(in)
			fits := n >= 1 && n <= math.MaxInt64/u.m
			switch {
			case fits && (err != nil || got != n*u.m):
				t.Fatalf("Parse(%q) = %d, %v; want %d", in, got, err, n*u.m)
			case !fits && err == nil:
				t.Fatalf("Parse(%q) = %d, want an error", in, got)
			}
		}
	})
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB",
		3 << 29: "1.50 GiB", 2 << 40: "2.00 TiB", math.MaxInt64: "8388608.00 TiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
