package generator

import (
	"strings"
	"testing"
	"time"
)

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"2160h":   2160 * time.Hour,
		"90d":     90 * 24 * time.Hour,
		"1m30s":   90 * time.Second,
		"106751d": 106751 * 24 * time.Hour, // the most days a Duration holds
	} {
		if got, err := ParseTTL(in); err != nil || got != want {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// 106752d and more once wrapped to a negative TTL: a manifest that
	// expired before it was written.
	for in, want := range map[string]string{
		"forever":              "not a duration",
		"":                     "not a duration",
		"0s":                   "must be positive",
		"-5h":                  "must be positive",
		"0d":                   "not a number of days",
		"-1d":                  "not a number of days",
		"1.5d":                 "not a number of days",
		"106752d":              "not a number of days",
		"9223372036854775807d": "not a number of days",
	} {
		if got, err := ParseTTL(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTTL(%q) = %v, %v; want an error %q", in, got, err, want)
		}
	}
}
