package tree_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/sign/signtest"
	"github.com/packstudio/packstudio/internal/tree"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	privPath, _ := signtest.WriteKey(t, dir, "open")
	signer, err := sign.LoadSigner(privPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPath, _ := signtest.WriteKey(t, t.TempDir(), "other")
	other, err := sign.LoadSigner(otherPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &tree.Manifest{Version: 1, Generated: t0, Expires: t0.Add(time.Hour), KeyID: signer.KeyID(),
		Objects: []tree.Object{{Path: "index.html", Size: 1, SHA256: strings.Repeat("0", 64)}}}
	raw := m.Encode()
	signRaw := func(data []byte) []byte {
		sig, err := signer.Sign(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	sig := signRaw(raw)
	inTime := tree.Policy{Now: t0.Add(time.Minute)}
	late := tree.Policy{Now: t0.Add(3 * time.Hour)}

	if got, err := tree.Open(raw, sig, signer, inTime); err != nil || got.Version != 1 {
		t.Fatalf("a good manifest: %v, %v", got, err)
	}
	if _, err := tree.Open(raw, sig, other, inTime); !errors.Is(err, sign.ErrBadSignature) {
		t.Errorf("another key: got %v, want ErrBadSignature", err)
	}
	altered := []byte(strings.Replace(string(raw), `"version": 1`, `"version": 2`, 1))
	if _, err := tree.Open(altered, sig, signer, inTime); !errors.Is(err, sign.ErrBadSignature) {
		t.Errorf("altered bytes: got %v, want ErrBadSignature", err)
	}
	// A signed manifest that breaks a rule is invalid, not a bad signature.
	bad := []byte(strings.Replace(string(raw), `"index.html"`, `"../x"`, 1))
	var invalid *tree.InvalidError
	if _, err := tree.Open(bad, signRaw(bad), signer, inTime); !errors.As(err, &invalid) {
		t.Errorf("signed but invalid: got %v, want *InvalidError", err)
	}
	// Expired: the manifest comes back with the error, so that a verifier
	// can still check its objects.
	got, err := tree.Open(raw, sig, signer, late)
	var expired *tree.ExpiredError
	if !errors.As(err, &expired) || got == nil || expired.Age != 2*time.Hour || !expired.Expires.Equal(m.Expires) {
		t.Errorf("expired: got %v, %v; want the manifest and an ExpiredError 2h old", got, err)
	}
	late.AllowExpired = true
	if got, err := tree.Open(raw, sig, signer, late); err != nil || got.Expiry(late.Now) == nil {
		t.Errorf("expired but allowed: got %v, %v; want the manifest, still saying it expired", got, err)
	}
}

// TestOpenRefusesImpossibleDates: a signed manifest that expires before it
// was generated is invalid under any policy; one generated more than
// MaxClockSkew ahead of now is invalid unless the clock is not consulted.
func TestOpenRefusesImpossibleDates(t *testing.T) {
	privPath, _ := signtest.WriteKey(t, t.TempDir(), "dates")
	signer, err := sign.LoadSigner(privPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name               string
		generated, expires time.Time
		anyDate            bool
		want               string // in the *InvalidError; "" opens
	}{
		{"in order", now, now.Add(time.Hour), false, ""},
		{"generated after expires", now.Add(2 * time.Hour), now.Add(time.Hour), false, "generated 2026-01-02T05:04:05Z is after its expiry 2026-01-02T04:04:05Z"},
		{"generated after expires, any date", now.Add(2 * time.Hour), now.Add(time.Hour), true, "is after its expiry"},
		{"generated just within the skew", now.Add(tree.MaxClockSkew), now.Add(48 * time.Hour), false, ""},
		{"generated beyond the skew", now.Add(tree.MaxClockSkew + time.Second), now.Add(48 * time.Hour), false, "generated 2026-01-03T03:04:06Z, more than 24h0m0s after now (2026-01-02T03:04:05Z), with expiry 2026-01-04T03:04:05Z"},
		{"generated beyond the skew, any date", now.Add(48 * time.Hour), now.Add(72 * time.Hour), true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &tree.Manifest{Version: 1, Generated: c.generated, Expires: c.expires, KeyID: signer.KeyID()}
			raw := m.Encode()
			sig, err := signer.Sign(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tree.Open(raw, sig, signer, tree.Policy{Now: now, AllowExpired: c.anyDate})
			var invalid *tree.InvalidError
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (!errors.As(err, &invalid) || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v; want an *InvalidError saying …%s…", err, c.want)
			}
		})
	}
}
