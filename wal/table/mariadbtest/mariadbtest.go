// Package mariadbtest runs MariaDB servers for tests: it finds mariadbd,
// initializes a data directory, starts the server on a loopback port with
// its own socket and log, waits until it answers, and stops, kills and
// restarts it. The table-store WAL's tests and the integration tests use
// it; CI installs Debian's mariadb-server (not started by apt) for them.
//
// The servers run with --skip-grant-tables (any user, no password) and
// MariaDB's durable defaults (innodb_flush_log_at_trx_commit=1), so a test
// can SIGKILL one and count what survived.
package mariadbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// StartTimeout bounds the wait for a started server to answer.
const StartTimeout = 60 * time.Second

// ErrNotFound means no MariaDB server binary was found.
var ErrNotFound = errors.New("mariadbtest: mariadbd not found (on PATH or in /usr/sbin, /usr/libexec, /usr/local/bin); " +
	"install Debian's mariadb-server (.ci/run does)")

// RequireEnv, when set in the environment (CI sets it), turns a missing
// server into a plain error, so tests fail instead of skipping.
const RequireEnv = "HORAEDB_TEST_REQUIRE_SERVICES"

// Find returns the path of the MariaDB server binary, or ErrNotFound
// (unless RequireEnv is set: then an error tests do not skip on).
func Find() (string, error) {
	for _, name := range []string{"mariadbd", "mysqld"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/libexec", "/usr/local/bin", "/usr/local/sbin"} {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p, nil
			}
		}
	}
	if os.Getenv(RequireEnv) != "" {
		return "", fmt.Errorf("%s is set: %s", RequireEnv, ErrNotFound.Error())
	}
	return "", ErrNotFound
}

// findInstallDB returns the path of mariadb-install-db.
func findInstallDB(server string) (string, error) {
	for _, name := range []string{"mariadb-install-db", "mysql_install_db"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/bin", "/usr/local/bin", filepath.Dir(server), filepath.Join(filepath.Dir(server), "../bin")} {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("mariadbtest: mariadb-install-db not found next to %s", server)
}

// Server is one mariadbd process with its own data directory and port.
type Server struct {
	// Dir holds the data directory (Dir/data), the log and the pid file.
	Dir string
	// Port is the TCP port on 127.0.0.1.
	Port int

	bin    string
	socket string
	args   []string // extra server arguments

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start initializes dir if it holds no data directory yet and starts a
// server on port (0: a free one), with extra mariadbd arguments. It waits
// until the server answers.
func Start(dir string, port int, extra ...string) (*Server, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	s := &Server{
		Dir:  dir,
		Port: port,
		bin:  bin,
		// Unix socket paths are short (108 bytes); test directories are
		// not.
		socket: filepath.Join(os.TempDir(), fmt.Sprintf("mariadbtest-%d-%d.sock", os.Getpid(), port)),
		args:   extra,
	}
	if err := s.install(); err != nil {
		return nil, err
	}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.Dir, "data") }

// LogPath is the server's error log.
func (s *Server) LogPath() string { return filepath.Join(s.Dir, "mariadbd.log") }

func (s *Server) install() error {
	if _, err := os.Stat(filepath.Join(s.dataDir(), "mysql")); err == nil {
		return nil
	}
	tool, err := findInstallDB(s.bin)
	if err != nil {
		return err
	}
	args := []string{"--no-defaults", "--datadir=" + s.dataDir(), "--auth-root-authentication-method=normal",
		"--skip-test-db"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(tool, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mariadbtest: %s: %v\n%s", tool, err, out)
	}
	return nil
}

// Restart starts the server on its data directory and port (after Stop or
// Kill) and waits until it answers.
func (s *Server) Restart() error {
	s.mu.Lock()
	if s.runningLocked() {
		s.mu.Unlock()
		return errors.New("mariadbtest: Restart: the server is running")
	}
	logf, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	args := []string{
		"--no-defaults",
		"--datadir=" + s.dataDir(),
		"--socket=" + s.socket,
		"--port=" + strconv.Itoa(s.Port),
		"--bind-address=127.0.0.1",
		"--skip-grant-tables",
		"--skip-name-resolve",
		"--pid-file=" + filepath.Join(s.Dir, "mariadbd.pid"),
		"--log-error=" + s.LogPath(),
		"--innodb-buffer-pool-size=128M",
		"--max-allowed-packet=64M",
		"--max-connections=500",
		"--performance-schema=OFF",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the test process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.mu.Unlock()
		return fmt.Errorf("mariadbtest: start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return s.waitReady(exited)
}

// waitReady polls the server until it answers a query.
func (s *Server) waitReady(exited chan struct{}) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", s.Addr()
	cfg.Timeout = time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	deadline := time.Now().Add(StartTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbtest: server on port %d not ready within %s: %v\n%s", s.Port, StartTimeout, err, s.tail())
		}
		select {
		case <-exited:
			return fmt.Errorf("mariadbtest: server exited before it was ready:\n%s", s.tail())
		case <-tick.C:
		}
	}
}

// tail returns the end of the server's log.
func (s *Server) tail() string {
	b, _ := os.ReadFile(s.LogPath())
	if len(b) > 4<<10 {
		b = b[len(b)-4<<10:]
	}
	return string(b)
}

// Addr is "127.0.0.1:<port>".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// DSN returns a go-sql-driver/mysql DSN of database db on the server.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("root@tcp(%s)/%s", s.Addr(), db)
}

// Running reports whether the process is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runningLocked()
}

func (s *Server) runningLocked() bool {
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to exit: a crash.
func (s *Server) Kill() error { return s.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for the process to exit: a clean shutdown.
func (s *Server) Stop() error { return s.signal(syscall.SIGTERM) }

// Pause stops the process (SIGSTOP): it keeps its connections but answers
// nothing, like a hung host. Resume continues it.
func (s *Server) Pause() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	running := s.runningLocked()
	s.mu.Unlock()
	if !running {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot act on SIGTERM
	if err := cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case <-exited:
		return nil
	case <-time.After(StartTimeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("mariadbtest: server did not exit within %s of %s", StartTimeout, sig)
	}
}

// Close stops the server and removes its socket.
func (s *Server) Close() error {
	err := s.Stop()
	_ = os.Remove(s.socket)
	return err
}

// Log returns the server's log.
func (s *Server) Log() string {
	b, err := os.ReadFile(s.LogPath())
	if err != nil {
		return err.Error()
	}
	return strings.TrimSpace(string(b))
}
