package waltest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/horaego/horaedb/wal"
)

func testSequences(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	expectNext(t, l, 1)
	for _, tc := range []struct {
		n         int
		wantFirst uint64
	}{{1, 1}, {3, 2}, {1, 5}, {10, 6}, {2, 16}} {
		entries := make([]wal.Entry, tc.n)
		for i := range entries {
			entries[i] = entry(uint64(i%3), fmt.Sprint(i))
		}
		if first := appendOK(t, l, entries...); first != tc.wantFirst {
			t.Fatalf("append of %d entries got first %d, want %d", tc.n, first, tc.wantFirst)
		}
	}
	expectNext(t, l, 18)
}

func testReadAll(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	for i := range 50 {
		entries := []wal.Entry{entry(uint64(i%4), fmt.Sprintf("entry-%d-a", i))}
		if i%3 == 0 {
			entries = append(entries, entry(uint64(100+i), fmt.Sprintf("entry-%d-b", i)))
		}
		m.appendTo(t, l, entries...)
	}
	expectRecords(t, "read from 1", readAll(t, l, 1), m.live(1))
	expectRecords(t, "read from 0", readAll(t, l, 0), m.live(0))
}

func testReadFromMiddle(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	for i := range 20 {
		m.appendTo(t, l, entry(uint64(i%2), fmt.Sprint(i)))
	}
	for _, from := range []uint64{2, 10, 20, 21, 22, 1000, math.MaxUint64} {
		expectRecords(t, fmt.Sprintf("read from %d", from), readAll(t, l, from), m.live(from))
	}
}

func testNextSequenceReopen(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	m.appendTo(t, l, entry(1, "a"), entry(2, "b"), entry(1, "c"))
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "after reopen", l)
	m.appendTo(t, l, entry(2, "d"))
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "after second reopen", l)
}

func testLargeEntries(t *testing.T, h Harness) {
	size := 8 << 20
	if h.MaxEntrySize > 0 && h.MaxEntrySize < size {
		size = h.MaxEntrySize
	}
	rng := rand.New(rand.NewPCG(1, 2))
	payload := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return string(b)
	}
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	m.appendTo(t, l, entry(1, payload(size)))
	m.appendTo(t, l, entry(2, "small"), entry(1, payload(size)), entry(3, payload(1<<10)))
	m.check(t, "large entries", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "large entries after reopen", l)
}

func testEntryTooLarge(t *testing.T, h Harness) {
	if h.MaxEntrySize <= 0 {
		t.Skip("harness sets no MaxEntrySize")
	}
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	m.appendTo(t, l, entry(1, "before"))
	big := wal.Entry{TableID: 1, Payload: make([]byte, h.MaxEntrySize+1)}
	_, err := l.Append(t.Context(), []wal.Entry{entry(1, "small"), big})
	expectErrorIs(t, "Append of an entry over MaxEntrySize", err, wal.ErrInvalid)
	m.check(t, "after refused append", l)
}

func testEmptyPayloads(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	m.appendTo(t, l, wal.Entry{TableID: 1}, wal.Entry{TableID: 2, Payload: []byte{}}, entry(1, "x"))
	m.appendTo(t, l, wal.Entry{TableID: 3})
	m.check(t, "empty payloads", l)
	closeWAL(t, w)

	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "empty payloads after reopen", l)
}

func testAppendNothing(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	_, err := l.Append(t.Context(), nil)
	expectErrorIs(t, "Append(nil)", err, wal.ErrInvalid)
	_, err = l.Append(t.Context(), []wal.Entry{})
	expectErrorIs(t, "Append(no entries)", err, wal.ErrInvalid)
	expectNext(t, l, 1)
	m := newModel()
	m.appendTo(t, l, entry(1, "a"))
	m.check(t, "after invalid appends", l)
}

func testAppendNotRetained(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	payload := []byte("original")
	entries := []wal.Entry{{TableID: 1, Payload: payload}}
	first := appendOK(t, l, entries...)
	copy(payload, "CHANGED!")
	entries[0].TableID = 9
	expectRecords(t, "after changing the appended entries", readAll(t, l, 1),
		[]wal.Record{{Seq: first, TableID: 1, Payload: []byte("original")}})
}

func testReopen(t *testing.T, h Harness) {
	m := newModel()
	for cycle := range 4 {
		w := open(t, h)
		l := openLog(t, w, 3)
		m.check(t, fmt.Sprintf("reopen %d", cycle), l)
		for i := range 5 {
			m.appendTo(t, l, entry(uint64(i%2), fmt.Sprintf("cycle %d entry %d", cycle, i)))
		}
		if cycle%2 == 1 {
			if err := l.Close(); err != nil {
				t.Fatalf("Log.Close: %v", err)
			}
		}
		closeWAL(t, w)
		if err := w.Close(); err != nil {
			t.Fatalf("second WAL.Close: %v", err)
		}
	}
}

func testOpenLogTwice(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	if l2, err := w.OpenLog(t.Context(), 1); err == nil {
		_ = l2.Close()
		t.Fatal("second OpenLog of an open shard log succeeded")
	}
	appendOK(t, l, entry(1, "still works"))
	if err := l.Close(); err != nil {
		t.Fatalf("Log.Close: %v", err)
	}
	l = openLog(t, w, 1)
	expectNext(t, l, 2)
}

func testCloseLogKeepsWAL(t *testing.T, h Harness) {
	w := open(t, h)
	l1 := openLog(t, w, 1)
	l2 := openLog(t, w, 2)
	m1, m2 := newModel(), newModel()
	m1.appendTo(t, l1, entry(1, "one"))
	m2.appendTo(t, l2, entry(1, "two"))
	if err := l1.Close(); err != nil {
		t.Fatalf("Log.Close: %v", err)
	}
	m2.appendTo(t, l2, entry(1, "two again"))
	m2.check(t, "other shard after closing a log", l2)
	l1 = openLog(t, w, 1)
	m1.check(t, "log opened again", l1)
	m1.appendTo(t, l1, entry(2, "one again"))
	m1.check(t, "log opened again, appended", l1)
}

func testClosedLog(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	appendOK(t, l, entry(1, "a"))
	for range 2 {
		if err := l.Close(); err != nil {
			t.Fatalf("Log.Close: %v", err)
		}
	}
	ctx := t.Context()
	_, err := l.Append(ctx, []wal.Entry{entry(1, "b")})
	expectErrorIs(t, "Append after Log.Close", err, wal.ErrClosed)
	_, err = l.Read(ctx, 1)
	expectErrorIs(t, "Read after Log.Close", err, wal.ErrClosed)
	expectErrorIs(t, "Truncate after Log.Close", l.Truncate(ctx, 1, 2), wal.ErrClosed)
	expectErrorIs(t, "DropTable after Log.Close", l.DropTable(ctx, 1), wal.ErrClosed)
}

func testClosedWAL(t *testing.T, h Harness) {
	w := open(t, h)
	l1 := openLog(t, w, 1)
	l2 := openLog(t, w, 2)
	appendOK(t, l1, entry(1, "a"), entry(1, "b"))
	it, err := l1.Read(t.Context(), 1)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !it.Next(t.Context()) {
		t.Fatalf("Next: false, Err %v", it.Err())
	}
	closeWAL(t, w)

	ctx := t.Context()
	if it.Next(ctx) {
		t.Fatal("iterator Next after WAL.Close returned a record")
	}
	expectErrorIs(t, "iterator Err after WAL.Close", it.Err(), wal.ErrClosed)
	_ = it.Close() // may report the close; must not panic.
	_, err = l1.Append(ctx, []wal.Entry{entry(1, "c")})
	expectErrorIs(t, "Append after WAL.Close", err, wal.ErrClosed)
	_, err = l2.Read(ctx, 1)
	expectErrorIs(t, "Read after WAL.Close", err, wal.ErrClosed)
	expectErrorIs(t, "Truncate after WAL.Close", l2.Truncate(ctx, 1, 1), wal.ErrClosed)
	_, err = w.OpenLog(ctx, 3)
	expectErrorIs(t, "OpenLog after WAL.Close", err, wal.ErrClosed)
	if err := l1.Close(); err != nil {
		t.Fatalf("Log.Close after WAL.Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second WAL.Close: %v", err)
	}
}

func testIteratorClose(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	appendOK(t, l, entry(1, "a"), entry(1, "b"))
	ctx := t.Context()

	it, err := l.Read(ctx, 1)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if !it.Next(ctx) {
		t.Fatalf("Next: false, Err %v", it.Err())
	}
	for i := range 2 {
		if err := it.Close(); err != nil {
			t.Fatalf("iterator Close #%d: %v", i+1, err)
		}
	}
	if it.Next(ctx) {
		t.Fatal("Next after Close returned a record")
	}

	// Exhausted, then closed twice.
	it, err = l.Read(ctx, 1)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	n := 0
	for it.Next(ctx) {
		n++
	}
	if err := it.Err(); err != nil || n != 2 {
		t.Fatalf("read %d records, Err %v; want 2, nil", n, err)
	}
	if it.Next(ctx) {
		t.Fatal("Next after the end returned a record")
	}
	for i := range 2 {
		if err := it.Close(); err != nil {
			t.Fatalf("iterator Close #%d: %v", i+1, err)
		}
	}
	// The log is still usable and can be closed with no iterator open.
	appendOK(t, l, entry(1, "c"))
	if err := l.Close(); err != nil {
		t.Fatalf("Log.Close: %v", err)
	}
}

func testContextCancelled(t *testing.T, h Harness) {
	w := open(t, h)
	l := openLog(t, w, 1)
	m := newModel()
	m.appendTo(t, l, entry(1, "a"), entry(2, "b"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := l.Append(ctx, []wal.Entry{entry(1, "cancelled")})
	expectErrorIs(t, "Append with a cancelled context", err, context.Canceled)
	_, err = l.Read(ctx, 1)
	expectErrorIs(t, "Read with a cancelled context", err, context.Canceled)

	it, err := l.Read(t.Context(), 1)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if it.Next(ctx) {
		t.Fatal("Next with a cancelled context returned a record")
	}
	expectErrorIs(t, "iterator Err after Next with a cancelled context", it.Err(), context.Canceled)
	_ = it.Close()

	m.check(t, "after cancelled calls", l)
	m.appendTo(t, l, entry(1, "c"))
	closeWAL(t, w)
	w = open(t, h)
	l = openLog(t, w, 1)
	m.check(t, "after cancelled calls and reopen", l)
}

// payloadOf returns a deterministic payload for the cases that need bytes
// rather than text.
func payloadOf(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteByte(byte(rng.Uint32()))
	}
	return b.Bytes()
}
