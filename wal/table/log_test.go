package table

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/horaego/horaedb/wal"
	"github.com/horaego/horaedb/wal/table/mariadbtest"
)

func openLogT(t testing.TB, w *WAL, shard uint32) *Log {
	t.Helper()
	l, err := w.OpenLog(t.Context(), shard)
	if err != nil {
		t.Fatalf("OpenLog(%d): %v", shard, err)
	}
	return l.(*Log)
}

func appendT(t testing.TB, l wal.Log, entries ...wal.Entry) uint64 {
	t.Helper()
	first, err := l.Append(t.Context(), entries)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return first
}

func entry(table uint64, payload string) wal.Entry {
	return wal.Entry{TableID: table, Payload: []byte(payload)}
}

func readAll(t testing.TB, l wal.Log, from uint64) []string {
	t.Helper()
	it, err := l.Read(t.Context(), from)
	if err != nil {
		t.Fatalf("Read(%d): %v", from, err)
	}
	defer it.Close()
	var out []string
	for it.Next(t.Context()) {
		r := it.Record()
		out = append(out, fmt.Sprintf("%d:%d:%s", r.Seq, r.TableID, r.Payload))
	}
	if err := it.Err(); err != nil {
		t.Fatalf("read from %d: %v", from, err)
	}
	return out
}

func expectRecords(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// sqlDB opens a plain connection to the database of dsn.
func sqlDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

func countRows(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestFencedByNewOwner opens a shard on a second WAL while the first still
// has it open, as after a failover the old owner did not notice: the new
// owner's open raises the shard's epoch, and the old owner's next commit
// fails, and so does everything after it.
func TestFencedByNewOwner(t *testing.T) {
	dsn := newDSN(t)
	old := openLogT(t, openT(t, testOptions(dsn)), 1)
	appendT(t, old, entry(1, "old"))
	cur := openLogT(t, openT(t, testOptions(dsn)), 1)
	_, err := old.Append(t.Context(), []wal.Entry{entry(1, "zombie")})
	if !errors.Is(err, wal.ErrUnavailable) || !strings.Contains(err.Error(), "fenced") {
		t.Fatalf("zombie append: %v, want a fenced wal.ErrUnavailable", err)
	}
	if err := old.Truncate(t.Context(), 1, 2); !errors.Is(err, wal.ErrUnavailable) {
		t.Fatalf("zombie truncate: %v, want wal.ErrUnavailable", err)
	}
	appendT(t, cur, entry(1, "new"))
	expectRecords(t, "new owner", readAll(t, cur, 1), "1:1:old", "2:1:new")
}

// TestClean checks that cleaning deletes the rows below the marks, forgets
// dropped tables once their rows are gone, and that the log reads the same
// before and after, and after a reopen.
func TestClean(t *testing.T) {
	dsn := newDSN(t)
	db := sqlDB(t, dsn)
	w := openT(t, testOptions(dsn))
	l := openLogT(t, w, 1)
	for i := range 30 {
		appendT(t, l, entry(uint64(1+i%3), fmt.Sprint(i)))
	}
	rows := func() int { return countRows(t, db, "SELECT COUNT(*) FROM `"+l.table+"` WHERE shard_id = 1") }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Truncate(t.Context(), 1, 20))
	must(l.Truncate(t.Context(), 2, 26))
	must(l.DropTable(t.Context(), 3))
	want := []string{"22:1:21", "25:1:24", "26:2:25", "28:1:27", "29:2:28"}
	expectRecords(t, "before cleaning", readAll(t, l, 1), want...)
	if n := rows(); n != 30 {
		t.Fatalf("%d rows before cleaning, want 30", n)
	}
	must(l.Clean(t.Context()))
	if n := rows(); n != 11 { // seqs 20..30
		t.Fatalf("%d rows after cleaning below 20, want 11", n)
	}
	expectRecords(t, "after cleaning", readAll(t, l, 1), want...)
	if _, ok := l.marks.Load().m[3]; !ok {
		t.Fatal("table 3 forgotten before its rows were deleted")
	}
	must(l.Truncate(t.Context(), 1, 31))
	must(l.Truncate(t.Context(), 2, 31))
	must(l.Clean(t.Context()))
	if n := rows(); n != 0 {
		t.Fatalf("%d rows after truncating everything and cleaning", n)
	}
	if n := countRows(t, db, "SELECT COUNT(*) FROM wal_marks WHERE shard_id = 1 AND table_id = 3"); n != 0 {
		t.Fatal("the mark of dropped table 3 was not deleted once its rows were")
	}
	appendT(t, l, entry(3, "again"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLogT(t, openT(t, testOptions(dsn)), 1)
	if got := l.NextSequence(); got != 32 {
		t.Fatalf("NextSequence after cleaning and reopening = %d, want 32", got)
	}
	expectRecords(t, "reopened", readAll(t, l, 1), "31:3:again")
}

// TestTTL checks that with a TTL the cleaner also deletes rows older than
// it, truncated or not.
func TestTTL(t *testing.T) {
	dsn := newDSN(t)
	opts := testOptions(dsn)
	opts.TTL = time.Hour
	l := openLogT(t, openT(t, opts), 1)
	db := sqlDB(t, dsn)
	for i := range 5 {
		appendT(t, l, entry(1, fmt.Sprint(i)))
	}
	// Age the first three rows by two hours.
	if _, err := db.ExecContext(t.Context(), "UPDATE `"+l.table+"` SET created_ms = created_ms - 7200000 WHERE shard_id = 1 AND seq <= 3"); err != nil {
		t.Fatal(err)
	}
	if err := l.Clean(t.Context()); err != nil {
		t.Fatal(err)
	}
	expectRecords(t, "after expiring", readAll(t, l, 1), "4:1:3", "5:1:4")
}

// TestResync simulates a commit whose outcome was unknown and that did
// commit: the committer reads the shard's state back before the next
// group and does not hand out the sequences again.
func TestResync(t *testing.T) {
	dsn := newDSN(t)
	l := openLogT(t, openT(t, testOptions(dsn)), 1)
	appendT(t, l, entry(1, "a"))
	db := sqlDB(t, dsn)
	// What the lost commit wrote: seq 2, and the shard's next sequence.
	if _, err := db.ExecContext(t.Context(), "INSERT INTO `"+l.table+"` (shard_id, seq, table_id, created_ms, payload) VALUES (1, 2, 5, 0, 'lost ack')"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), "UPDATE wal_shards SET next_seq = 3 WHERE shard_id = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), "INSERT INTO wal_marks VALUES (1, 5, 2, 0)"); err != nil {
		t.Fatal(err)
	}
	l.c.resync = true // as a failed COMMIT leaves it; the committer is idle
	if got := appendT(t, l, entry(1, "b")); got != 3 {
		t.Fatalf("append after the resync got %d, want 3", got)
	}
	expectRecords(t, "after the resync", readAll(t, l, 1), "1:1:a", "2:5:lost ack", "3:1:b")
	if m, ok := l.marks.Load().m[5]; !ok || m.below != 2 {
		t.Fatalf("marks after the resync: %v", l.marks.Load().m)
	}
}

// TestGroupCommit checks that concurrent appends share transactions.
func TestGroupCommit(t *testing.T) {
	l := openLogT(t, openT(t, testOptions(newDSN(t))), 1)
	const writers, each = 32, 20
	commits := l.w.metrics.commits.value()
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := l.Append(t.Context(), []wal.Entry{entry(uint64(g), fmt.Sprint(i))}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n := l.w.metrics.commits.value() - commits
	t.Logf("%d appends in %d transactions", writers*each, n)
	if n >= writers*each {
		t.Fatalf("%d appends took %d transactions: no group commit", writers*each, n)
	}
	if got := len(readAll(t, l, 1)); got != writers*each {
		t.Fatalf("read %d entries, want %d", got, writers*each)
	}
}

// TestUnavailableFailsFastAndRecovers kills the database under a WAL and
// starts it again: appends fail with wal.ErrUnavailable while it is away,
// the ones that queue up behind a failing commit at once, and succeed again
// without reopening anything once it is back; every acknowledged entry is
// there. A paused (hung) database makes appends fail within AppendTimeout.
func TestUnavailableFailsFastAndRecovers(t *testing.T) {
	needDB(t)
	srv, err := mariadbtest.Start(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	opts := testOptions(srv.DSN("walfail"))
	opts.AppendTimeout = time.Second
	w := openT(t, opts)
	l := openLogT(t, w, 1)
	var acked []string
	add := func(s uint64, p string) { acked = append(acked, fmt.Sprintf("%d:1:%s", s, p)) }
	for i := range 5 {
		p := fmt.Sprint("before-", i)
		add(appendT(t, l, entry(1, p)), p)
	}

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	for range 10 {
		if _, err := l.Append(t.Context(), []wal.Entry{entry(1, "down")}); !errors.Is(err, wal.ErrUnavailable) {
			t.Fatalf("append with the database killed: %v, want wal.ErrUnavailable", err)
		}
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("10 appends with the database killed took %s", d)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitAppend := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for i := 0; ; i++ {
			p := fmt.Sprintf("%s-%d", what, i)
			s, err := l.Append(t.Context(), []wal.Entry{entry(1, p)})
			if err == nil {
				add(s, p)
				return
			}
			if !errors.Is(err, wal.ErrUnavailable) || time.Now().After(deadline) {
				t.Fatalf("append %s: %v", what, err)
			}
			<-time.After(20 * time.Millisecond)
		}
	}
	waitAppend("after-restart")

	// Hung: appends time out; those queued behind fail at once.
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := l.Append(context.Background(), []wal.Entry{entry(1, "hung")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, wal.ErrUnavailable) {
			t.Fatalf("append with the database hung: %v, want wal.ErrUnavailable", err)
		}
	}
	if d := time.Since(began); d > opts.AppendTimeout+3*time.Second {
		t.Fatalf("8 concurrent appends with the database hung took %s", d)
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	waitAppend("after-resume")

	got := readAll(t, l, 1)
	i := 0
	for _, g := range got {
		if i < len(acked) && g == acked[i] {
			i++
		}
	}
	if i != len(acked) {
		t.Fatalf("acknowledged entries missing:\n got %q\nacked %q", got, acked)
	}
	if s := w.Stats(); !bytes.Contains([]byte(s), []byte("shard 1:")) {
		t.Fatalf("stats:\n%s", s)
	}
}

// TestOpenFailsWithoutDatabase checks that a WAL whose database does not
// answer fails to open with wal.ErrUnavailable.
func TestOpenFailsWithoutDatabase(t *testing.T) {
	opts := testOptions("root@tcp(127.0.0.1:1)/nothing")
	_, err := Open(t.Context(), opts)
	if !errors.Is(err, wal.ErrUnavailable) {
		t.Fatalf("Open without a database: %v, want wal.ErrUnavailable", err)
	}
}
