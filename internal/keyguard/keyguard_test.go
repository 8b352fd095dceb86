package keyguard

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/packstudio/packstudio/internal/sign"
)

// TestEncryptedKeys: a copy of an encrypted key is refused, while another
// encrypted key, which starts with the same fixed parameters, is not.
func TestEncryptedKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mine, _, err := sign.GenerateKey(sign.ECDSAP256, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	other, otherPub, err := sign.GenerateKey(sign.ECDSAP256, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(write("site.pem", mine))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"other.pem": other, "other.pub.pem": otherPub} {
		if _, err := g.ReadFile(write(name, data)); err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
	}
	_, err = g.ReadFile(write("copy.txt", mine))
	var ke *Error
	if !errors.As(err, &ke) || ke.Why != "holds" {
		t.Errorf("a copy of the encrypted key was not refused: %v", err)
	}
}
