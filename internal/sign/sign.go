// Package sign makes and checks detached signatures: a SHA-256 digest signed
// with ECDSA P-256 (ASN.1 DER) or RSA (PKCS#1 v1.5), so that
// `openssl dgst -sha256 -verify pub.pem -signature X.sig.bin X` checks them.
// Keys are PEM files, encrypted or not, read through sigstore's cryptoutils
// and used through sigstore's signature package.
package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// Key types keygen can make.
const (
	ECDSAP256 = "ecdsa-p256"
	RSA3072   = "rsa-3072"
	RSA4096   = "rsa-4096"
)

// KeyTypes lists the key types keygen accepts, the default first.
var KeyTypes = []string{ECDSAP256, RSA3072, RSA4096}

// ErrEncrypted is returned when a key is encrypted and no password was given.
var ErrEncrypted = errors.New("the private key is encrypted: set PACKSTUDIO_KEY_PASSWORD")

// ErrWrongPassword is returned when an encrypted key does not open with the
// password given.
var ErrWrongPassword = errors.New("wrong password: PACKSTUDIO_KEY_PASSWORD does not decrypt the private key")

// GenerateKey makes a key pair and returns both PEM encodings. The private
// key is PKCS#8, or sigstore's scrypt-encrypted form when password is not empty.
func GenerateKey(keyType string, password []byte) (privPEM, pubPEM []byte, err error) {
	var priv crypto.Signer
	switch keyType {
	case ECDSAP256, "":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA3072:
		priv, err = rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		priv, err = rsa.GenerateKey(rand.Reader, 4096)
	default:
		return nil, nil, fmt.Errorf("unknown key type %q: use one of %s", keyType, strings.Join(KeyTypes, ", "))
	}
	if err != nil {
		return nil, nil, err
	}
	if pubPEM, err = cryptoutils.MarshalPublicKeyToPEM(priv.Public()); err != nil {
		return nil, nil, err
	}
	if len(password) == 0 {
		privPEM, err = cryptoutils.MarshalPrivateKeyToPEM(priv)
		return privPEM, pubPEM, err
	}
	der, err := cryptoutils.MarshalPrivateKeyToEncryptedDER(priv, cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		return nil, nil, err
	}
	return cryptoutils.PEMEncode(cryptoutils.EncryptedSigstorePrivateKeyPEMType, der), pubPEM, nil
}

// Signer signs digests with a private key loaded from a PEM file. It keeps
// the parsed key only; the file's bytes are not retained.
type Signer struct {
	sv      signature.SignerVerifier
	pubPEM  []byte
	keyID   string
	secrets [][]byte
}

// LoadSigner reads a PEM private key. A reference with "://" would name a
// KMS key, which this build does not support.
func LoadSigner(path string, password []byte) (*Signer, error) {
	if strings.Contains(path, "://") {
		return nil, fmt.Errorf("signing key %s: KMS keys are not supported; use a PEM file made by packstudio keygen", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	defer clear(data)
	encrypted := strings.Contains(string(data), "ENCRYPTED")
	if encrypted && len(password) == 0 {
		return nil, fmt.Errorf("signing key %s: %w", path, ErrEncrypted)
	}
	var pf cryptoutils.PassFunc = cryptoutils.SkipPassword
	if len(password) > 0 {
		pf = cryptoutils.StaticPasswordFunc(password)
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(data, pf)
	if err != nil && encrypted {
		return nil, fmt.Errorf("signing key %s: %w (or the key file is damaged)", path, ErrWrongPassword)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: not a usable PEM private key: %w; point [signing] key at a file made by packstudio keygen", path, err)
	}
	var secrets [][]byte
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("signing key %s: ECDSA keys must use P-256 (openssl dgst -sha256 verifies them)", path)
		}
		d, err := k.Bytes() // the 32-byte scalar, as the key guard looks for it
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", path, err)
		}
		secrets = append(secrets, d)
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("signing key %s: RSA keys must have at least 2048 bits", path)
		}
		secrets = append(secrets, k.D.Bytes())
		for _, p := range k.Primes {
			secrets = append(secrets, p.Bytes())
		}
	default:
		return nil, fmt.Errorf("signing key %s: %T keys are not supported; use ECDSA P-256 or RSA", path, priv)
	}
	sv, err := signature.LoadSignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, err
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, err
	}
	id, err := KeyID(pub)
	if err != nil {
		return nil, err
	}
	return &Signer{sv: sv, pubPEM: pubPEM, keyID: id, secrets: secrets}, nil
}

// SignDigest signs a SHA-256 digest computed by the caller over the data.
func (s *Signer) SignDigest(digest []byte) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("sign: digest has %d bytes, want a SHA-256 digest", len(digest))
	}
	return s.sv.SignMessage(nil, options.WithDigest(digest), options.WithCryptoSignerOpts(crypto.SHA256))
}

// Sign signs data read from r.
func (s *Signer) Sign(r io.Reader) ([]byte, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return s.SignDigest(h.Sum(nil))
}

// Secrets returns the key's private numbers as big-endian bytes (the ECDSA
// scalar; the RSA private exponent and primes), so that a build can refuse
// any input that holds them, even when the key file is encrypted.
func (s *Signer) Secrets() [][]byte {
	out := make([][]byte, len(s.secrets))
	for i, b := range s.secrets {
		out[i] = bytes.Clone(b)
	}
	return out
}

// PublicKeyPEM returns the PKIX PEM of the public key.
func (s *Signer) PublicKeyPEM() []byte { return append([]byte(nil), s.pubPEM...) }

// KeyID is the hex SHA-256 of the public key's DER: a fingerprint to show
// and to tell keys apart in caches.
func (s *Signer) KeyID() string { return s.keyID }

// KeyID returns the hex SHA-256 of a public key's PKIX DER.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// Verifier checks detached signatures with a public key.
type Verifier struct {
	v     signature.Verifier
	keyID string
}

// ParsePublicKey reads a PEM public key.
func ParsePublicKey(pemBytes []byte) (*Verifier, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("not a PEM public key: %w", err)
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	id, err := KeyID(pub)
	if err != nil {
		return nil, err
	}
	return &Verifier{v: v, keyID: id}, nil
}

// LoadPublicKey reads a PEM public key file.
func LoadPublicKey(path string) (*Verifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	v, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return v, nil
}

// KeyID is the fingerprint of the public key.
func (v *Verifier) KeyID() string { return v.keyID }

// KeyIDPrefix is the first 16 digits of a key fingerprint, as pages and
// messages show it; an id shorter than that is returned whole.
func KeyIDPrefix(id string) string { return id[:min(len(id), 16)] }

// ShortKeyID is KeyIDPrefix followed by "…" when it cut anything, for
// messages.
func ShortKeyID(id string) string {
	if p := KeyIDPrefix(id); p != id {
		return p + "…"
	}
	return id
}

// ErrBadSignature is what Verify returns for a signature that does not
// match the data and key: a refusal, not a transient failure.
var ErrBadSignature = errors.New("signature does not verify with the public key")

// Verify checks sig over the data read from r. The data is hashed here
// rather than trusting a caller's digest, as sigstore advises for ECDSA.
func (v *Verifier) Verify(sig []byte, r io.Reader) error {
	if err := v.v.VerifySignature(bytes.NewReader(sig), r); err != nil {
		return ErrBadSignature
	}
	return nil
}

// Verify checks sig over data read from r with the signer's own public key.
func (s *Signer) Verify(sig []byte, r io.Reader) error {
	if err := s.sv.VerifySignature(bytes.NewReader(sig), r); err != nil {
		return ErrBadSignature
	}
	return nil
}
