package oci

import (
	"testing"
	"time"
)

// SetRetryWait shortens the wait between a chunked upload's attempts for
// one test.
func SetRetryWait(t testing.TB, d time.Duration) {
	old := retryWait
	retryWait = d
	t.Cleanup(func() { retryWait = old })
}

// ChunkAttempts is the bound on failed attempts in a row.
const ChunkAttempts = chunkAttempts
