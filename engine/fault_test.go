package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/objstore/faulty"
)

// faultyNode opens a node whose object store is wrapped by faulty; the
// wrapper of the current incarnation is in *fb.
func faultyNode(t *testing.T, manual bool) (*node, **faulty.Bucket) {
	var fb *faulty.Bucket
	n := newNodeWith(t, func(o *engine.Options) {
		fb = faulty.Wrap(o.Store, 1)
		o.Store = fb
		o.DisableAutoCompaction = manual
	})
	return n, &fb
}

// sstObjects lists the table's SST objects in the store.
func sstObjects(t *testing.T, b objstore.Bucket) []string {
	t.Helper()
	objs, err := b.List(context.Background(), "tables/")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		if strings.Contains(o.Key, "/sst/") {
			out = append(out, o.Key)
		}
	}
	return out
}

const (
	sstPattern  = "tables/*/sst/*.parquet"
	editPattern = "tables/*/manifest/edit-*"
)

func TestFailedSSTUploadLosesNothing(t *testing.T) {
	n, fb := faultyNode(t, true)
	tb := n.create("cpu", options.Append)
	write(t, tb, batch("a", 0, 100)...)
	(*fb).Add(faulty.Rule{Ops: faulty.OpPut, Pattern: sstPattern})
	if err := tb.Flush(context.Background()); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("flush with failing uploads: %v", err)
	}
	write(t, tb, batch("b", 0, 100)...) // writes go on meanwhile
	if got := len(scan(t, tb, engine.ScanRequest{})); got != 200 {
		t.Fatalf("%d rows visible after the failed flush, want 200", got)
	}
	if got := sstObjects(t, n.b); len(got) != 0 {
		t.Fatalf("SSTs stored by a failed flush: %v", got)
	}
	// A crash now: the WAL still has every row.
	n.reopen()
	if got := len(scan(t, n.table("cpu"), engine.ScanRequest{})); got != 200 {
		t.Fatalf("%d rows after reopening, want 200", got)
	}
	if err := n.table("cpu").Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.reopen()
	if got := len(scan(t, n.table("cpu"), engine.ScanRequest{})); got != 200 {
		t.Fatalf("%d rows after a good flush and reopening, want 200", got)
	}
}

// TestLostUploadResponseLeavesAnOrphan: the SST is stored but the flush
// sees an error; the file is not in the manifest, so nothing reads it
// (no duplicate rows), and the next open deletes it.
func TestLostUploadResponseLeavesAnOrphan(t *testing.T) {
	n, fb := faultyNode(t, true)
	tb := n.create("cpu", options.Append)
	write(t, tb, batch("a", 0, 100)...)
	(*fb).Add(faulty.Rule{Ops: faulty.OpPut, Pattern: sstPattern, Stored: true, Times: 1})
	if err := tb.Flush(context.Background()); err == nil {
		t.Fatal("flush succeeded although the upload reported an error")
	}
	if err := tb.Flush(context.Background()); err != nil { // the retry writes another file
		t.Fatal(err)
	}
	if got := sstObjects(t, n.b); len(got) != 2 {
		t.Fatalf("want the orphan and the flushed SST, got %v", got)
	}
	if got := len(scan(t, tb, engine.ScanRequest{})); got != 100 {
		t.Fatalf("%d rows, want 100 (the orphan must not be read)", got)
	}
	n.reopen()
	if got := sstObjects(t, n.b); len(got) != 1 {
		t.Fatalf("after reopening, SSTs %v, want only the flushed one", got)
	}
	if got := len(scan(t, n.table("cpu"), engine.ScanRequest{})); got != 100 {
		t.Fatalf("%d rows after reopening, want 100", got)
	}
}

// TestFailedManifestEditKeepsWAL: the SSTs upload but recording them
// fails; the flush fails, the rows stay in the memtable and the WAL.
func TestFailedManifestEditKeepsWAL(t *testing.T) {
	n, fb := faultyNode(t, true)
	tb := n.create("cpu", options.Overwrite)
	write(t, tb, batch("a", 0, 100)...)
	(*fb).Add(faulty.Rule{Ops: faulty.OpPut, Pattern: editPattern, Times: 1})
	if err := tb.Flush(context.Background()); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("flush with a failing manifest edit: %v", err)
	}
	if got := tb.Stats(); got.SSTs != 0 || got.MemtableRows != 100 {
		t.Fatalf("after the failed flush: %+v", got)
	}
	n.reopen()
	if got := len(scan(t, n.table("cpu"), engine.ScanRequest{})); got != 100 {
		t.Fatalf("%d rows after reopening, want 100", got)
	}
	if got := sstObjects(t, n.b); len(got) != 0 {
		t.Fatalf("unrecorded SSTs left after reopening: %v", got)
	}
}

// TestFailedCompactionKeepsOldSSTs: a compaction whose manifest edit fails
// (as a crash between writing its outputs and recording them would) leaves
// readers on the old SSTs; its outputs are removed, now or at the next
// open, and a later compaction succeeds.
func TestFailedCompactionKeepsOldSSTs(t *testing.T) {
	n, fb := faultyNode(t, true)
	tb := n.create("cpu", options.Overwrite)
	for i := 0; i < 4; i++ {
		write(t, tb, batch("a", int64(i*50), 100)...) // overlapping keys: compaction dedups
		if err := tb.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	want := scan(t, tb, engine.ScanRequest{})
	before := sstObjects(t, n.b)
	if len(before) != 4 || len(want) != 250 {
		t.Fatalf("setup: %d SSTs, %d rows", len(before), len(want))
	}
	// The outputs upload, the edit fails, and so does deleting the outputs.
	(*fb).Add(faulty.Rule{Ops: faulty.OpPut, Pattern: editPattern, Times: 1})
	(*fb).Add(faulty.Rule{Ops: faulty.OpDelete, Pattern: sstPattern})
	if _, err := tb.Compact(context.Background()); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("compaction with a failing edit: %v", err)
	}
	if got := scan(t, tb, engine.ScanRequest{}); !slices.Equal(got, want) {
		t.Fatalf("after the failed compaction: %d rows, want %d", len(got), len(want))
	}
	if got := tb.Stats().SSTs; got != 4 {
		t.Fatalf("the table uses %d SSTs, want the 4 old ones", got)
	}
	(*fb).Clear()
	n.reopen() // the new incarnation's store has no rules
	if got := sstObjects(t, n.b); !slices.Equal(got, before) {
		t.Fatalf("after reopening, SSTs %v, want the old %v (the outputs are orphans)", got, before)
	}
	tb = n.table("cpu")
	if got := scan(t, tb, engine.ScanRequest{}); !slices.Equal(got, want) {
		t.Fatalf("after reopening: %d rows, want %d", len(got), len(want))
	}
	if did, err := tb.Compact(context.Background()); err != nil || !did {
		t.Fatalf("compaction after recovery: %v %v", did, err)
	}
	if got := scan(t, tb, engine.ScanRequest{}); !slices.Equal(got, want) {
		t.Fatalf("after compacting: %d rows, want %d", len(got), len(want))
	}
	if got := len(sstObjects(t, n.b)); got != 1 {
		t.Fatalf("%d SSTs after compacting, want 1", got)
	}
}
