// Package waltest is the conformance suite of the wal interfaces. Every WAL
// backend, and every fake of one, runs it in its own tests.
//
// A backend plugs in by giving Run a factory of harnesses. Run calls it
// once per case; each harness stands for fresh, empty storage, and its Open
// opens a WAL over that storage as often as the case asks (to close and
// reopen, or to recover after a simulated crash):
//
//	func TestConformance(t *testing.T) {
//		waltest.Run(t, func(t *testing.T) waltest.Harness {
//			dir := t.TempDir()
//			return waltest.Harness{
//				Open: func(t *testing.T) wal.WAL {
//					w, err := local.Open(dir, local.Options{})
//					if err != nil {
//						t.Fatal(err)
//					}
//					return w
//				},
//			}
//		})
//	}
package waltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/horaego/horaedb/wal"
)

// Harness is one backend's storage, fresh for each case.
type Harness struct {
	// Open opens a WAL over the harness's storage; it fails t on error.
	// Every call opens the same storage: what was written through one WAL
	// and acknowledged is seen by the next. The suite closes every WAL it
	// opens; the harness may also close them in a t.Cleanup.
	Open func(t *testing.T) wal.WAL

	// Crash, if not nil, simulates a crash of the process that has w open:
	// from now on, Open must see what a restarted process would find, that
	// is everything acknowledged before Crash was called, and of every call
	// in flight all or nothing. Calls in flight on w may go on and return
	// anything (an error, typically); the suite does not use w afterwards.
	// Crash may take a copy of the storage as a crash would leave it and
	// then close w. With Crash nil, the crash cases are skipped.
	Crash func(t *testing.T, w wal.WAL)

	// MaxEntrySize is the largest payload the WAL accepts as opened by
	// Open, or 0 if the suite should not test a limit. The large-entry case
	// writes entries of min(8 MiB, MaxEntrySize) bytes, and an entry one
	// byte larger must fail with wal.ErrInvalid.
	MaxEntrySize int
}

// Run runs every case of the suite as a subtest, each against a harness
// made by newHarness.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Open == nil {
				t.Fatal("waltest: Harness.Open is nil")
			}
			c.run(t, h)
		})
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, h Harness)
}{
	{"SequencesStartAtOneAndAreConsecutive", testSequences},
	{"ReadAllInOrder", testReadAll},
	{"ReadFromMiddle", testReadFromMiddle},
	{"NextSequenceSurvivesReopen", testNextSequenceReopen},
	{"SequencesNotReusedAfterTruncatingEverything", testSequencesAfterTruncateAll},
	{"SequencesNotReusedAfterDroppingEverything", testSequencesAfterDropAll},
	{"TruncateOneTable", testTruncateOneTable},
	{"TruncateMarksOnlyMoveForward", testTruncateForwardOnly},
	{"TruncateBeyondNextSequenceIsInvalid", testTruncateBeyondNext},
	{"DropTable", testDropTable},
	{"DropTableThenAppendAgain", testDropThenAppend},
	{"ManyTablesInterleaved", testManyTables},
	{"ShardsAreIndependent", testShards},
	{"LargeEntries", testLargeEntries},
	{"EntryTooLarge", testEntryTooLarge},
	{"EmptyPayloads", testEmptyPayloads},
	{"AppendNothingIsInvalid", testAppendNothing},
	{"AppendDoesNotRetainEntries", testAppendNotRetained},
	{"ReopenAfterClose", testReopen},
	{"OpenLogTwice", testOpenLogTwice},
	{"CloseLogKeepsWALOpen", testCloseLogKeepsWAL},
	{"ClosedLog", testClosedLog},
	{"ClosedWAL", testClosedWAL},
	{"IteratorCloseIdempotent", testIteratorClose},
	{"ContextCancelled", testContextCancelled},
	{"ConcurrentAppenders", testConcurrentAppenders},
	{"ReadSeesAPrefix", testReadSeesPrefix},
	{"CrashMidBatch", testCrashMidBatch},
	{"CrashKeepsTruncationsAndSequences", testCrashKeepsState},
}

// open opens a WAL and makes sure it is closed when the test ends.
func open(t *testing.T, h Harness) wal.WAL {
	t.Helper()
	w := h.Open(t)
	if w == nil {
		t.Fatal("waltest: Harness.Open returned nil")
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func closeWAL(t *testing.T, w wal.WAL) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("WAL.Close: %v", err)
	}
}

func openLog(t *testing.T, w wal.WAL, shard uint32) wal.Log {
	t.Helper()
	l, err := w.OpenLog(t.Context(), shard)
	if err != nil {
		t.Fatalf("OpenLog(%d): %v", shard, err)
	}
	if got := l.ShardID(); got != shard {
		t.Fatalf("ShardID() = %d, want %d", got, shard)
	}
	return l
}

// appendOK appends entries and checks the sequence they got is the
// log's NextSequence from before, and that NextSequence moved past them.
func appendOK(t *testing.T, l wal.Log, entries ...wal.Entry) uint64 {
	t.Helper()
	next := l.NextSequence()
	first, err := l.Append(t.Context(), entries)
	if err != nil {
		t.Fatalf("Append(%d entries) on shard %d: %v", len(entries), l.ShardID(), err)
	}
	if first != next {
		t.Fatalf("Append got first sequence %d, NextSequence was %d", first, next)
	}
	if got, want := l.NextSequence(), first+uint64(len(entries)); got != want {
		t.Fatalf("NextSequence after Append = %d, want %d", got, want)
	}
	return first
}

func truncate(t *testing.T, l wal.Log, table, below uint64) {
	t.Helper()
	if err := l.Truncate(t.Context(), table, below); err != nil {
		t.Fatalf("Truncate(table %d, below %d): %v", table, below, err)
	}
}

func dropTable(t *testing.T, l wal.Log, table uint64) {
	t.Helper()
	if err := l.DropTable(t.Context(), table); err != nil {
		t.Fatalf("DropTable(%d): %v", table, err)
	}
}

// readAll reads the log from a sequence to the end, copying payloads.
func readAll(t *testing.T, l wal.Log, from uint64) []wal.Record {
	t.Helper()
	recs, err := tryReadAll(t.Context(), l, from)
	if err != nil {
		t.Fatalf("read shard %d from %d: %v", l.ShardID(), from, err)
	}
	return recs
}

func tryReadAll(ctx context.Context, l wal.Log, from uint64) ([]wal.Record, error) {
	it, err := l.Read(ctx, from)
	if err != nil {
		return nil, err
	}
	var recs []wal.Record
	for it.Next(ctx) {
		r := it.Record()
		r.Payload = bytes.Clone(r.Payload)
		recs = append(recs, r)
	}
	err = it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return recs, err
}

// expectRecords compares records read with the expected ones; payloads
// compare by content (nil and empty are equal).
func expectRecords(t *testing.T, what string, got, want []wal.Record) {
	t.Helper()
	for i := 0; i < len(got) && i < len(want); i++ {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.TableID != w.TableID || !bytes.Equal(g.Payload, w.Payload) {
			t.Fatalf("%s: record %d = %s, want %s", what, i, fmtRecord(g), fmtRecord(w))
		}
	}
	if len(got) != len(want) {
		if len(got) > len(want) {
			t.Fatalf("%s: %d records, want %d; first extra: %s", what, len(got), len(want), fmtRecord(got[len(want)]))
		}
		t.Fatalf("%s: %d records, want %d; first missing: %s", what, len(got), len(want), fmtRecord(want[len(got)]))
	}
}

func fmtRecord(r wal.Record) string {
	p := r.Payload
	if len(p) > 32 {
		return fmt.Sprintf("{seq %d table %d payload %q... (%d bytes)}", r.Seq, r.TableID, p[:32], len(p))
	}
	return fmt.Sprintf("{seq %d table %d payload %q}", r.Seq, r.TableID, p)
}

func expectNext(t *testing.T, l wal.Log, want uint64) {
	t.Helper()
	if got := l.NextSequence(); got != want {
		t.Fatalf("shard %d: NextSequence() = %d, want %d", l.ShardID(), got, want)
	}
}

func expectErrorIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want one matching %v", what, err, target)
	}
}

func entry(table uint64, payload string) wal.Entry {
	return wal.Entry{TableID: table, Payload: []byte(payload)}
}
