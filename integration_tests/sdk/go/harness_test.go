package sdk

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the horaedb binary TestMain builds from the repository.
var binary string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk test:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// run builds ./cmd/horaedb of the repository this module sits in into a
// temporary directory, then runs the tests.
func run(m *testing.M) (int, error) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		return 0, err
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil ||
		!strings.HasPrefix(string(b), "module github.com/horaego/horaedb\n") {
		return 0, fmt.Errorf("%s is not the repository root: %v", root, err)
	}
	dir, err := os.MkdirTemp("", "horaedb-sdk-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "horaedb")
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/horaedb")
	cmd.Dir = root
	// The repository's own module settings, not this module's.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GONOSUMDB=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build ./cmd/horaedb: %v\n%s", err, out)
	}
	return m.Run(), nil
}

// node is a running horaedb process on free loopback ports.
type node struct {
	t        testing.TB
	httpURL  string
	grpcAddr string
	logPath  string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// startNode starts horaedb on free ports; see startNodeOn.
func startNode(t testing.TB, extra string) *node {
	t.Helper()
	return startNodeOn(t, freePorts(t, 4), extra)
}

// startNodeOn starts horaedb with its data in a temporary directory,
// serving HTTP, gRPC, MySQL and PostgreSQL on ports[0..3]; extra is
// appended to the [server] section of its config (and may open further
// sections). The process is stopped when the test ends and its log printed
// if the test failed.
func startNodeOn(t testing.TB, ports []int, extra string) *node {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`[node]
addr = "127.0.0.1"

[server]
bind_addr = "127.0.0.1"
http_port = %d
grpc_port = %d
mysql_port = %d
postgresql_port = %d
%s

[logger]
level = "info"
`, ports[0], ports[1], ports[2], ports[3], extra)
	cfgPath := filepath.Join(dir, "horaedb.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &node{
		t:        t,
		httpURL:  fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		grpcAddr: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		logPath:  filepath.Join(dir, "horaedb.log"),
		exited:   make(chan struct{}),
	}
	logf, err := os.Create(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(binary, "--config", cfgPath, "--data-dir", filepath.Join(dir, "data"))
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	if err := n.cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	go func() {
		_ = n.cmd.Wait()
		logf.Close()
		close(n.exited)
	}()
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			b, _ := os.ReadFile(n.logPath)
			t.Logf("horaedb log:\n%s", b)
		}
	})
	n.waitReady()
	return n
}

// waitReady polls GET / until the node answers, then the gRPC port until it
// accepts.
func (n *node) waitReady() {
	n.t.Helper()
	deadline := time.Now().Add(time.Minute)
	client := &http.Client{Timeout: time.Second}
	for {
		var err error
		var resp *http.Response
		if resp, err = client.Get(n.httpURL + "/"); err == nil {
			resp.Body.Close()
			var c net.Conn
			if c, err = net.DialTimeout("tcp", n.grpcAddr, time.Second); err == nil {
				c.Close()
				return
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("horaedb not ready within a minute: %v", err)
		}
		select {
		case <-n.exited:
			n.t.Fatalf("horaedb exited before it was ready: %v", n.cmd.ProcessState)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop asks the node to shut down (SIGTERM) and kills it after 30s.
func (n *node) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.t.Errorf("horaedb did not stop within 30s of SIGTERM; killing it")
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}

// metric returns the value of one sample of GET /metrics, "" when absent.
func (n *node) metric(t testing.TB, sample string) string {
	t.Helper()
	resp, err := http.Get(n.httpURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return ""
}

// freePorts asks the OS for n distinct free loopback ports.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
