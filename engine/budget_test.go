package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/objstore"
)

// gatedStore holds every SST upload until opened, as a slow object store
// would: flushes cannot free memtable memory meanwhile. Other objects
// (manifests, the table registry) pass.
type gatedStore struct {
	objstore.Bucket
	mu   sync.Mutex
	gate chan struct{}
}

func newGatedStore(b objstore.Bucket) *gatedStore {
	return &gatedStore{Bucket: b, gate: make(chan struct{})}
}

func (g *gatedStore) Put(ctx context.Context, key string, data []byte) error {
	if !strings.Contains(key, "/sst/") {
		return g.Bucket.Put(ctx, key, data)
	}
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	select {
	case <-gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Bucket.Put(ctx, key, data)
}

func (g *gatedStore) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.gate:
	default:
		close(g.gate)
	}
}

// batch returns n rows of one host, timestamps from t0.
func batch(host string, t0 int64, n int) []row {
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{host, float64(i), t0 + int64(i)}
	}
	return rows
}

func TestWritesFailBusyWhenFlushesStall(t *testing.T) {
	var gs *gatedStore
	n := newNodeWith(t, func(o *engine.Options) {
		gs = newGatedStore(o.Store)
		o.Store = gs
		o.MemtableMemoryLimit = 256 << 10
		o.WriteStallTimeout = 100 * time.Millisecond
	})
	tb := n.create("cpu", options.Append)
	ctx := context.Background()

	var acked int
	var busy error
	for i := 0; i < 1000 && busy == nil; i++ {
		rows := batch(fmt.Sprintf("h%d", i), 0, 1000)
		if _, err := tb.Write(ctx, record(rows...)); err != nil {
			busy = err
			break
		}
		acked += len(rows)
	}
	if !errors.Is(busy, engine.ErrServerBusy) {
		t.Fatalf("writes into a full memtable budget: got %v, want ErrServerBusy", busy)
	}
	t.Logf("refused after %d rows: %v", acked, busy)
	if used := n.e.MemtableBytes(); used > 2*(256<<10) {
		t.Errorf("memtables hold %d bytes, far over the 256 KiB limit", used)
	}
	if got := len(scan(t, tb, engine.ScanRequest{})); got != acked {
		t.Fatalf("after the refused write the table has %d rows, want the %d acknowledged", got, acked)
	}

	// A write that waits is admitted once the store recovers.
	done := make(chan error, 1)
	go func() {
		_, err := tb.Write(ctx, record(batch("late", 0, 10)...))
		done <- err
	}()
	gs.open()
	// The stall timeout may have expired before the gate opened; then a
	// retry must succeed once flushes drain.
	err := <-done
	deadline := time.Now().Add(10 * time.Second)
	for errors.Is(err, engine.ErrServerBusy) && time.Now().Before(deadline) {
		_, err = tb.Write(ctx, record(batch("late", 0, 10)...))
	}
	if err != nil {
		t.Fatalf("write after the store recovered: %v", err)
	}
	if got := len(scan(t, tb, engine.ScanRequest{})); got != acked+10 {
		t.Fatalf("table has %d rows, want %d", got, acked+10)
	}
	n.tune = nil
	n.reopen() // and everything acknowledged survives a restart
	if got := len(scan(t, n.table("cpu"), engine.ScanRequest{})); got != acked+10 {
		t.Fatalf("after reopening the table has %d rows, want %d", got, acked+10)
	}
}

func TestStalledWriteProceedsWhenMemoryIsFreed(t *testing.T) {
	var gs *gatedStore
	n := newNodeWith(t, func(o *engine.Options) {
		gs = newGatedStore(o.Store)
		o.Store = gs
		o.MemtableMemoryLimit = 64 << 10
		o.WriteStallTimeout = time.Minute
	})
	tb := n.create("cpu", options.Append)
	ctx := context.Background()
	for n.e.MemtableBytes() < 64<<10 {
		write(t, tb, batch("a", 0, 500)...)
	}
	done := make(chan error, 1)
	go func() {
		_, err := tb.Write(ctx, record(batch("b", 0, 10)...))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a write over the limit returned at once (%v); want it to wait for a flush", err)
	case <-time.After(50 * time.Millisecond):
	}
	gs.open()
	if err := <-done; err != nil {
		t.Fatalf("stalled write: %v", err)
	}
}

func TestEngineWriteBufferFlushesLargestTable(t *testing.T) {
	n := newNodeWith(t, func(o *engine.Options) { o.DBWriteBufferSize = 128 << 10 })
	big, small := n.create("big", options.Append), n.create("small", options.Append)
	write(t, small, batch("s", 0, 10)...)
	for i := 0; i < 100 && big.Stats().SSTs == 0; i++ {
		write(t, big, batch(fmt.Sprintf("b%d", i), 0, 500)...)
		deadline := time.Now().Add(5 * time.Second)
		for n.e.MemtableBytes() >= 128<<10 && big.Stats().SSTs == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	if big.Stats().SSTs == 0 {
		t.Fatal("the largest table was never flushed although the engine's memtables exceeded db_write_buffer_size")
	}
	if small.Stats().SSTs != 0 {
		t.Errorf("the small table was flushed too")
	}
}

func TestDropAndCloseReturnMemtableMemory(t *testing.T) {
	n := newNode(t)
	a, _ := n.create("a", options.Append), n.create("b", options.Append)
	write(t, a, batch("x", 0, 100)...)
	write(t, n.table("b"), batch("y", 0, 100)...)
	before := n.e.MemtableBytes()
	if before == 0 {
		t.Fatal("memtables account no bytes after writes")
	}
	if err := n.e.DropTable(context.Background(), "public", "a"); err != nil {
		t.Fatal(err)
	}
	if after := n.e.MemtableBytes(); after >= before || after == 0 {
		t.Fatalf("memtable bytes %d → %d after dropping one of two tables", before, after)
	}
	if err := n.e.CloseShard(context.Background(), 0, false); err != nil {
		t.Fatal(err)
	}
	if got := n.e.MemtableBytes(); got != 0 {
		t.Fatalf("memtable bytes %d after closing the only shard, want 0", got)
	}
	if err := n.e.OpenShard(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if got := len(scan(t, n.table("b"), engine.ScanRequest{})); got != 100 {
		t.Fatalf("reopened shard: %d rows, want 100", got)
	}
}
