//go:build integration

package integration_tests

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/horaego/horaedb/wal/table/mariadbtest"
)

// The services a remote WAL lives in, as processes the tests kill and
// restart: a Kafka broker (franz-go's kfake, wal/kafka/internal/kfakebroker)
// and MariaDB (wal/table/mariadbtest).

// walService is a WAL's backing service running as a process.
type walService interface {
	// Name names it in messages.
	Name() string
	// NodeConfig is the [analytic.wal] section of a node that uses it.
	NodeConfig() string
	// Kill sends SIGKILL and waits for the process to exit.
	Kill(t testing.TB)
	// Restart starts it again on the same port and data, and waits until
	// it answers.
	Restart(t testing.TB)
}

var kfakeBuild struct {
	once sync.Once
	bin  string
	err  error
}

// kfakeBinary builds wal/kafka/internal/kfakebroker once, next to the
// horaedb binary (removed with it by TestMain).
func kfakeBinary(t testing.TB) string {
	t.Helper()
	horaedbBinary(t) // creates build.dir
	kfakeBuild.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			kfakeBuild.err = err
			return
		}
		kfakeBuild.bin = filepath.Join(build.dir, "kfakebroker")
		cmd := exec.Command("go", "build", "-o", kfakeBuild.bin, "./wal/kafka/internal/kfakebroker")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			kfakeBuild.err = fmt.Errorf("go build ./wal/kafka/internal/kfakebroker: %v\n%s", err, out)
		}
	})
	if kfakeBuild.err != nil {
		t.Fatal(kfakeBuild.err)
	}
	return kfakeBuild.bin
}

// kafkaBroker is a kfakebroker process with a data directory, fsyncing
// every produced batch, on a fixed loopback port.
type kafkaBroker struct {
	t       testing.TB
	bin     string
	dir     string
	port    int
	logPath string

	cmd    *exec.Cmd
	exited chan struct{}
}

func startKafkaBroker(t testing.TB) *kafkaBroker {
	t.Helper()
	dir := t.TempDir()
	b := &kafkaBroker{t: t, bin: kfakeBinary(t), dir: dir, port: freePorts(t, 1)[0], logPath: filepath.Join(dir, "kfakebroker.log")}
	b.Restart(t)
	t.Cleanup(func() {
		if b.running() {
			_ = b.cmd.Process.Signal(syscall.SIGKILL)
			<-b.exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(b.logPath)
			t.Logf("kfakebroker log:\n%s", log)
		}
	})
	return b
}

func (b *kafkaBroker) Name() string { return "Kafka broker" }

func (b *kafkaBroker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

// NodeConfig uses the deployment guide's spelling of the broker, and
// shorter retry intervals than the defaults (1s to 10s) so that the node
// notices the broker's return quickly.
func (b *kafkaBroker) NodeConfig() string {
	return fmt.Sprintf(`
[analytic.wal]
type = "Kafka"

[analytic.wal.kafka]
init_retry_interval = "100ms"
max_retry_interval = "1s"

[analytic.wal.kafka.client]
boost_broker = %q
`, b.Addr())
}

func (b *kafkaBroker) running() bool {
	if b.exited == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

func (b *kafkaBroker) Restart(t testing.TB) {
	t.Helper()
	if b.running() {
		t.Fatal("kafka broker: Restart while running")
	}
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(b.bin, "-port", fmt.Sprint(b.port), "-data-dir", filepath.Join(b.dir, "data"))
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if strings.HasPrefix(sc.Text(), "listening on ") {
				select {
				case ready <- sc.Text():
				default:
				}
			}
		}
	}()
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	b.cmd, b.exited = cmd, exited
	select {
	case <-ready:
	case <-exited:
		log, _ := os.ReadFile(b.logPath)
		t.Fatalf("kafka broker exited before listening:\n%s", log)
	case <-time.After(readyTimeout):
		t.Fatalf("kafka broker not listening within %s", readyTimeout)
	}
}

func (b *kafkaBroker) Kill(t testing.TB) {
	t.Helper()
	if !b.running() {
		t.Fatal("kafka broker: Kill while not running")
	}
	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.exited
}

// mariaDB is a MariaDB server process; the tests skip, saying why, where
// MariaDB is not installed (CI installs it).
type mariaDB struct {
	srv *mariadbtest.Server
}

func startMariaDB(t testing.TB) *mariaDB {
	t.Helper()
	srv, err := mariadbtest.Start(t.TempDir(), 0)
	if errors.Is(err, mariadbtest.ErrNotFound) {
		t.Skipf("SKIPPING: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mariadbd log:\n%s", srv.Log())
		}
		_ = srv.Close()
	})
	return &mariaDB{srv: srv}
}

func (m *mariaDB) Name() string { return "MariaDB" }

func (m *mariaDB) NodeConfig() string {
	return fmt.Sprintf(`
[analytic.wal]
type = "Table"
dsn = %q
`, m.srv.DSN("horaedb"))
}

func (m *mariaDB) Kill(t testing.TB) {
	t.Helper()
	if err := m.srv.Kill(); err != nil {
		t.Fatal(err)
	}
}

func (m *mariaDB) Restart(t testing.TB) {
	t.Helper()
	if err := m.srv.Restart(); err != nil {
		t.Fatal(err)
	}
}
