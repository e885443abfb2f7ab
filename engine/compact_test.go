package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/wal/local"
)

func sstCount(t *testing.T, n *node, tb *engine.Table) int {
	t.Helper()
	objs, err := n.b.List(context.Background(), fmt.Sprintf("tables/%020d/sst/", tb.ID()))
	if err != nil {
		t.Fatal(err)
	}
	return len(objs)
}

// TestCompactionMergesAndDedups flushes four overlapping SSTs, compacts
// them into one and checks the rows, the files in the store, and that a
// scan opened before the compaction still reads the old files.
func TestCompactionMergesAndDedups(t *testing.T) {
	n := newNode(t)
	n.manualCompaction()
	ctx := context.Background()
	tb := n.create("c", options.Overwrite)
	for i := 0; i < 4; i++ {
		write(t, tb, row{"a", float64(i), 1000}, row{fmt.Sprintf("h%d", i), 1, int64(2000 + i)})
		if err := tb.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := sstCount(t, n, tb); got != 4 {
		t.Fatalf("%d SSTs before compaction", got)
	}
	// A scan holds the four files...
	st, _, err := tb.Scan(ctx, engine.ScanRequest{Columns: []string{"host", "t", "value"}})
	if err != nil {
		t.Fatal(err)
	}
	did, err := tb.Compact(ctx)
	if err != nil || !did {
		t.Fatalf("compact: %v %v", did, err)
	}
	if s := tb.Stats(); s.SSTs != 1 || s.SSTRows != 5 {
		t.Fatalf("after compaction: %+v", s)
	}
	// ... so they are still there, and it reads them all.
	if got := sstCount(t, n, tb); got != 5 {
		t.Fatalf("%d SST objects while the old scan is open, want 4 old + 1 new", got)
	}
	if rows := drainAll(t, st); rows != 5 { // deduplicated: a@1000 written four times
		t.Fatalf("the scan opened before the compaction read %d rows", rows)
	}
	if got := sstCount(t, n, tb); got != 1 {
		t.Fatalf("%d SST objects after the scan closed, want 1", got)
	}
	want := []string{"a@1000=3", "h0@2000=1", "h1@2001=1", "h2@2002=1", "h3@2003=1"}
	if got := scan(t, tb, engine.ScanRequest{}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	n.reopen()
	if got := scan(t, n.table("c"), engine.ScanRequest{}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after restart: rows %v, want %v", got, want)
	}
	if did, _ := n.table("c").Compact(ctx); did {
		t.Fatal("one file compacted again")
	}
}

// TestTTL checks that rows older than the TTL are invisible at once and
// that compaction drops SSTs that expired.
func TestTTL(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(10 * 24 * 3_600_000) // day 10
	w, err := local.Open(filepath.Join(dir, "wal"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := objstore.OpenLocal(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(engine.Options{WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return time.UnixMilli(now.Load()) }, DisableAutoCompaction: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close(); w.Close(); b.Close() }()
	ctx := context.Background()
	if err := e.OpenShard(ctx, 0); err != nil {
		t.Fatal(err)
	}
	o, _ := options.Default().Apply(map[string]string{"ttl": "7d", "segment_duration": "1d"}, true)
	tb, err := e.CreateTable(ctx, engine.CreateTableRequest{Database: "public", Name: "ttl", Schema: demoSchema(t), Options: &o})
	if err != nil {
		t.Fatal(err)
	}
	day := int64(24 * 3_600_000)
	write(t, tb, row{"old", 1, 1 * day}, row{"mid", 2, 5 * day}, row{"new", 3, 9 * day})
	if err := tb.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Day 10, ttl 7d: rows before day 3 are gone.
	if got := scan(t, tb, engine.ScanRequest{}); fmt.Sprint(got) != "[mid@432000000=2 new@777600000=3]" {
		t.Fatalf("visible rows %v", got)
	}
	if s := tb.Stats(); s.SSTs != 3 {
		t.Fatalf("%d SSTs, want one per day", s.SSTs)
	}
	if did, err := tb.Compact(ctx); err != nil || !did {
		t.Fatalf("compact: %v %v", did, err)
	}
	if s := tb.Stats(); s.SSTs != 2 {
		t.Fatalf("after dropping the expired SST: %d SSTs", s.SSTs)
	}
	now.Store(20 * day) // everything expired
	if got := scan(t, tb, engine.ScanRequest{}); len(got) != 0 {
		t.Fatalf("visible rows %v", got)
	}
	if _, failed := e.CompactAll(ctx); len(failed) > 0 {
		t.Fatal(failed)
	}
	if s := tb.Stats(); s.SSTs != 0 {
		t.Fatalf("%d SSTs left", s.SSTs)
	}
}

func TestOrphansRemovedAtOpen(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	tb := n.create("o", options.Overwrite)
	write(t, tb, row{"a", 1, 1})
	if err := tb.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	orphan := fmt.Sprintf("tables/%020d/sst/%020d.parquet", tb.ID(), 999)
	if err := n.b.Put(ctx, orphan, []byte("left by a crash")); err != nil {
		t.Fatal(err)
	}
	n.reopen()
	if _, err := n.b.Get(ctx, orphan); err == nil {
		t.Fatal("the orphaned SST is still there")
	}
	if got := scan(t, n.table("o"), engine.ScanRequest{}); len(got) != 1 {
		t.Fatalf("rows %v", got)
	}
}
