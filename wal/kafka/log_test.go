package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/horaego/horaedb/wal"
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

// readAll reads a log from a sequence, copying payloads.
func readAll(t testing.TB, l wal.Log, from uint64) []wal.Record {
	t.Helper()
	it, err := l.Read(t.Context(), from)
	if err != nil {
		t.Fatalf("Read(%d): %v", from, err)
	}
	defer it.Close()
	var out []wal.Record
	for it.Next(t.Context()) {
		r := it.Record()
		r.Payload = bytes.Clone(r.Payload)
		out = append(out, r)
	}
	if err := it.Err(); err != nil {
		t.Fatalf("read from %d: %v", from, err)
	}
	return out
}

// payloads returns "seq:table:payload" of each record.
func payloads(recs []wal.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%d:%d:%s", r.Seq, r.TableID, r.Payload))
	}
	return out
}

func expectRecords(t testing.TB, what string, got []wal.Record, want ...string) {
	t.Helper()
	g := payloads(got)
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, g, want)
	}
}

// rawClient is a plain Kafka client for tests that write or inspect the
// topics behind the WAL's back.
func rawClient(t testing.TB, c *kfake.Cluster) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func startOffset(t testing.TB, cl *kgo.Client, topic string) int64 {
	t.Helper()
	offs, err := kadm.NewClient(cl).ListStartOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		t.Fatalf("start offset of %s: %v", topic, o.Err)
	}
	return o.Offset
}

// TestZombieWriterIsFenced opens a shard on a second WAL while the first
// still has it open, as after a failover that the old owner did not
// notice: the old owner's later appends fail, the new owner's succeed even
// though late records of the old owner sit between its own, and readers
// see exactly the acknowledged appends.
func TestZombieWriterIsFenced(t *testing.T) {
	c := newCluster(t)
	old := openLogT(t, openT(t, testOptions(c.ListenAddrs())), 1)
	appendT(t, old, entry(1, "old-1"))
	appendT(t, old, entry(2, "old-2"))

	w2 := openT(t, testOptions(c.ListenAddrs()))
	cur := openLogT(t, w2, 1)
	if got := cur.NextSequence(); got != 3 {
		t.Fatalf("new owner's NextSequence = %d, want 3", got)
	}
	// The old owner's record lands after the new owner's barrier.
	_, err := old.Append(t.Context(), []wal.Entry{entry(1, "zombie")})
	if !errors.Is(err, wal.ErrUnavailable) || !bytes.Contains([]byte(err.Error()), []byte("fenced")) {
		t.Fatalf("zombie append: %v, want a fenced wal.ErrUnavailable", err)
	}
	if _, err := old.Append(t.Context(), []wal.Entry{entry(1, "zombie-2")}); !errors.Is(err, wal.ErrUnavailable) {
		t.Fatalf("second zombie append: %v, want wal.ErrUnavailable", err)
	}
	if err := old.Truncate(t.Context(), 1, 2); !errors.Is(err, wal.ErrUnavailable) {
		t.Fatalf("zombie truncate: %v, want wal.ErrUnavailable", err)
	}
	// The zombie's record sits between the new owner's fence and its
	// first append: the new owner accepts it as harmless.
	appendT(t, cur, entry(1, "new-3"))
	appendT(t, cur, entry(3, "new-4"))
	want := []string{"1:1:old-1", "2:2:old-2", "3:1:new-3", "4:3:new-4"}
	expectRecords(t, "new owner reads", readAll(t, cur, 1), want...)

	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	l3 := openLogT(t, openT(t, testOptions(c.ListenAddrs())), 1)
	expectRecords(t, "third owner reads", readAll(t, l3, 1), want...)
	expectRecords(t, "third owner reads from 3", readAll(t, l3, 3), want[2:]...)
	if got := l3.NextSequence(); got != 5 {
		t.Fatalf("third owner's NextSequence = %d, want 5", got)
	}
}

// TestPartialAppendIsSkipped writes the first part of a two-part Append
// behind the WAL's back, as a writer that died between its parts leaves
// it: readers skip it, its sequences are not handed out again, and the
// log goes on.
func TestPartialAppendIsSkipped(t *testing.T) {
	c := newCluster(t)
	w := openT(t, testOptions(c.ListenAddrs()))
	l := openLogT(t, w, 1)
	appendT(t, l, entry(1, "a"))
	partial := func(first uint64) {
		body := appendBodyEntry(nil, 1, []byte("half"))
		body = appendBodyEntry(body, 1, []byte("lost"))
		v := appendDataHeader(nil, dataHeader{epoch: l.epoch, first: first, count: 2, part: 0, parts: 2})
		v = append(v, body[:len(body)/2]...)
		if err := rawClient(t, c).ProduceSync(t.Context(), &kgo.Record{Topic: l.data.name, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// In the middle of the log: the next Append begins before it
	// completes.
	partial(2)
	l.next.Store(4)
	appendT(t, l, entry(2, "b"))
	expectRecords(t, "after a partial append in the middle", readAll(t, l, 1), "1:1:a", "4:2:b")

	// At the end, then a crash: the next owner does not reuse its
	// sequences.
	partial(5)
	w.crash()
	l = openLogT(t, openT(t, testOptions(c.ListenAddrs())), 1)
	if got := l.NextSequence(); got != 7 {
		t.Fatalf("NextSequence after a partial append at the end = %d, want 7", got)
	}
	appendT(t, l, entry(1, "c"))
	expectRecords(t, "after reopening", readAll(t, l, 1), "1:1:a", "4:2:b", "7:1:c")
}

// TestClean checks that cleaning deletes the records below the marks with
// DeleteRecords, compacts the meta topic when a dropped table is
// forgotten, and that the log reads the same before and after, and after
// a reopen.
func TestClean(t *testing.T) {
	c := newCluster(t)
	w := openT(t, testOptions(c.ListenAddrs()))
	l := openLogT(t, w, 1)
	raw := rawClient(t, c)
	for i := range 30 {
		appendT(t, l, entry(uint64(1+i%3), fmt.Sprint(i)))
	}
	// Seqs 1..30; table 1 has 1,4,...,28; table 2 has 2,5,...,29; table 3
	// has 3,6,...,30.
	mustTruncate := func(table, below uint64) {
		t.Helper()
		if err := l.Truncate(t.Context(), table, below); err != nil {
			t.Fatal(err)
		}
	}
	mustTruncate(1, 20)
	mustTruncate(2, 26)
	if err := l.DropTable(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	want := []string{"22:1:21", "25:1:24", "26:2:25", "28:1:27", "29:2:28"}
	expectRecords(t, "before cleaning", readAll(t, l, 1), want...)
	if start := startOffset(t, raw, l.data.name); start != 0 {
		t.Fatalf("data topic starts at %d before cleaning", start)
	}
	if err := l.Clean(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The watermark is 20 (table 1): the records of seqs below it, but
	// for the last index point's spacing, are gone.
	dataStart := startOffset(t, raw, l.data.name)
	if dataStart < 2 {
		t.Fatalf("data topic starts at %d after cleaning, want past the records below seq 20", dataStart)
	}
	if l.purged.Load() != 20 {
		t.Fatalf("purged = %d, want 20", l.purged.Load())
	}
	// Table 3 was dropped at 31 > 20: not forgotten yet.
	if _, ok := l.marks.Load().m[3]; !ok {
		t.Fatal("table 3 forgotten before the floor passed its mark")
	}
	expectRecords(t, "after cleaning", readAll(t, l, 1), want...)
	expectRecords(t, "after cleaning, from 26", readAll(t, l, 26), want[2:]...)

	mustTruncate(1, 31)
	mustTruncate(2, 31)
	if err := l.Clean(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.marks.Load().m[3]; ok {
		t.Fatal("table 3 not forgotten once the floor passed its mark")
	}
	if start := startOffset(t, raw, l.meta.name); start == 0 {
		t.Fatal("meta topic not compacted after a snapshot")
	}
	expectRecords(t, "everything truncated", readAll(t, l, 1))
	appendT(t, l, entry(3, "again"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLogT(t, openT(t, testOptions(c.ListenAddrs())), 1)
	if got := l.NextSequence(); got != 32 {
		t.Fatalf("NextSequence after cleaning and reopening = %d, want 32", got)
	}
	expectRecords(t, "reopened", readAll(t, l, 1), "31:3:again")
	if m := l.marks.Load().m; len(m) != 3 || m[1].below != 31 || m[3].below != 31 || m[3].dropped {
		t.Fatalf("marks after reopening: %v", m)
	}
}

// TestResurrectedRecordsStayDead restarts the broker from a copy of its
// data directory taken while it ran, as after a crash: the broker has not
// persisted the log start offset that DeleteRecords moved, so deleted
// records come back. The purge floor, written before the deletion, keeps
// them dead.
func TestResurrectedRecordsStayDead(t *testing.T) {
	dir := t.TempDir()
	c := newCluster(t, kfake.DataDir(filepath.Join(dir, "a")), kfake.SyncWrites())
	w := openT(t, testOptions(c.ListenAddrs()))
	l := openLogT(t, w, 1)
	for i := range 100 {
		appendT(t, l, entry(1, fmt.Sprint(i)))
	}
	if err := l.Truncate(t.Context(), 1, 99); err != nil {
		t.Fatal(err)
	}
	if err := l.Clean(t.Context()); err != nil {
		t.Fatal(err)
	}
	if start := startOffset(t, rawClient(t, c), l.data.name); start == 0 {
		t.Fatal("nothing was deleted")
	}
	if err := os.CopyFS(filepath.Join(dir, "b"), os.DirFS(filepath.Join(dir, "a"))); err != nil {
		t.Fatal(err)
	}
	w.crash()
	c.Close()

	c = newCluster(t, kfake.DataDir(filepath.Join(dir, "b")))
	if start := startOffset(t, rawClient(t, c), l.data.name); start != 0 {
		t.Skipf("kfake kept the log start offset (%d) across the crash: nothing resurrected, nothing to test", start)
	}
	l = openLogT(t, openT(t, testOptions(c.ListenAddrs())), 1)
	expectRecords(t, "after the broker's crash", readAll(t, l, 1), "99:1:98", "100:1:99")
}

// TestUnavailableFailsFastAndRecovers stops the broker under a WAL: the
// append in flight fails within AppendTimeout, the next ones at once, all
// with wal.ErrUnavailable; when the broker is back on the same address,
// appends succeed again without reopening anything, and every
// acknowledged entry is there.
func TestUnavailableFailsFastAndRecovers(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	start := func() *kfake.Cluster {
		return newCluster(t, kfake.DataDir(dir), kfake.SyncWrites(), kfake.Ports(port))
	}
	c := start()
	opts := testOptions(c.ListenAddrs())
	opts.AppendTimeout = time.Second
	w := openT(t, opts)
	l := openLogT(t, w, 1)
	var acked []string
	for i := range 5 {
		s := appendT(t, l, entry(1, fmt.Sprint("before-", i)))
		acked = append(acked, fmt.Sprintf("%d:1:before-%d", s, i))
	}
	c.Close()

	began := time.Now()
	_, err := l.Append(t.Context(), []wal.Entry{entry(1, "while down")})
	if !errors.Is(err, wal.ErrUnavailable) {
		t.Fatalf("append with the broker down: %v, want wal.ErrUnavailable", err)
	}
	if d := time.Since(began); d > opts.AppendTimeout+2*time.Second {
		t.Fatalf("append with the broker down took %s", d)
	}
	began = time.Now()
	for range 3 {
		if _, err := l.Append(t.Context(), []wal.Entry{entry(1, "fast")}); !errors.Is(err, wal.ErrUnavailable) {
			t.Fatalf("append after a failure: %v, want wal.ErrUnavailable", err)
		}
	}
	if d := time.Since(began); d > opts.AppendTimeout+time.Second {
		t.Fatalf("three appends while down took %s: the probe, and no more, should wait", d)
	}
	if s := w.Stats(); !bytes.Contains([]byte(s), []byte("UNAVAILABLE")) {
		t.Fatalf("stats while down do not say so:\n%s", s)
	}

	start() // closed by the test's cleanup
	back := time.Now()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		s, err := l.Append(t.Context(), []wal.Entry{entry(1, fmt.Sprint("after-", i))})
		if err == nil {
			acked = append(acked, fmt.Sprintf("%d:1:after-%d", s, i))
			t.Logf("appends succeed again %s after the broker came back (%d failed)", time.Since(back).Round(time.Millisecond), i)
			break
		}
		if !errors.Is(err, wal.ErrUnavailable) {
			t.Fatalf("append after the broker came back: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("appends still fail 30s after the broker came back: %v", err)
		}
		if testing.Verbose() && !bytes.Contains([]byte(err.Error()), []byte("failing fast")) {
			t.Logf("%s after the broker came back: %v", time.Since(back).Round(time.Millisecond), err)
		}
		<-time.After(50 * time.Millisecond)
	}
	// Every acknowledged entry is there, in order; unacknowledged ones may
	// be there too (their outcome was unknown).
	got := payloads(readAll(t, l, 1))
	i := 0
	for _, g := range got {
		if i < len(acked) && g == acked[i] {
			i++
		}
	}
	if i != len(acked) {
		t.Fatalf("acknowledged entries missing:\n got %q\nacked %q", got, acked)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	addr := c.ListenAddrs()[0]
	c.Close()
	var port int
	if _, err := fmt.Sscanf(addr[len("127.0.0.1:"):], "%d", &port); err != nil {
		t.Fatalf("port of %s: %v", addr, err)
	}
	return port
}

// TestOpenFailsWithoutBroker checks that a WAL whose brokers do not answer
// fails to open with wal.ErrUnavailable, naming them.
func TestOpenFailsWithoutBroker(t *testing.T) {
	port := freePort(t)
	opts := testOptions([]string{fmt.Sprintf("127.0.0.1:%d", port)})
	opts.AppendTimeout = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, opts)
	if !errors.Is(err, wal.ErrUnavailable) || !bytes.Contains([]byte(err.Error()), []byte(opts.Brokers[0])) {
		t.Fatalf("Open without a broker: %v, want wal.ErrUnavailable naming the broker", err)
	}
}
