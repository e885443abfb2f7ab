package waltest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/horaego/horaedb/wal"
)

func testConcurrentAppenders(t *testing.T, h Harness) {
	const (
		writers = 16
		appends = 40
	)
	w := open(t, h)
	l := openLog(t, w, 1)

	type acked struct {
		first   uint64
		entries []wal.Entry
	}
	results := make([][]acked, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range appends {
				entries := make([]wal.Entry, 1+(g+i)%3)
				for j := range entries {
					entries[j] = entry(uint64(g), fmt.Sprintf("writer %d append %d entry %d", g, i, j))
				}
				first, err := l.Append(t.Context(), entries)
				if err != nil {
					t.Errorf("writer %d: Append: %v", g, err)
					return
				}
				results[g] = append(results[g], acked{first, entries})
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Every acknowledged entry exactly once, at the sequence it was given.
	want := make(map[uint64]wal.Entry)
	for g, rs := range results {
		var last uint64
		for _, r := range rs {
			if r.first <= last {
				t.Fatalf("writer %d: append got first %d after one that got %d", g, r.first, last)
			}
			for j, e := range r.entries {
				seq := r.first + uint64(j)
				if prev, dup := want[seq]; dup {
					t.Fatalf("sequence %d given twice: to %q and %q", seq, prev.Payload, e.Payload)
				}
				want[seq] = e
				last = seq
			}
		}
	}
	expectNext(t, l, uint64(len(want))+1)
	recs := readAll(t, l, 1)
	if len(recs) != len(want) {
		t.Fatalf("read %d records, %d entries were acknowledged", len(recs), len(want))
	}
	for i, r := range recs {
		e := want[r.Seq]
		if r.Seq != uint64(i)+1 || r.TableID != e.TableID || string(r.Payload) != string(e.Payload) {
			t.Fatalf("record %d = %s, want seq %d table %d payload %q", i, fmtRecord(r), i+1, e.TableID, e.Payload)
		}
	}
}

// testReadSeesPrefix reads while another goroutine appends: every read sees
// all entries acknowledged before it started and, with no truncation, the
// sequences 1..k without a gap (a reader that tails the log depends on
// it).
func testReadSeesPrefix(t *testing.T, h Harness) {
	const appends = 150
	w := open(t, h)
	l := openLog(t, w, 1)
	var ackedUpTo atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range appends {
			first, err := l.Append(t.Context(), []wal.Entry{entry(1, fmt.Sprint(i))})
			if err != nil {
				t.Errorf("Append: %v", err)
				return
			}
			ackedUpTo.Store(first)
		}
	}()
	check := func() bool {
		acked := ackedUpTo.Load()
		recs, err := tryReadAll(t.Context(), l, 1)
		if err != nil {
			t.Errorf("read while appending: %v", err)
			return false
		}
		for i, r := range recs {
			if r.Seq != uint64(i)+1 || string(r.Payload) != fmt.Sprint(i) {
				t.Errorf("read while appending: record %d is %s, want seq %d payload %q", i, fmtRecord(r), i+1, fmt.Sprint(i))
				return false
			}
		}
		if uint64(len(recs)) < acked {
			t.Errorf("read while appending saw %d records, %d were acknowledged before it", len(recs), acked)
			return false
		}
		return true
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if !check() {
			break
		}
	}
	<-done
	if !t.Failed() {
		check()
	}
}

// batchPayload and parseBatchPayload encode which append an entry belongs
// to, for the crash cases.
func batchPayload(writer, batch, index, count int) []byte {
	return fmt.Appendf(nil, "w%d b%d i%d n%d", writer, batch, index, count)
}

func parseBatchPayload(p []byte) (writer, batch, index, count int, err error) {
	_, err = fmt.Sscanf(string(p), "w%d b%d i%d n%d", &writer, &batch, &index, &count)
	return
}

// testCrashMidBatch crashes while writers append batches of several
// entries, then checks that after recovery every batch is there whole or
// not at all, and every batch acknowledged before the crash is there.
func testCrashMidBatch(t *testing.T, h Harness) {
	if h.Crash == nil {
		t.Skip("harness has no Crash hook: cannot simulate a crash")
	}
	const (
		writers   = 8
		ackTarget = 60 // acknowledged batches before the crash
	)
	w := open(t, h)
	l := openLog(t, w, 1)

	type batchID struct{ writer, batch int }
	var (
		mu         sync.Mutex
		acked      = make(map[batchID]uint64) // batch -> first sequence
		stop       atomic.Bool
		reached    = make(chan struct{})
		reachOnce  sync.Once
		wg         sync.WaitGroup
		allStopped = make(chan struct{})
	)
	for g := range writers {
		wg.Go(func() {
			for b := 0; !stop.Load(); b++ {
				entries := make([]wal.Entry, 2+(g+b)%5)
				for i := range entries {
					entries[i] = wal.Entry{TableID: uint64(g % 3), Payload: batchPayload(g, b, i, len(entries))}
				}
				first, err := l.Append(t.Context(), entries)
				if err != nil {
					return // the crash may fail appends in flight
				}
				mu.Lock()
				acked[batchID{g, b}] = first
				n := len(acked)
				mu.Unlock()
				if n >= ackTarget {
					reachOnce.Do(func() { close(reached) })
				}
			}
		})
	}
	go func() { wg.Wait(); close(allStopped) }()
	select {
	case <-reached:
	case <-allStopped:
		t.Fatal("writers stopped before the crash: appends failed")
	}
	mu.Lock()
	before := make(map[batchID]uint64, len(acked))
	var maxAcked uint64
	for id, first := range acked {
		before[id] = first
		maxAcked = max(maxAcked, first)
	}
	mu.Unlock()
	h.Crash(t, w)
	stop.Store(true)
	<-allStopped

	w = open(t, h)
	l = openLog(t, w, 1)
	recs := readAll(t, l, 1)
	type seen struct {
		first, count uint64
		indexes      int
	}
	found := make(map[batchID]*seen)
	var maxSeq uint64
	for _, r := range recs {
		g, b, i, n, err := parseBatchPayload(r.Payload)
		if err != nil {
			t.Fatalf("record %s: %v", fmtRecord(r), err)
		}
		if r.TableID != uint64(g%3) {
			t.Fatalf("record %s: table %d, want %d", fmtRecord(r), r.TableID, g%3)
		}
		id := batchID{g, b}
		s := found[id]
		if s == nil {
			s = &seen{first: r.Seq - uint64(i), count: uint64(n)}
			found[id] = s
		}
		if r.Seq != s.first+uint64(i) || uint64(n) != s.count {
			t.Fatalf("record %s: entry %d of %d of writer %d batch %d, which started at seq %d", fmtRecord(r), i, n, g, b, s.first)
		}
		s.indexes++
		maxSeq = max(maxSeq, r.Seq)
	}
	for id, s := range found {
		if uint64(s.indexes) != s.count {
			t.Fatalf("half a batch after the crash: writer %d batch %d has %d of its %d entries", id.writer, id.batch, s.indexes, s.count)
		}
	}
	for id, first := range before {
		s := found[id]
		if s == nil {
			t.Fatalf("writer %d batch %d, acknowledged at seq %d before the crash, is lost", id.writer, id.batch, first)
		}
		if s.first != first {
			t.Fatalf("writer %d batch %d was acknowledged at seq %d, recovered at %d", id.writer, id.batch, first, s.first)
		}
	}
	if next := l.NextSequence(); next <= maxSeq || next <= maxAcked {
		t.Fatalf("NextSequence after the crash = %d, but seq %d was recovered and %d acknowledged", next, maxSeq, maxAcked)
	}
	next := l.NextSequence()
	if first := appendOK(t, l, entry(1, "after the crash")); first != next {
		t.Fatalf("append after the crash got %d, want %d", first, next)
	}
}

// testCrashKeepsState crashes after truncations and drops: they, and the
// sequences, survive as acknowledged.
func testCrashKeepsState(t *testing.T, h Harness) {
	if h.Crash == nil {
		t.Skip("harness has no Crash hook: cannot simulate a crash")
	}
	w := open(t, h)
	l := openLog(t, w, 1)
	l2 := openLog(t, w, 2)
	m, m2 := newModel(), newModel()
	appendInterleaved(t, m, l, 12, 1, 2, 3)
	truncate(t, l, 1, 7)
	m.truncate(1, 7)
	dropTable(t, l, 2)
	m.drop(2)
	appendInterleaved(t, m2, l2, 4, 1)
	truncate(t, l2, 1, m2.next)
	m2.truncate(1, m2.next)
	h.Crash(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	l2 = openLog(t, w, 2)
	m.check(t, "shard 1 after the crash", l)
	m2.check(t, "shard 2, everything truncated, after the crash", l2)
	m2.appendTo(t, l2, entry(1, "after the crash"))
	h.Crash(t, w)

	w = open(t, h)
	l2 = openLog(t, w, 2)
	m2.check(t, "shard 2 after the second crash", l2)
}
