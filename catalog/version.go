package catalog

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// versionText limits what a version string may contain, because versions
// become parts of file names, URL paths and bucket keys.
var versionText = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_-]*$`)

// Version is a "semver-ish" version as written in the catalog: "22.04",
// "1.32.3" and "1.25" all parse. Raw is kept for file names and display;
// comparisons use the parsed semantic version.
type Version struct {
	Raw string
	sv  *semver.Version
}

// ParseVersion parses a catalog version string.
func ParseVersion(s string) (Version, error) {
	if !versionText.MatchString(s) || len(s) > 64 {
		return Version{}, fmt.Errorf("version %q may hold only letters, digits, '.', '-', '+' and '_' (at most 64)", s)
	}
	sv, err := semver.NewVersion(s)
	if err != nil {
		return Version{}, fmt.Errorf("version %q is not a version like 1.32.3 or 22.04", s)
	}
	return Version{Raw: s, sv: sv}, nil
}

func (v Version) String() string { return v.Raw }

// Compare orders versions semantically; equal semantic versions written
// differently ("1.25" and "1.25.0") fall back to the raw text so that the
// order is total and stable.
func (v Version) Compare(o Version) int {
	if v.sv == nil || o.sv == nil {
		return cmpString(v.Raw, o.Raw)
	}
	if c := v.sv.Compare(o.sv); c != 0 {
		return c
	}
	return cmpString(v.Raw, o.Raw)
}

// SameAs reports whether two versions are semantically equal.
func (v Version) SameAs(o Version) bool {
	return v.sv != nil && o.sv != nil && v.sv.Equal(o.sv)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Constraint is a version range such as ">=4.6.0 <4.8.0" (Masterminds
// syntax: space or comma for AND, "||" for OR, ~ ^ and x-ranges).
type Constraint struct {
	Raw string
	c   *semver.Constraints
}

// ParseConstraint parses a version constraint.
func ParseConstraint(s string) (Constraint, error) {
	if len(s) > 256 {
		return Constraint{}, fmt.Errorf("constraint is longer than 256 characters")
	}
	c, err := semver.NewConstraint(s)
	if err != nil {
		return Constraint{}, fmt.Errorf("constraint %q is not a version range like \">=1.29 <1.33\"", s)
	}
	return Constraint{Raw: s, c: c}, nil
}

func (c Constraint) String() string { return c.Raw }

// Allows reports whether v satisfies the constraint. A version with a
// suffix ("0.30.0-5.5.2026", "2.0.1-up.1", as pack registries write
// builds of one upstream version) is within a range when its number is:
// the suffix orders versions of one number but does not take them out of
// ranges written without one.
func (c Constraint) Allows(v Version) bool {
	if c.c == nil || v.sv == nil {
		return false
	}
	if c.c.Check(v.sv) {
		return true
	}
	if v.sv.Prerelease() == "" {
		return false
	}
	base, err := v.sv.SetPrerelease("")
	return err == nil && c.c.Check(&base)
}

// RangeConstraint makes the inclusive range [min, max] of a registry's
// minVersion and maxVersion: either may be empty (open), and either may be
// partial ("1.29" as max takes in every 1.29.x).
func RangeConstraint(min, max string) (Constraint, error) {
	var parts []string
	for _, b := range []struct{ op, v string }{{">=", min}, {"<=", max}} {
		if b.v == "" {
			continue
		}
		if _, err := ParseVersion(b.v); err != nil {
			return Constraint{}, err
		}
		parts = append(parts, b.op+b.v)
	}
	if len(parts) == 0 {
		return ParseConstraint("*")
	}
	return ParseConstraint(strings.Join(parts, " "))
}
