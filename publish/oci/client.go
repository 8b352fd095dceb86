package oci

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/packstudio/packstudio/internal/tree"
)

// Conn says how to reach and log in to a registry.
type Conn struct {
	// Username and Password, when Username is set, are used for the
	// target's host; otherwise credentials come from the docker/podman
	// auth files (AuthFile, else $REGISTRY_AUTH_FILE, the podman default
	// and ~/.docker/config.json).
	Username, Password string
	AuthFile           string
	// CAFile adds a PEM bundle to the system roots (which honour
	// SSL_CERT_FILE and SSL_CERT_DIR).
	CAFile string
	// PlainHTTP talks HTTP instead of HTTPS; only when asked.
	PlainHTTP bool
	// Getenv reads the environment (REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR);
	// nil is os.Getenv.
	Getenv func(string) string
	// Jobs sizes the connection pool.
	Jobs int
}

// registry is a connected target: one authenticated client for every
// repository under it.
type registry struct {
	target Target
	client *auth.Client
	plain  bool
}

func (c Conn) getenv(k string) string {
	if c.Getenv != nil {
		return c.Getenv(k)
	}
	return os.Getenv(k)
}

// connect builds the client; it sends nothing yet.
func connect(t Target, c Conn) (*registry, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, &tree.TargetError{Target: c.CAFile, Reason: fmt.Sprintf("--ca-file: %v", errors.Unwrap(err))}
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, &tree.TargetError{Target: c.CAFile, Reason: "--ca-file holds no PEM certificate"}
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	tr.MaxIdleConnsPerHost = max(c.Jobs, 8)
	tr.ResponseHeaderTimeout = time.Minute
	cred, err := c.credential(t)
	if err != nil {
		return nil, err
	}
	client := &auth.Client{
		Client:     &http.Client{Transport: retry.NewTransport(tr)},
		Credential: cred,
		Cache:      auth.NewCache(),
	}
	client.SetUserAgent("packstudio")
	return &registry{target: t, client: client, plain: c.PlainHTTP}, nil
}

// credential chooses where the login comes from: the flags, else the
// standard auth files.
func (c Conn) credential(t Target) (auth.CredentialFunc, error) {
	if c.Username != "" {
		return auth.StaticCredential(t.Host, auth.Credential{Username: c.Username, Password: c.Password}), nil
	}
	var stores []credentials.Store
	files := []string{c.AuthFile, c.getenv("REGISTRY_AUTH_FILE")}
	if run := c.getenv("XDG_RUNTIME_DIR"); run != "" {
		files = append(files, filepath.Join(run, "containers", "auth.json"))
	}
	for _, f := range files {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			if f == c.AuthFile {
				return nil, &tree.TargetError{Target: f, Reason: "auth file: " + err.Error()}
			}
			continue
		}
		s, err := credentials.NewStore(f, credentials.StoreOptions{})
		if err != nil {
			return nil, &tree.TargetError{Target: f, Reason: "auth file: " + err.Error()}
		}
		stores = append(stores, s)
	}
	if s, err := credentials.NewStoreFromDocker(credentials.StoreOptions{}); err == nil {
		stores = append(stores, s)
	}
	if len(stores) == 0 {
		return auth.StaticCredential(t.Host, auth.EmptyCredential), nil
	}
	return credentials.Credential(credentials.NewStoreWithFallbacks(stores[0], stores[1:]...)), nil
}

// repository opens one repository (name under the prefix).
func (r *registry) repository(name string) (*remote.Repository, error) {
	repo, err := remote.NewRepository(r.target.Host + "/" + r.target.repo(name))
	if err != nil {
		return nil, &tree.TargetError{Target: r.target.String(), Reason: err.Error()}
	}
	repo.Client = r.client
	repo.PlainHTTP = r.plain
	return repo, nil
}

// AccessError is a registry refusing our credentials (401) or the access
// they give (403) to one repository.
type AccessError struct {
	Registry, Repository string
	Status               int
	Err                  error
}

func (e *AccessError) Error() string {
	what := "refused the credentials"
	if e.Status == http.StatusForbidden {
		what = "denied access"
	}
	return fmt.Sprintf("registry %s %s for repository %s (HTTP %d); log in with --username and --password-stdin, or put the login in ~/.docker/config.json or $REGISTRY_AUTH_FILE (docker login / podman login)",
		e.Registry, what, e.Repository, e.Status)
}

func (e *AccessError) Unwrap() error { return e.Err }

// explain turns a registry's 401/403 into an AccessError naming the
// registry and repository; other errors are wrapped with the reference.
func (r *registry) explain(repo, ref string, err error) error {
	if err == nil {
		return nil
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
		return &AccessError{Registry: r.target.Host, Repository: r.target.repo(repo), Status: resp.StatusCode, Err: err}
	}
	return fmt.Errorf("%s/%s:%s: %w", r.target.Host, r.target.repo(repo), ref, err)
}
