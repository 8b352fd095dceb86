package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/packstudio/packstudio/internal/atomicfile"
	"github.com/packstudio/packstudio/internal/keyguard"
	"github.com/packstudio/packstudio/internal/sign"
	"github.com/packstudio/packstudio/internal/tree"
)

// passwordEnv names the environment variable holding the key password.
const passwordEnv = "PACKSTUDIO_KEY_PASSWORD"

func (e *env) password() []byte {
	if p := e.getenv(passwordEnv); p != "" {
		return []byte(p)
	}
	return nil
}

func (e *env) loadSigner(path string) (*sign.Signer, error) {
	s, err := sign.LoadSigner(path, e.password())
	if errors.Is(err, sign.ErrEncrypted) || errors.Is(err, sign.ErrWrongPassword) || errors.Is(err, os.ErrNotExist) {
		return nil, usageError{err}
	}
	if err != nil {
		return nil, err
	}
	// Warned about, not refused: keys handed over as CI secrets or mounted
	// in containers are often 0644 on a single-user machine, and refusing
	// would only make people copy them somewhere; what the build must never
	// do, publish the key, is refused by the key guard whatever the mode.
	if mode, exposed := keyguard.Exposed(path); exposed {
		fmt.Fprintf(e.stderr, "packstudio: WARNING: private signing key %s is readable by group or others (mode %04o); run: chmod 600 %s\n", path, mode, path)
	}
	return s, nil
}

func keygenCmd(e *env) *cobra.Command {
	var keyType, out string
	var force bool
	c := &cobra.Command{
		Use:   "keygen --out PREFIX",
		Short: "Make a signing key pair: PREFIX.pem (private) and PREFIX.pub.pem",
		Long: `Make a signing key pair. PREFIX.pem is the private key (mode 0600), encrypted
when PACKSTUDIO_KEY_PASSWORD is set; PREFIX.pub.pem is the public key to publish
and to pin when verifying or mirroring.`,
		Example: "  packstudio keygen --out keys/site\n  PACKSTUDIO_KEY_PASSWORD=… packstudio keygen --type rsa-3072 --out keys/site",
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return usage("keygen needs --out PREFIX, e.g. --out keys/site")
			}
			priv, pub := out+".pem", out+".pub.pem"
			if !force {
				for _, p := range []string{priv, pub} {
					if _, err := os.Stat(p); err == nil {
						return usage("%s exists; pass --force to replace the key pair", p)
					}
				}
			}
			privPEM, pubPEM, err := sign.GenerateKey(keyType, e.password())
			if err != nil {
				return usageError{err}
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
				return err
			}
			if err := atomicfile.Write(priv, privPEM, 0o600); err != nil {
				return err
			}
			clear(privPEM)
			if err := atomicfile.Write(pub, pubPEM, 0o644); err != nil {
				return err
			}
			v, err := sign.ParsePublicKey(pubPEM)
			if err != nil {
				return err
			}
			enc := "unencrypted"
			if e.password() != nil {
				enc = "encrypted"
			}
			fmt.Fprintf(e.stdout, "wrote %s (%s, %s, mode 0600) and %s\nfingerprint %s\n", priv, keyType, enc, pub, v.KeyID())
			return nil
		},
	}
	c.Flags().StringVar(&keyType, "type", sign.ECDSAP256, "key type: ecdsa-p256, rsa-3072 or rsa-4096")
	c.Flags().StringVar(&out, "out", "", "path prefix of the key files")
	c.Flags().BoolVar(&force, "force", false, "replace existing key files")
	return c
}

func signCmd(e *env) *cobra.Command {
	var key string
	c := &cobra.Command{
		Use:   "sign --key KEY FILE...",
		Short: "Write the detached signature of each FILE next to it",
		Long: `Write the detached signature of each FILE next to it, named by dropping a final
.zst and adding .sig.bin (x.zst → x.sig.bin, x.iso → x.iso.sig.bin). Check one with:
  openssl dgst -sha256 -verify public_key.pem -signature x.sig.bin x.zst`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, files []string) error {
			if key == "" {
				return usage("sign needs --key path/to/private.pem")
			}
			s, err := e.loadSigner(key)
			if err != nil {
				return err
			}
			for _, f := range files {
				in, err := os.Open(f)
				if err != nil {
					return err
				}
				sig, err := s.Sign(in)
				in.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				out := filepath.Join(filepath.Dir(f), tree.SigPath(filepath.Base(f)))
				if err := atomicfile.Write(out, sig, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "signed %s → %s\n", f, out)
			}
			return nil
		},
	}
	c.Flags().StringVar(&key, "key", "", "private key PEM file")
	return c
}
