// Package testenv gives tests the real parts they run against: a MinIO
// server on 127.0.0.1, and command-line tools such as openssl and the AWS
// CLI. A missing part fails the test: `make test` installs every part
// (scripts/test-deps). Skipping is an explicit opt-out, `go test -short`
// (`make test-short`), and then it is loud.
package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Missing fails a test that lacks a real part, or skips it loudly under
// -short (CI never runs -short).
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if !testing.Short() || os.Getenv("CI") != "" {
		t.Fatalf("MISSING TEST DEPENDENCY: %s (scripts/test-deps installs it; go test -short skips instead)", msg)
	}
	t.Skipf("\n*** SKIPPED under -short: %s ***\n*** (make test installs it and runs this test) ***", msg)
}

// Tool returns the path of a command-line tool, preferring the given
// candidate paths (e.g. Debian's /usr/bin/aws over a pip-installed one).
func Tool(t testing.TB, name string, prefer ...string) string {
	t.Helper()
	for _, p := range prefer {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s is not installed", name)
	}
	return p
}

// MinIOVersion is the MinIO module version the tests and CI build.
const MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIOBinary finds the minio binary: $PACKSTUDIO_MINIO, then PATH, then
// the cache .ci/run installs into.
func MinIOBinary() (string, error) {
	if p := os.Getenv("PACKSTUDIO_MINIO"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err == nil {
		p := filepath.Join(cache, "packstudio", "bin", "minio")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no minio binary: set PACKSTUDIO_MINIO or run: GOBIN=$HOME/.cache/packstudio/bin go install github.com/minio/minio@%s", MinIOVersion)
}

// MinIO is a running MinIO server.
type MinIO struct {
	Endpoint  string // http(s)://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	CACert    string // PEM file of the server's certificate, for TLS servers
	dir       string
	cmd       *exec.Cmd
	exited    chan struct{} // closed when the process has been waited for
	logs      *os.File
}

var (
	sharedMu sync.Mutex
	shared   = map[bool]*MinIO{} // by TLS
	started  []*MinIO
)

// SharedMinIO returns a MinIO server shared by the tests of this process,
// starting it on first use; StopAll (from TestMain) stops it. Tests keep
// apart by using buckets of their own.
func SharedMinIO(t testing.TB) *MinIO {
	return sharedServer(t, false)
}

// SharedMinIOTLS is SharedMinIO serving HTTPS with a self-signed
// certificate for 127.0.0.1 (m.CACert).
func SharedMinIOTLS(t testing.TB) *MinIO {
	return sharedServer(t, true)
}

func sharedServer(t testing.TB, tls bool) *MinIO {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if m := shared[tls]; m != nil {
		return m
	}
	// CI starts one server for the whole run and says where it is.
	if ep := os.Getenv("PACKSTUDIO_MINIO_ENDPOINT"); ep != "" && !tls {
		m := &MinIO{Endpoint: ep, AccessKey: os.Getenv("PACKSTUDIO_MINIO_ACCESS_KEY"), SecretKey: os.Getenv("PACKSTUDIO_MINIO_SECRET_KEY")}
		if err := m.wait(30 * time.Second); err != nil {
			t.Fatalf("the MinIO server CI started: %v", err)
		}
		shared[tls] = m
		return m
	}
	bin, err := MinIOBinary()
	if err != nil {
		Missing(t, "%v", err)
	}
	m, err := StartMinIO(bin, tls)
	if err != nil {
		t.Fatalf("starting MinIO: %v", err)
	}
	shared[tls] = m
	started = append(started, m)
	return m
}

// StopAll stops every server started through this package.
func StopAll() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for _, m := range started {
		m.Stop()
	}
	started = nil
	shared = map[bool]*MinIO{}
}

// StartMinIO starts a server with fresh credentials and an empty data
// directory, and waits until it answers.
func StartMinIO(bin string, tls bool) (*MinIO, error) {
	dir, err := os.MkdirTemp("", "packstudio-minio-")
	if err != nil {
		return nil, err
	}
	m := &MinIO{dir: dir, AccessKey: "ps" + randomHex(8), SecretKey: randomHex(20)}
	started := false
	defer func() {
		if !started {
			m.Stop() // removes dir, and the process if it was started
		}
	}()
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"server", filepath.Join(dir, "data"), "--address", addr, "--console-address", console, "--quiet"}
	scheme := "http"
	if tls {
		certs := filepath.Join(dir, "certs")
		if err := writeCert(certs); err != nil {
			return nil, err
		}
		args = append(args, "--certs-dir", certs)
		m.CACert = filepath.Join(certs, "public.crt")
		scheme = "https"
	}
	m.Endpoint = scheme + "://" + addr
	m.logs, _ = os.Create(filepath.Join(dir, "minio.log"))
	m.cmd = exec.Command(bin, args...)
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+m.AccessKey, "MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_SCANNER_SPEED=slowest")
	m.cmd.Stdout, m.cmd.Stderr = m.logs, m.logs
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	m.exited = make(chan struct{})
	go func() { m.cmd.Wait(); close(m.exited) }()
	if err := m.wait(30 * time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "minio.log"))
		return nil, fmt.Errorf("%v\n%s", err, log)
	}
	started = true
	return m, nil
}

func (m *MinIO) wait(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	if m.CACert != "" {
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(m.CACert)
		pool.AppendCertsFromPEM(pem)
		client.Transport = &http.Transport{TLSClientConfig: tlsConfig(pool)}
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := client.Get(m.Endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-m.exited:
			return fmt.Errorf("minio exited")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("minio did not answer at %s within %s", m.Endpoint, timeout)
}

// CPU returns the CPU time the server process has used so far (Linux),
// so that benchmarks can show where the time of a transfer goes.
func (m *MinIO) CPU() time.Duration { return processCPU(m.cmd) }

// processCPU is the CPU time (user plus system) a running process has used
// so far, from /proc (Linux); 0 when it cannot tell.
func processCPU(cmd *exec.Cmd) time.Duration {
	if cmd == nil || cmd.Process == nil {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// Stop kills the server and removes its data.
func (m *MinIO) Stop() {
	if m.exited != nil {
		m.cmd.Process.Kill()
		<-m.exited
	}
	if m.logs != nil {
		m.logs.Close()
	}
	os.RemoveAll(m.dir)
}

// Env returns the environment a client needs: credentials, a region, and
// for TLS servers AWS_CA_BUNDLE.
func (m *MinIO) Env() []string {
	env := []string{"AWS_ACCESS_KEY_ID=" + m.AccessKey, "AWS_SECRET_ACCESS_KEY=" + m.SecretKey, "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true"}
	if m.CACert != "" {
		env = append(env, "AWS_CA_BUNDLE="+m.CACert)
	}
	return env
}

// SetEnv puts the credentials into this process's environment, for
// in-process clients that use the SDK's default credential chain.
func (m *MinIO) SetEnv(t testing.TB) {
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Bucket returns the name of a fresh bucket for one test: unique, valid,
// and not yet created.
func Bucket(t testing.TB) string {
	name := strings.ToLower(t.Name())
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Trim(s, "-") + "-" + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// writeCert writes a self-signed certificate for 127.0.0.1 as MinIO wants
// it: certs/public.crt and certs/private.key.
func writeCert(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "packstudio test MinIO"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "public.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "private.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}
