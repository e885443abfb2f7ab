// Package miniotest starts a real MinIO server for tests: it finds the
// minio binary, runs "minio server" on free loopback ports in a temp dir
// with known credentials, waits until it answers, and stops it when the
// test ends.
//
// Where MinIO cannot be found or cannot start, Start skips the test with
// the reason, or fails it when HORAEDB_TEST_REQUIRE_SERVICES is set (.ci/run
// sets it, so a missing binary cannot pass silently).
//
// Install: make minio (about four minutes; .ci/run does it). Lookup order: $HORAEDB_MINIO, minio on $PATH,
// $(go env GOPATH)/bin/minio, <module root>/.cache/tools/minio.
package miniotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Credentials of the root user of every server started here.
const (
	AccessKey = "horaedbtest"
	SecretKey = "horaedbtest-secret"
	// Region is what clients should sign with (MinIO accepts any region
	// when none is configured; this is the conventional one).
	Region = "us-east-1"
	// Domain is MINIO_DOMAIN: MinIO also serves virtual-host style
	// requests for <bucket>.localhost:<port>.
	Domain = "localhost"
)

// Server is a running MinIO.
type Server struct {
	// Endpoint is "http://127.0.0.1:<port>".
	Endpoint string
	// Addr is "127.0.0.1:<port>".
	Addr string
	// Dir holds the data.
	Dir string

	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	once sync.Once
}

// Find returns the path of the minio binary, or an error saying where it
// looked.
func Find() (string, error) {
	var tried []string
	if p := os.Getenv("HORAEDB_MINIO"); p != "" {
		if isExec(p) {
			return p, nil
		}
		tried = append(tried, p+" ($HORAEDB_MINIO)")
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	tried = append(tried, "$PATH")
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "minio")
		if isExec(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, ".cache", "tools", "minio")
		if isExec(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("minio binary not found (tried %s); install it with "+
		"GOBIN=$PWD/.cache/tools go install github.com/minio/minio@latest", strings.Join(tried, ", "))
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// unavailable skips or, when HORAEDB_TEST_REQUIRE_SERVICES is set, fails the test.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := "MinIO UNAVAILABLE, S3 TESTS NOT RUN: " + fmt.Sprintf(format, args...)
	if os.Getenv("HORAEDB_TEST_REQUIRE_SERVICES") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// Start starts a MinIO server that is stopped when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Find()
	if err != nil {
		unavailable(tb, "%v", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken before minio binds it
		s, err := start(bin, tb.TempDir())
		if err == nil {
			tb.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	unavailable(tb, "cannot start %s: %v", bin, lastErr)
	return nil
}

func start(bin, dir string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{Endpoint: "http://" + addr, Addr: addr, Dir: dir, out: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "server", dir, "--address", addr, "--console-address", console, "--quiet")
	s.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+AccessKey,
		"MINIO_ROOT_PASSWORD="+SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
		"MINIO_DOMAIN="+Domain,
	)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait() // the exit status is in ProcessState
		close(s.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("minio exited: %v\n%s", s.cmd.ProcessState, s.out.String())
		default:
		}
		resp, err := client.Get(s.Endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("minio not ready after 30s: %v\n%s", err, s.out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 10s). Idempotent.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM) // fails only if it exited already
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// Output returns what the server printed so far.
func (s *Server) Output() string { return s.out.String() }

// Client returns an S3 client for the root user (path-style).
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
	})
}

// CreateBucket creates a bucket or fails the test.
func (s *Server) CreateBucket(tb testing.TB, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("create bucket %s: %v", name, err)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
