package local

import (
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/horaego/horaedb/wal"
	"github.com/horaego/horaedb/wal/waltest"
)

// testLogger shows warnings and errors of the WAL and Pebble on stderr.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openT(t *testing.T, dir string, opts Options) *WAL {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// testMaxEntrySize is smaller than the default so that the suite's "too
// large" case stays cheap; the large-entry case still writes 8 MiB.
const testMaxEntrySize = 9 << 20

func TestConformanceDisk(t *testing.T) {
	waltest.Run(t, func(t *testing.T) waltest.Harness {
		dir := t.TempDir()
		return waltest.Harness{
			Open: func(t *testing.T) wal.WAL {
				return openT(t, dir, Options{MaxEntrySize: testMaxEntrySize})
			},
			MaxEntrySize: testMaxEntrySize,
		}
	})
}

// memHarness keeps the store in a crashable in-memory file system. Crash
// takes the file system as a crash would leave it: everything synced, and
// some of what was not.
func memHarness(t *testing.T) waltest.Harness {
	fs := vfs.NewCrashableMem()
	rng := rand.New(rand.NewPCG(uint64(len(t.Name())), 42))
	return waltest.Harness{
		Open: func(t *testing.T) wal.WAL {
			return openT(t, "wal", Options{FS: fs, MaxEntrySize: testMaxEntrySize})
		},
		Crash: func(t *testing.T, w wal.WAL) {
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rng})
			// Whatever w does from now on does not reach crashed.
			_ = w.Close()
			fs = crashed
		},
		MaxEntrySize: testMaxEntrySize,
	}
}

func TestConformanceMem(t *testing.T) {
	waltest.Run(t, memHarness)
}

func TestStats(t *testing.T) {
	w := openT(t, t.TempDir(), Options{})
	l, err := w.OpenLog(t.Context(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(t.Context(), []wal.Entry{{TableID: 1, Payload: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	s := w.Stats()
	for _, want := range []string{"backend: local", "shard 3: next_sequence 2", "tables 1 live 0 dropped", "pebble:"} {
		if !strings.Contains(s, want) {
			t.Errorf("stats lack %q:\n%s", want, s)
		}
	}
}
