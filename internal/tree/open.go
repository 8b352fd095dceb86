package tree

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// Verifier checks a detached signature over data; sign.Verifier and
// sign.Signer are both one.
type Verifier interface {
	Verify(sig []byte, data io.Reader) error
}

// Policy says how Open judges a manifest's dates.
type Policy struct {
	Now time.Time // default time.Now()
	// AllowExpired accepts an expired manifest, or one generated in the
	// future: the clock is not consulted. The caller may still say so
	// with m.Expiry(now).
	AllowExpired bool
}

// MaxClockSkew is how far in the future a manifest's generated date may
// be. Clocks of a build machine and a reader disagree by minutes, and a
// time zone misread by hours, never by more than a day; a manifest from
// further ahead was signed by a broken clock, or made in advance to
// outlive its expiry, and the expiry it claims says nothing.
const MaxClockSkew = 24 * time.Hour

// InvalidError is a manifest whose signature verified but which does not
// parse or breaks a rule: reading it again gives the same bytes.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// ExpiredError is a manifest past its expiry date.
type ExpiredError struct {
	Expires time.Time
	Age     time.Duration // how long ago, to the minute
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("%s expired %s ago (at %s)", ManifestName, e.Age, e.Expires.Format(time.RFC3339))
}

// Expiry returns an *ExpiredError when m has expired at now, else nil.
func (m *Manifest) Expiry(now time.Time) *ExpiredError {
	if !m.Expired(now) {
		return nil
	}
	return &ExpiredError{Expires: m.Expires, Age: now.Sub(m.Expires).Round(time.Minute)}
}

// Open is the one way to trust a manifest: it checks the signature sig over
// raw with key, before anything of raw is read; then parses raw; then its
// dates: generated after expires is refused under any policy, generated
// more than MaxClockSkew ahead of p.Now and expiry unless p allows any
// date. A bad signature is key's error (sign.ErrBadSignature); a bad
// manifest, dates included, an *InvalidError. An expired manifest the policy does not
// allow comes back together with an *ExpiredError, so that a verifier can
// still report on its objects; everyone else stops at the error.
func Open(raw, sig []byte, key Verifier, p Policy) (*Manifest, error) {
	if err := key.Verify(sig, bytes.NewReader(raw)); err != nil {
		return nil, err
	}
	m, err := Parse(raw)
	if err != nil {
		return nil, &InvalidError{err}
	}
	// Whatever the clock says, a manifest cannot expire before it was made:
	// its dates are not to be trusted, even by a reader allowing expiry.
	if m.Generated.After(m.Expires) {
		return nil, &InvalidError{fmt.Errorf("%s: generated %s is after its expiry %s; the publisher must sign it again with consistent dates",
			ManifestName, m.Generated.UTC().Format(time.RFC3339), m.Expires.UTC().Format(time.RFC3339))}
	}
	if p.AllowExpired {
		return m, nil
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	if m.Generated.After(p.Now.Add(MaxClockSkew)) {
		return nil, &InvalidError{fmt.Errorf("%s: generated %s, more than %s after now (%s), with expiry %s; the publisher's clock or this one is wrong",
			ManifestName, m.Generated.UTC().Format(time.RFC3339), MaxClockSkew, p.Now.UTC().Format(time.RFC3339), m.Expires.UTC().Format(time.RFC3339))}
	}
	if exp := m.Expiry(p.Now); exp != nil {
		return m, exp
	}
	return m, nil
}
