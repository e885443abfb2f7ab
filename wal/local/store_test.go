package local

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/wal"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func openLogT(t *testing.T, w *WAL, shard uint32) *Log {
	t.Helper()
	l, err := w.OpenLog(t.Context(), shard)
	if err != nil {
		t.Fatalf("OpenLog(%d): %v", shard, err)
	}
	return l.(*Log)
}

func mustAppend(t *testing.T, l *Log, entries ...wal.Entry) uint64 {
	t.Helper()
	first, err := l.Append(t.Context(), entries)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return first
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// openRaw opens the Pebble store under a WAL, which must be closed.
func openRaw(t *testing.T, fs vfs.FS, dir string) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{FS: fs, Logger: pebbleLogger{slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatalf("open raw store: %v", err)
	}
	return db
}

// dumpStore describes every key of a closed WAL store, one per line, with
// its bytes split by field.
func dumpStore(t *testing.T, fs vfs.FS, dir string) string {
	t.Helper()
	db := openRaw(t, fs, dir)
	defer db.Close()
	it, err := db.NewIter(nil)
	must(t, err)
	defer it.Close()
	var b strings.Builder
	for valid := it.First(); valid; valid = it.Next() {
		fmt.Fprintln(&b, describeKV(it.Key(), it.Value()))
	}
	must(t, it.Error())
	return b.String()
}

func describeKV(k, v []byte) string {
	switch {
	case len(k) == 1 && k[0] == prefixVersion:
		return fmt.Sprintf("%x = %x    format version %d", k, v, v[0])
	case k[0] == prefixData:
		shard, seq, err := decodeDataKey(k)
		if err != nil {
			return fmt.Sprintf("%x = %x    %v", k, v, err)
		}
		table, payload, err := decodeValue(v)
		if err != nil {
			return fmt.Sprintf("%x = %x    %v", k, v, err)
		}
		n := len(v) - len(payload)
		fields := fmt.Sprintf("%x %x", v[:1], v[1:n])
		if len(payload) > 0 {
			fields += fmt.Sprintf(" %x", payload)
		}
		return fmt.Sprintf("%x %x %x = %s    data: shard %d seq %d, table %d payload %q",
			k[:1], k[1:5], k[5:], fields, shard, seq, table, payload)
	case k[0] == prefixMark:
		shard, table, err := decodeMarkKey(k)
		if err != nil {
			return fmt.Sprintf("%x = %x    %v", k, v, err)
		}
		m, err := decodeMark(v)
		if err != nil {
			return fmt.Sprintf("%x = %x    %v", k, v, err)
		}
		return fmt.Sprintf("%x %x %x = %x %x    mark: shard %d table %d, below %d dropped %t",
			k[:1], k[1:5], k[5:], v[:1], v[1:], shard, table, m.below, m.dropped)
	case k[0] == prefixFloor && len(k) == floorKeyLen:
		floor, err := decodeFloor(v)
		if err != nil {
			return fmt.Sprintf("%x = %x    %v", k, v, err)
		}
		return fmt.Sprintf("%x %x = %x    floor: shard %d, %d", k[:1], k[1:], v, binary.BigEndian.Uint32(k[1:]), floor)
	}
	return fmt.Sprintf("%x = %x    unknown", k, v)
}

// TestFormat writes a scripted history and compares the store's keys, after
// each step, with testdata/format.golden (go test -run TestFormat -update
// rewrites it). FORMAT.md quotes it.
func TestFormat(t *testing.T) {
	fs := vfs.NewMem()
	var out strings.Builder
	step := func(name string, do func(l7, l1 *Log)) {
		w := openT(t, "wal", Options{FS: fs})
		do(openLogT(t, w, 7), openLogT(t, w, 1))
		must(t, w.Close())
		fmt.Fprintf(&out, "# %s\n%s\n", name, dumpStore(t, fs, "wal"))
	}
	ctx := t.Context()
	step("appends: shard 7 gets seqs 1-4, shard 1 seq 1; marks register tables", func(l7, l1 *Log) {
		mustAppend(t, l7, entry(42, "a"), entry(43, "b"), entry(42, "c"))
		mustAppend(t, l7, wal.Entry{TableID: 300})
		mustAppend(t, l1, entry(42, "other shard"))
	})
	step("Truncate(42, 3), DropTable(43), Truncate(43, 5): no data deleted, table 300 holds the watermark at 0", func(l7, _ *Log) {
		must(t, l7.Truncate(ctx, 42, 3))
		must(t, l7.DropTable(ctx, 43))
		must(t, l7.Truncate(ctx, 43, 5)) // no-op on a dropped table
	})
	step("Truncate(300, 5): watermark 3, seqs 1-2 deleted, floor 5", func(l7, _ *Log) {
		must(t, l7.Truncate(ctx, 300, 5))
	})
	step("Truncate(42, 5): watermark 5, all data deleted, dropped table 43 forgotten", func(l7, _ *Log) {
		must(t, l7.Truncate(ctx, 42, 5))
	})
	step("reopened: shard 7 continues at 5", func(l7, _ *Log) {
		if got := l7.NextSequence(); got != 5 {
			t.Errorf("NextSequence after reopen = %d, want 5", got)
		}
		mustAppend(t, l7, entry(43, "back"))
	})

	golden := filepath.Join("testdata", "format.golden")
	if *update {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(golden, []byte(out.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	must(t, err)
	if out.String() != string(want) {
		t.Errorf("store contents differ from %s (rerun with -update if intended):\n%s", golden, out.String())
	}
}

func entry(table uint64, payload string) wal.Entry {
	return wal.Entry{TableID: table, Payload: []byte(payload)}
}

// TestFloorPersisted checks that NextSequence survives a reopen when every
// data key is gone, through the floor alone.
func TestFloorPersisted(t *testing.T) {
	fs := vfs.NewMem()
	w := openT(t, "wal", Options{FS: fs})
	l := openLogT(t, w, 3)
	for range 10 {
		mustAppend(t, l, entry(1, "x"))
	}
	must(t, l.Truncate(t.Context(), 1, 11))
	must(t, w.Close())

	db := openRaw(t, fs, "wal")
	lo, hi := shardSpan(prefixData, 3)
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	must(t, err)
	if it.First() {
		t.Errorf("data key %x left after truncating everything", it.Key())
	}
	must(t, it.Close())
	v, closer, err := db.Get(floorKey(3))
	must(t, err)
	floor, err := decodeFloor(v)
	must(t, err)
	must(t, closer.Close())
	if floor != 11 {
		t.Errorf("floor = %d, want 11", floor)
	}
	must(t, db.Close())

	w = openT(t, "wal", Options{FS: fs})
	if got := openLogT(t, w, 3).NextSequence(); got != 11 {
		t.Errorf("NextSequence after reopen = %d, want 11", got)
	}
}

// TestGroupCommit holds one commit in its fsync, queues more appends
// meanwhile and checks that they all go into the next batch: one fsync.
func TestGroupCommit(t *testing.T) {
	const waiting = 10
	fs := &hookFS{FS: vfs.NewMem()}
	w := openT(t, "wal", Options{FS: fs})
	l := openLogT(t, w, 1)
	l2 := openLogT(t, w, 2)
	mustAppend(t, l, entry(1, "warm up"))

	inSync := make(chan struct{}, 1)
	release := make(chan struct{})
	fs.setHook(func(string) error {
		select {
		case inSync <- struct{}{}:
		default:
		}
		<-release
		return nil
	})
	syncsBefore := w.c.syncs.Load()
	var wg sync.WaitGroup
	firsts := make([]uint64, waiting+1)
	appendAsync := func(i int, l *Log, entries ...wal.Entry) {
		wg.Go(func() {
			first, err := l.Append(t.Context(), entries)
			if err != nil {
				t.Errorf("Append: %v", err)
			}
			firsts[i] = first
		})
	}
	appendAsync(0, l, entry(1, "held in fsync"))
	<-inSync
	for i := 1; i <= waiting; i++ {
		lg := l
		if i%2 == 0 {
			lg = l2 // group commit spans shards
		}
		appendAsync(i, lg, entry(1, fmt.Sprint(i)), entry(2, fmt.Sprint(i)))
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.queued() < waiting {
		if time.Now().After(deadline) {
			t.Fatalf("only %d appends queued", w.queued())
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	fs.setHook(nil)

	if got := w.c.syncs.Load() - syncsBefore; got != 2 {
		t.Errorf("%d fsyncs for 1 held + %d queued appends, want 2", got, waiting)
	}
	if firsts[0] != 2 {
		t.Errorf("held append got %d, want 2", firsts[0])
	}
	if got, want := l.NextSequence(), uint64(2+1+waiting); got != want {
		t.Errorf("shard 1 NextSequence = %d, want %d", got, want)
	}
	if got, want := l2.NextSequence(), uint64(1+waiting); got != want {
		t.Errorf("shard 2 NextSequence = %d, want %d", got, want)
	}
}

// queued returns the number of requests waiting for the committer.
func (w *WAL) queued() int {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return len(w.c.mu.queue)
}

// TestNoOpTruncationsDoNotSync checks that truncations that change nothing
// cost no commit.
func TestNoOpTruncationsDoNotSync(t *testing.T) {
	w := openT(t, "wal", Options{FS: vfs.NewMem()})
	l := openLogT(t, w, 1)
	mustAppend(t, l, entry(1, "a"), entry(2, "b"))
	must(t, l.Truncate(t.Context(), 1, 2))
	must(t, l.DropTable(t.Context(), 2))
	before := w.c.syncs.Load()
	must(t, l.Truncate(t.Context(), 1, 1))  // lower mark
	must(t, l.Truncate(t.Context(), 9, 2))  // unknown table
	must(t, l.Truncate(t.Context(), 2, 3))  // dropped table
	must(t, l.DropTable(t.Context(), 2))    // dropped again
	must(t, l.DropTable(t.Context(), 1234)) // unknown table
	if got := w.c.syncs.Load() - before; got != 0 {
		t.Errorf("%d fsyncs for no-op truncations, want 0", got)
	}
}

// TestFailedSync fails the WAL fsync of a commit: the append fails with
// ErrUnavailable, nothing is published, and the WAL refuses work until it
// is opened again.
func TestFailedSync(t *testing.T) {
	fs := &hookFS{FS: vfs.NewMem()}
	w, err := Open("wal", Options{FS: fs, Logger: slog.New(slog.DiscardHandler)})
	must(t, err)
	l := openLogT(t, w, 1)
	mustAppend(t, l, entry(1, "durable"))

	injected := errors.New("injected fsync failure")
	fs.setHook(func(string) error { return injected })
	_, err = l.Append(t.Context(), []wal.Entry{entry(1, "lost")})
	if !errors.Is(err, wal.ErrUnavailable) {
		t.Fatalf("Append with a failing fsync: %v, want ErrUnavailable", err)
	}
	fs.setHook(nil)
	if got := l.NextSequence(); got != 2 {
		t.Errorf("NextSequence after a failed append = %d, want 2", got)
	}
	_, err = l.Append(t.Context(), []wal.Entry{entry(1, "after")})
	if !errors.Is(err, wal.ErrUnavailable) {
		t.Errorf("Append after a failed commit: %v, want ErrUnavailable", err)
	}
	_, err = l.Read(t.Context(), 1)
	if !errors.Is(err, wal.ErrUnavailable) {
		t.Errorf("Read after a failed commit: %v, want ErrUnavailable", err)
	}
	if err := l.Truncate(t.Context(), 1, 2); !errors.Is(err, wal.ErrUnavailable) {
		t.Errorf("Truncate after a failed commit: %v, want ErrUnavailable", err)
	}
	_ = w.Close() // may report the failure; must not hang or panic

	// Opened again, the WAL works; the failed entry may or may not be
	// there (its write reached the file, its sync failed).
	w = openT(t, "wal", Options{FS: fs})
	l = openLogT(t, w, 1)
	next := l.NextSequence()
	if next != 2 && next != 3 {
		t.Fatalf("NextSequence after reopening = %d, want 2 or 3", next)
	}
	if got := mustAppend(t, l, entry(1, "again")); got != next {
		t.Errorf("append after reopening got %d, want %d", got, next)
	}
}

func TestCorruptData(t *testing.T) {
	fs := vfs.NewMem()
	w := openT(t, "wal", Options{FS: fs})
	mustAppend(t, openLogT(t, w, 1), entry(1, "good"))
	must(t, w.Close())

	db := openRaw(t, fs, "wal")
	k := make([]byte, dataKeyLen)
	putDataKey(k, 1, 2)
	must(t, db.Set(k, []byte{0x7f, 1, 2}, pebble.Sync)) // unknown value kind
	var mk [markKeyLen]byte
	putMarkKey(mk[:], 2, 1)
	must(t, db.Set(mk[:], []byte{0x80}, pebble.Sync)) // unknown mark flag
	must(t, db.Close())

	w = openT(t, "wal", Options{FS: fs})
	l := openLogT(t, w, 1)
	it, err := l.Read(t.Context(), 1)
	must(t, err)
	if !it.Next(t.Context()) {
		t.Fatalf("first record: %v", it.Err())
	}
	if it.Next(t.Context()) {
		t.Fatal("read a corrupt record")
	}
	if err := it.Err(); !errors.Is(err, wal.ErrCorrupt) {
		t.Errorf("reading a corrupt value: %v, want ErrCorrupt", err)
	}
	_ = it.Close()
	if _, err := w.OpenLog(t.Context(), 2); !errors.Is(err, wal.ErrCorrupt) {
		t.Errorf("OpenLog with a corrupt mark: %v, want ErrCorrupt", err)
	}
}

func TestFormatVersionChecked(t *testing.T) {
	fs := vfs.NewMem()
	w := openT(t, "wal", Options{FS: fs})
	must(t, w.Close())
	db := openRaw(t, fs, "wal")
	must(t, db.Set(versionKey, []byte{formatVersion + 1}, pebble.Sync))
	must(t, db.Close())
	if _, err := Open("wal", Options{FS: fs}); !errors.Is(err, wal.ErrCorrupt) {
		t.Errorf("Open of a store with another format version: %v, want ErrCorrupt", err)
	}
}

func TestOpenLogTwiceIsInvalid(t *testing.T) {
	w := openT(t, "wal", Options{FS: vfs.NewMem()})
	openLogT(t, w, 1)
	if _, err := w.OpenLog(t.Context(), 1); !errors.Is(err, wal.ErrInvalid) {
		t.Errorf("second OpenLog: %v, want ErrInvalid", err)
	}
}

func TestOptions(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	must(t, o.Validate())
	if o.MaxEntrySize != DefaultMaxEntrySize || o.FS != vfs.Default || o.Logger == nil {
		t.Errorf("defaults: %+v", o)
	}
	for _, size := range []int{-1, maxAppendBytes + 1} {
		o := Options{MaxEntrySize: size}
		o.EnsureDefaults()
		if err := o.Validate(); !errors.Is(err, wal.ErrInvalid) {
			t.Errorf("Validate with MaxEntrySize %d: %v, want ErrInvalid", size, err)
		}
		if _, err := Open(t.TempDir(), o); !errors.Is(err, wal.ErrInvalid) {
			t.Errorf("Open with MaxEntrySize %d: %v, want ErrInvalid", size, err)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	fs := vfs.NewMem()
	w := openT(t, "wal", Options{FS: fs, Registerer: reg})
	if _, err := Open("other", Options{FS: fs, Registerer: reg}); !errors.Is(err, wal.ErrInvalid) {
		t.Errorf("second WAL on one registerer: %v, want ErrInvalid", err)
	}
	l := openLogT(t, w, 1)
	mustAppend(t, l, entry(1, "abc"), entry(2, "de"))
	mustAppend(t, l, entry(1, "f"))
	counters := gatherCounters(t, reg)
	for name, want := range map[string]float64{
		"horaedb_wal_local_appends_total":       2,
		"horaedb_wal_local_entries_total":       3,
		"horaedb_wal_local_payload_bytes_total": 6,
		"horaedb_wal_local_fsyncs_total":        2,
	} {
		if got := counters[name]; got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	must(t, w.Close())
	// Closed, the WAL's metrics are gone and another WAL can register.
	openT(t, "wal", Options{FS: fs, Registerer: reg})
	if got := gatherCounters(t, reg)["horaedb_wal_local_appends_total"]; got != 0 {
		t.Errorf("appends_total of a new WAL = %v, want 0", got)
	}
}

func gatherCounters(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	must(t, err)
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				out[mf.GetName()] += c.GetValue()
			}
		}
	}
	return out
}

func TestWatermark(t *testing.T) {
	for _, tc := range []struct {
		name  string
		marks map[uint64]mark
		next  uint64
		want  uint64
	}{
		{"no tables", nil, 9, 9},
		{"lowest live mark", map[uint64]mark{1: {below: 5}, 2: {below: 3}, 3: {below: 7}}, 9, 3},
		{"dropped tables do not count", map[uint64]mark{1: {below: 5}, 2: {below: 2, dropped: true}}, 9, 5},
		{"only dropped tables", map[uint64]mark{2: {below: 4, dropped: true}}, 9, 9},
		{"a table never truncated", map[uint64]mark{1: {below: 0}, 2: {below: 8}}, 9, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := watermark(tc.marks, tc.next); got != tc.want {
				t.Errorf("watermark = %d, want %d", got, tc.want)
			}
		})
	}
}
