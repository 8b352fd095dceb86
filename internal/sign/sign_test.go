package sign

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenSSLVerifies(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is not installed; the signature format is defined by what it verifies")
	}
	for _, kt := range KeyTypes {
		for _, password := range []string{"", "correct horse"} {
			t.Run(kt+map[bool]string{true: "-encrypted", false: ""}[password != ""], func(t *testing.T) {
				dir := t.TempDir()
				priv, pub, err := GenerateKey(kt, []byte(password))
				if err != nil {
					t.Fatal(err)
				}
				if (password != "") != bytes.Contains(priv, []byte("ENCRYPTED")) {
					t.Fatalf("key encryption does not follow the password: %s", priv[:40])
				}
				keyFile := filepath.Join(dir, "site.pem")
				os.WriteFile(keyFile, priv, 0o600)
				pubFile := filepath.Join(dir, "site.pub.pem")
				os.WriteFile(pubFile, pub, 0o644)
				if password != "" {
					if _, err := LoadSigner(keyFile, nil); !errors.Is(err, ErrEncrypted) {
						t.Fatalf("an encrypted key without its password: %v, want ErrEncrypted", err)
					}
					if _, err := LoadSigner(keyFile, []byte("wrong")); !errors.Is(err, ErrWrongPassword) {
						t.Fatalf("an encrypted key with a wrong password: %v, want ErrWrongPassword", err)
					}
				}
				s, err := LoadSigner(keyFile, []byte(password))
				if err != nil {
					t.Fatal(err)
				}
				data := []byte("pack payload " + kt)
				art := filepath.Join(dir, "cni-calico-3.29.2.zst")
				os.WriteFile(art, data, 0o644)
				sig, err := s.Sign(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				sigFile := filepath.Join(dir, "cni-calico-3.29.2.sig.bin")
				os.WriteFile(sigFile, sig, 0o644)
				out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pubFile, "-signature", sigFile, art).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "Verified OK") {
					t.Fatalf("openssl did not verify: %v\n%s", err, out)
				}
				v, err := LoadPublicKey(pubFile)
				if err != nil {
					t.Fatal(err)
				}
				if err := v.Verify(sig, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
				if v.KeyID() != s.KeyID() {
					t.Error("signer and verifier disagree on the key id")
				}
				// Tampered data must fail both here and in openssl.
				os.WriteFile(art, append(data, '!'), 0o644)
				if err := v.Verify(sig, bytes.NewReader(append(data, '!'))); err == nil {
					t.Error("tampered data verified")
				}
				if out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pubFile, "-signature", sigFile, art).CombinedOutput(); err == nil {
					t.Errorf("openssl verified tampered data: %s", out)
				}
			})
		}
	}
}

func TestLoadSignerRejects(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadSigner("awskms:///alias/x", nil); err == nil || !strings.Contains(err.Error(), "KMS") {
		t.Errorf("KMS reference: %v", err)
	}
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := LoadSigner(bad, nil); err == nil || !strings.Contains(err.Error(), "signing key "+bad+": ") {
		t.Errorf("garbage as a key: %v, want an error naming the file", err)
	}
	if _, _, err := GenerateKey("dsa-1024", nil); err == nil || !strings.Contains(err.Error(), `unknown key type "dsa-1024": use one of`) {
		t.Errorf("unknown key type: %v", err)
	}
}

func TestShortKeyID(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for in, want := range map[string][2]string{
		id:                 {"0123456789abcdef", "0123456789abcdef…"},
		"0123456789abcdef": {"0123456789abcdef", "0123456789abcdef"},
		"abc":              {"abc", "abc"},
		"":                 {"", ""},
	} {
		if p, s := KeyIDPrefix(in), ShortKeyID(in); p != want[0] || s != want[1] {
			t.Errorf("KeyIDPrefix, ShortKeyID(%q) = %q, %q; want %q, %q", in, p, s, want[0], want[1])
		}
	}
}
