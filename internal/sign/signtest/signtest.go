// Package signtest makes fixed signing keys for tests, so that key
// fingerprints in golden files stay the same across runs. The keys are
// derived from a constant and must never sign anything real.
package signtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// WriteKey writes a deterministic ECDSA P-256 key pair for seed into dir as
// site.pem and site.pub.pem and returns both paths.
func WriteKey(t testing.TB, dir string, seed string) (priv, pub string) {
	t.Helper()
	scalar := sha256.Sum256([]byte("packstudio test key " + seed))
	scalar[0] &= 0x7f // keep it below the curve order
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := cryptoutils.MarshalPrivateKeyToPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, "site.pem"), filepath.Join(dir, "site.pub.pem")
	if err := os.WriteFile(priv, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}
