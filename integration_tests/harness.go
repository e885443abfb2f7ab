//go:build integration

package integration_tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Deadlines of the harness.
const (
	// readyTimeout bounds the wait for a started node to answer GET /.
	readyTimeout = 60 * time.Second
	// exitTimeout bounds the wait for a node to exit after a signal.
	exitTimeout = 60 * time.Second
	// pollInterval is how often readiness and other conditions are polled.
	pollInterval = 10 * time.Millisecond
)

var build struct {
	once sync.Once
	dir  string // temporary directory of the binary; removed by TestMain
	bin  string
	err  error
}

// removeBinary removes the binary built by horaedbBinary; TestMain calls it.
func removeBinary() {
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
}

// horaedbBinary builds ./cmd/horaedb once per test binary and returns its
// path.
func horaedbBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			build.err = err
			return
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			build.err = fmt.Errorf("module root not found from %s: %w", root, err)
			return
		}
		if build.dir, build.err = os.MkdirTemp("", "horaedb-it-"); build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "horaedb")
		cmd := exec.Command("go", "build", "-o", build.bin, "./cmd/horaedb")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/horaedb: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// Ports are the listening ports of a node; all are free loopback ports.
type Ports struct {
	HTTP, GRPC, MySQL, PostgreSQL int
}

// freePorts asks the OS for n distinct free ports on 127.0.0.1. They are
// released before returning, so another process could take one in between;
// that is unlikely enough for tests.
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

// defaultConfig is the config of a test node: loopback only, free ports.
func defaultConfig(p Ports) string {
	return fmt.Sprintf(`[server]
bind_addr = "127.0.0.1"
http_port = %d
grpc_port = %d
mysql_port = %d
postgresql_port = %d

[logger]
level = "info"
`, p.HTTP, p.GRPC, p.MySQL, p.PostgreSQL)
}

// NodeOptions configure a test node.
type NodeOptions struct {
	// Config returns the config file's content for the given ports;
	// default defaultConfig. It must listen on Ports.HTTP on 127.0.0.1.
	Config func(p Ports) string
	// ExtraConfig is appended to the config.
	ExtraConfig string
	// ConfigOnly starts the process with --config alone, without
	// --data-dir: the config names the directories (under Node.DataDir).
	ConfigOnly bool
}

// Node is one horaedb process with its own data directory, config and log.
// Its methods must be called from the test's goroutine, except the HTTP
// helpers (SQL, Get, Post), which are safe for concurrent use.
type Node struct {
	t          testing.TB
	bin        string
	Dir        string // working directory of the process
	DataDir    string // --data-dir
	ConfigPath string
	Ports      Ports
	URL        string // http://127.0.0.1:<http port>
	logPath    string
	client     *http.Client

	configOnly bool // see NodeOptions.ConfigOnly

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	starts int
}

// NewNode prepares a node (binary, directories, config) without starting
// it. It is killed, if still running, when the test ends, and its log is
// written to the test output if the test failed.
func NewNode(t testing.TB, o NodeOptions) *Node {
	t.Helper()
	dir := t.TempDir()
	p := freePorts(t, 4)
	n := &Node{
		t:          t,
		bin:        horaedbBinary(t),
		Dir:        dir,
		DataDir:    filepath.Join(dir, "data"),
		ConfigPath: filepath.Join(dir, "horaedb.toml"),
		Ports:      Ports{HTTP: p[0], GRPC: p[1], MySQL: p[2], PostgreSQL: p[3]},
		logPath:    filepath.Join(dir, "horaedb.log"),
		client:     &http.Client{Timeout: 30 * time.Second},
		configOnly: o.ConfigOnly,
	}
	n.URL = fmt.Sprintf("http://127.0.0.1:%d", n.Ports.HTTP)
	cfg := defaultConfig
	if o.Config != nil {
		cfg = o.Config
	}
	if err := os.WriteFile(n.ConfigPath, []byte(cfg(n.Ports)+"\n"+o.ExtraConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n.running() {
			n.kill()
		}
		if t.Failed() {
			n.DumpLog()
		}
	})
	return n
}

// StartNode creates a node and starts it.
func StartNode(t testing.TB, o NodeOptions) *Node {
	t.Helper()
	n := NewNode(t, o)
	n.Start()
	return n
}

// Start starts the process with --config and --data-dir (only --config
// with NodeOptions.ConfigOnly) and waits until it answers GET /.
func (n *Node) Start() {
	n.t.Helper()
	if n.running() {
		n.t.Fatal("harness: Start: the node is running")
	}
	if n.configOnly {
		n.start("--config", n.ConfigPath)
	} else {
		n.start("--config", n.ConfigPath, "--data-dir", n.DataDir)
	}
	n.WaitReady()
}

// start starts the binary with args, its output appended to the log.
func (n *Node) start(args ...string) {
	n.t.Helper()
	n.starts++
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	_, _ = fmt.Fprintf(logf, "=== harness: start #%d: %s %s\n", n.starts, n.bin, strings.Join(args, " "))
	cmd := exec.Command(n.bin, args...)
	cmd.Dir = n.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		n.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	n.cmd, n.exited = cmd, exited
}

// WaitReady polls GET / until it answers {"status":"ok"}.
func (n *Node) WaitReady() {
	n.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		resp, err := client.Get(n.URL + "/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == `{"status":"ok"}` {
				return
			}
			err = fmt.Errorf("GET /: %d %s", resp.StatusCode, body)
		}
		last = err
		if time.Now().After(deadline) {
			n.t.Fatalf("harness: node not ready within %s: %v", readyTimeout, last)
		}
		select {
		case <-n.exited:
			n.t.Fatalf("harness: node exited before it was ready (%v)", n.cmd.ProcessState)
		case <-time.After(pollInterval):
		}
	}
}

func (n *Node) running() bool {
	if n.exited == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to exit: a crash.
func (n *Node) Kill() {
	n.t.Helper()
	if !n.running() {
		n.t.Fatal("harness: Kill: the node is not running")
	}
	n.kill()
}

func (n *Node) kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited // SIGKILL cannot be caught
}

// Stop sends SIGTERM, waits for the process to exit and fails the test
// unless it exits with status 0.
func (n *Node) Stop() {
	n.t.Helper()
	if !n.running() {
		n.t.Fatal("harness: Stop: the node is not running")
	}
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatal(err)
	}
	select {
	case <-n.exited:
	case <-time.After(exitTimeout):
		n.kill()
		n.t.Fatalf("harness: node did not exit within %s of SIGTERM", exitTimeout)
	}
	if code := n.cmd.ProcessState.ExitCode(); code != 0 {
		n.t.Fatalf("harness: node exited with status %d after SIGTERM", code)
	}
}

// Restart starts a stopped or killed node again on the same data directory
// and config.
func (n *Node) Restart() {
	n.t.Helper()
	n.Start()
}

// Log returns what the process wrote so far, across restarts.
func (n *Node) Log() string {
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// DumpLog writes the last lines of the log to the test output: enough to
// see how the process ended, short enough that a failing test's own
// messages are not buried (CI shows only part of the output).
func (n *Node) DumpLog() {
	const maxLines, maxBytes = 40, 8 << 10
	log := strings.TrimRight(n.Log(), "\n")
	lines := strings.Split(log, "\n")
	if len(lines) > maxLines {
		log = "…\n" + strings.Join(lines[len(lines)-maxLines:], "\n")
	}
	if len(log) > maxBytes {
		log = "…" + log[len(log)-maxBytes:]
	}
	n.t.Logf("%s log (%s), last lines:\n%s", filepath.Base(n.bin), n.logPath, log)
}

// SQL posts a statement to /sql as {"query": ...} and returns the status and
// body. err is set only when no response arrived.
func (n *Node) SQL(ctx context.Context, stmt string) (int, []byte, error) {
	body, err := json.Marshal(map[string]string{"query": stmt})
	if err != nil {
		return 0, nil, err
	}
	return n.Post(ctx, "/sql", body)
}

// MustSQL runs a statement and fails the test unless it answers 200.
func (n *Node) MustSQL(stmt string) []byte {
	n.t.Helper()
	code, body, err := n.SQL(context.Background(), stmt)
	if err != nil || code != 200 {
		n.t.Fatalf("%s: %d %s %v", stmt, code, body, err)
	}
	return body
}

// Post posts body to path.
func (n *Node) Post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", n.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return n.do(req)
}

// Get gets path.
func (n *Node) Get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", n.URL+path, nil)
	if err != nil {
		return 0, nil, err
	}
	return n.do(req)
}

func (n *Node) do(req *http.Request) (int, []byte, error) {
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, err
	}
	return resp.StatusCode, b, nil
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		<-time.After(pollInterval)
	}
}

// runBinary runs the binary to completion with args in dir and returns its
// combined output and exit code.
func runBinary(t testing.TB, dir string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, horaedbBinary(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee) && ctx.Err() == nil:
		return string(out), ee.ExitCode()
	}
	t.Fatalf("%s %v: %v\n%s", horaedbBinary(t), args, err, out)
	return "", -1
}

// CPUTime returns the user plus system CPU time the running process has
// used, read from /proc (Linux).
func (n *Node) CPUTime() time.Duration {
	n.t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
	if err != nil {
		n.t.Fatalf("harness: cpu time: %v", err)
	}
	// Fields after the command name (which is in parentheses): utime is
	// the 14th field of the line, stime the 15th, in clock ticks.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}
