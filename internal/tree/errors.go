package tree

import "fmt"

// Failure is one thing wrong with one object of a tree.
type Failure struct {
	Path   string
	Reason string
}

func (f Failure) String() string { return f.Path + ": " + f.Reason }

// TargetError is a location (directory, URL, bucket) or a selection that
// cannot be used as written: a usage error, not a failure of the tree.
type TargetError struct {
	Target string
	Reason string
}

func (e *TargetError) Error() string { return fmt.Sprintf("target %s: %s", e.Target, e.Reason) }

// KeyError is a key that cannot be had: the user must pass another --key.
type KeyError struct{ Reason string }

func (e *KeyError) Error() string { return e.Reason }
