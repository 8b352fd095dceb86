package testenv

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// RegistryVersion is the CNCF distribution registry the tests and CI
// build; ORASVersion the oras CLI that reads back what tests pushed.
const (
	RegistryVersion = "v3.1.2"
	ORASVersion     = "v1.3.6"
)

// cachedBinary finds a tool: $env, then PATH, then the cache
// scripts/test-deps installs into.
func cachedBinary(env, name, install string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if cache, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(cache, "packstudio", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s binary: set %s or run: GOBIN=$HOME/.cache/packstudio/bin go install %s", name, env, install)
}

// ORASBinary finds the oras CLI, an OCI client independent of ours.
func ORASBinary() (string, error) {
	return cachedBinary("PACKSTUDIO_ORAS", "oras", "oras.land/oras/cmd/oras@"+ORASVersion)
}

// ORAS returns the oras CLI for a test.
func ORAS(t testing.TB) string {
	t.Helper()
	p, err := ORASBinary()
	if err != nil {
		Missing(t, "%v", err)
	}
	return p
}

// RegistryBinary finds the CNCF distribution registry.
func RegistryBinary() (string, error) {
	return cachedBinary("PACKSTUDIO_REGISTRY", "registry", "github.com/distribution/distribution/v3/cmd/registry@"+RegistryVersion)
}

// Registry is a running distribution registry: no referrers API, so
// clients use the referrers tag schema.
type Registry struct {
	Host     string // 127.0.0.1:PORT
	Root     string // its storage directory, to tamper with in tests
	CACert   string // PEM file of its certificate, when it serves TLS
	Username string // set when it asks for a login
	Password string
	cmd      *exec.Cmd
	exited   chan struct{}
	logPath  string
}

// RegistryOptions choose a login (htpasswd, bcrypt) and TLS.
type RegistryOptions struct {
	Auth bool // implies TLS: clients send basic credentials only over it
	TLS  bool
}

// StartRegistry starts a registry with empty storage for one test and
// stops it when the test ends.
func StartRegistry(t testing.TB, o RegistryOptions) *Registry {
	t.Helper()
	bin, err := RegistryBinary()
	if err != nil {
		Missing(t, "%v", err)
	}
	r, err := StartRegistryIn(bin, t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// StartRegistryIn starts the registry bin with its configuration, storage
// and log in dir (which the caller owns: an empty directory gives empty
// storage), and waits until it answers. Stop ends it.
func StartRegistryIn(bin, dir string, o RegistryOptions) (*Registry, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	r := &Registry{Host: addr, Root: filepath.Join(dir, "storage"), logPath: filepath.Join(dir, "registry.log")}
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", r.Root, addr)
	if o.Auth || o.TLS {
		certs := filepath.Join(dir, "certs")
		if err := writeCert(certs); err != nil {
			return nil, err
		}
		r.CACert = filepath.Join(certs, "public.crt")
		config += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", r.CACert, filepath.Join(certs, "private.key"))
	}
	if o.Auth {
		r.Username, r.Password = "pusher", "pw-"+randomHex(8)
		hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.MinCost)
		if err != nil {
			return nil, err
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(r.Username+":"+string(hash)+"\n"), 0o600); err != nil {
			return nil, err
		}
		config += fmt.Sprintf("auth:\n  htpasswd:\n    realm: packstudio-test\n    path: %s\n", htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		return nil, err
	}
	logs, err := os.Create(r.logPath)
	if err != nil {
		return nil, err
	}
	r.cmd = exec.Command(bin, "serve", cfgPath)
	r.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	r.cmd.Stdout, r.cmd.Stderr = logs, logs
	if err := r.cmd.Start(); err != nil {
		logs.Close()
		return nil, err
	}
	r.exited = make(chan struct{})
	go func() { r.cmd.Wait(); logs.Close(); close(r.exited) }()
	if err := r.wait(30 * time.Second); err != nil {
		r.Stop()
		return nil, fmt.Errorf("starting the registry: %v\n%s", err, r.Log())
	}
	return r, nil
}

// Stop kills the registry and waits for it; its storage stays.
func (r *Registry) Stop() { r.cmd.Process.Kill(); <-r.exited }

// CPU is the CPU time the registry process has used so far (Linux).
func (r *Registry) CPU() time.Duration { return processCPU(r.cmd) }

// URL is the registry's base URL.
func (r *Registry) URL() string {
	if r.CACert != "" {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// Log returns what the registry logged so far.
func (r *Registry) Log() string { b, _ := os.ReadFile(r.logPath); return string(b) }

// wait polls /v2/ until the registry answers (200, or 401 with a login).
func (r *Registry) wait(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	if r.CACert != "" {
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(r.CACert)
		pool.AppendCertsFromPEM(pem)
		client.Transport = &http.Transport{TLSClientConfig: tlsConfig(pool)}
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := client.Get(r.URL() + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-r.exited:
			return fmt.Errorf("the registry exited")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the registry did not answer at %s within %s", r.URL(), timeout)
}
