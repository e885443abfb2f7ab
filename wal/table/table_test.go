package table

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"

	"github.com/horaego/horaedb/wal"
	"github.com/horaego/horaedb/wal/table/mariadbtest"
	"github.com/horaego/horaedb/wal/waltest"
)

// The tests share one MariaDB server, started by TestMain in a temporary
// directory; each test uses databases of its own.
var (
	server    *mariadbtest.Server
	serverErr error
	dbSeq     atomic.Int64
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wal-table-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server, serverErr = mariadbtest.Start(dir, 0)
	code := m.Run()
	if server != nil {
		_ = server.Close()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// needDB returns the shared server: it skips the test, loudly, when MariaDB
// is not installed, and fails it when it is but did not start.
func needDB(t testing.TB) *mariadbtest.Server {
	t.Helper()
	if errors.Is(serverErr, mariadbtest.ErrNotFound) {
		t.Skipf("SKIPPING the table-store WAL test: %v", serverErr)
	}
	if serverErr != nil {
		t.Fatalf("MariaDB did not start: %v", serverErr)
	}
	return server
}

// newDSN returns the DSN of a database no other test uses.
func newDSN(t testing.TB) string {
	s := needDB(t)
	return s.DSN(fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1)))
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// testMaxEntrySize is smaller than the default so that the suite's "too
// large" case stays cheap; the large-entry case still writes 8 MiB.
const testMaxEntrySize = 9 << 20

func testOptions(dsn string) Options {
	return Options{
		DSN:          dsn,
		Logger:       testLogger(),
		MaxEntrySize: testMaxEntrySize,
		Buckets:      4,
	}
}

func openT(t testing.TB, opts Options) *WAL {
	t.Helper()
	w, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func TestConformance(t *testing.T) {
	needDB(t)
	waltest.Run(t, func(t *testing.T) waltest.Harness {
		dsn := newDSN(t)
		return waltest.Harness{
			Open: func(t *testing.T) wal.WAL {
				w := openT(t, testOptions(dsn))
				if w.MaxEntrySize() != testMaxEntrySize {
					t.Fatalf("MaxEntrySize %d, want %d (max_allowed_packet too small?)", w.MaxEntrySize(), testMaxEntrySize)
				}
				return w
			},
			// A crash cuts the WAL's connections: the server rolls back
			// every transaction not committed, keeps the committed ones.
			Crash: func(t *testing.T, w wal.WAL) {
				w.(*WAL).crash()
			},
			MaxEntrySize: testMaxEntrySize,
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(o *Options)
		ok   bool
	}{
		{"defaults", func(*Options) {}, true},
		{"no DSN", func(o *Options) { o.DSN = "" }, false},
		{"bad namespace", func(o *Options) { o.Namespace = "wal-1" }, false},
		{"long namespace", func(o *Options) { o.Namespace = "abcdefghijklmnopqrstuvwxyz0123456789" }, false},
		{"buckets", func(o *Options) { o.Buckets = 5000 }, false},
		{"negative ttl", func(o *Options) { o.TTL = -1 }, false},
		{"negative retries", func(o *Options) { o.CreateTableRetries = -1 }, false},
		{"entry size", func(o *Options) { o.MaxEntrySize = 2 << 30 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{DSN: "u@tcp(h:1)/db"}
			tc.edit(&o)
			o.EnsureDefaults()
			if err := o.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
