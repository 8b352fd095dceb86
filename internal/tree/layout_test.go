package tree

import "testing"

func TestSigPath(t *testing.T) {
	tests := map[string]string{
		"cni-calico-3.29.2.zst": "cni-calico-3.29.2.sig.bin",
		"palette-4.7.3.tar.zst": "palette-4.7.3.tar.sig.bin",
		"appliance-4.7.3.iso":   "appliance-4.7.3.iso.sig.bin",
		"palette-4.7.3.tgz":     "palette-4.7.3.tgz.sig.bin",
		"manifest.json":         "manifest.json.sig.bin",
		"weird.zst.zst":         "weird.zst.sig.bin",
		"ubuntu-aws-22.04.zst":  "ubuntu-aws-22.04.sig.bin",
	}
	for in, want := range tests {
		if got := SigPath(in); got != want {
			t.Errorf("SigPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOpenSSLVerifies signs with each key type and checks the signature
// with the real openssl command line, as a user without packstudio would.
