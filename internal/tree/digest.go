package tree

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// Digest is the SHA-256 of b in lower-case hex, as the manifest records it.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// DigestReader reads r to its end and returns the SHA-256 (lower-case
// hex) and length of what it read.
func DigestReader(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
