package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horaego/horaedb/internal/units"
)

// ErrServerBusy means the memtables hold all the memory they may and
// flushes did not free any in time: the write was not applied; retrying
// later is safe.
var ErrServerBusy = errors.New("server busy")

// memBudget accounts the bytes of every memtable of the engine. Writes are
// admitted while the total is under the limit; above it they wait for
// flushes to free memory, and fail with ErrServerBusy if none comes in
// time. Below the limit, flushes are started early (see relieve) so that
// writes rarely wait.
type memBudget struct {
	used   atomic.Int64 // bytes held by all memtables
	frozen atomic.Int64 // of which in memtables switched out and being flushed

	mu    sync.Mutex
	freed chan struct{} // closed and replaced whenever memory is returned

	lastRelieve atomic.Int64 // unix nanoseconds, throttles relieve
}

func newMemBudget() *memBudget { return &memBudget{freed: make(chan struct{})} }

func (b *memBudget) add(delta int64) {
	b.used.Add(delta)
	if delta < 0 {
		b.mu.Lock()
		close(b.freed)
		b.freed = make(chan struct{})
		b.mu.Unlock()
	}
}

func (b *memBudget) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.freed
}

// MemtableBytes returns the bytes held by the engine's memtables.
func (e *Engine) MemtableBytes() int64 { return e.budget.used.Load() }

// admit returns when a write may enter the memtables: at once under the
// memory limit, or after flushes brought the total under it. It fails with
// ErrServerBusy after WriteStallTimeout.
func (e *Engine) admit(ctx context.Context) error {
	limit := e.o.MemtableMemoryLimit
	if e.budget.used.Load() < limit {
		return nil
	}
	e.metrics.writeStalls.Inc()
	start := time.Now()
	timer := time.NewTimer(e.o.WriteStallTimeout)
	defer timer.Stop()
	for {
		freed := e.budget.wait()
		used := e.budget.used.Load()
		if used < limit {
			e.metrics.writeStallDuration.Observe(time.Since(start).Seconds())
			return nil
		}
		e.relieve(true)
		select {
		case <-freed:
		case <-timer.C:
			e.metrics.writeRejections.Inc()
			return fmt.Errorf("%w: memtables hold %.1f MiB, over analytic.memtable_memory_limit = %s, and flushes to object storage freed none within %s; nothing was written; retry later",
				ErrServerBusy, float64(used)/(1<<20), units.Size(limit), e.o.WriteStallTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-e.stop:
			return ErrClosed
		}
	}
}

// softLimit is the memtable total at which the largest tables are flushed
// before writes have to wait: db_write_buffer_size when set, and never
// more than half the hard limit.
func (e *Engine) softLimit() int64 {
	soft := e.o.MemtableMemoryLimit / 2
	if e.o.DBWriteBufferSize > 0 {
		soft = min(soft, e.o.DBWriteBufferSize)
	}
	return soft
}

// overBudget reports whether the memtables still being written (not those
// already being flushed) exceed the engine or space flush triggers.
func (e *Engine) overBudget() bool {
	active := e.budget.used.Load() - e.budget.frozen.Load()
	return active >= e.softLimit() ||
		(e.o.SpaceWriteBufferSize > 0 && active >= e.o.SpaceWriteBufferSize)
}

// relieve starts flushing the tables that the engine and space write
// buffer limits select: the largest table of the engine when its total is
// over the soft limit, and the largest table of every database (upstream's
// space) over space_write_buffer_size. Unless forced it runs at most every
// 10ms, since it looks at every table.
func (e *Engine) relieve(force bool) {
	now := time.Now().UnixNano()
	last := e.budget.lastRelieve.Load()
	if !force && (now-last < int64(10*time.Millisecond) || !e.budget.lastRelieve.CompareAndSwap(last, now)) {
		return
	}
	type space struct {
		bytes   int64
		largest *Table
		max     int64
	}
	spaces := map[string]*space{}
	var largest *Table
	var largestBytes, active int64
	for _, t := range e.allTables() {
		b := t.version().mutable.Stats().Bytes
		if b == 0 {
			continue
		}
		active += b
		if b > largestBytes {
			largest, largestBytes = t, b
		}
		sp := spaces[t.Database()]
		if sp == nil {
			sp = &space{}
			spaces[t.Database()] = sp
		}
		sp.bytes += b
		if b > sp.max {
			sp.largest, sp.max = t, b
		}
	}
	if largest != nil && (force || active >= e.softLimit()) {
		largest.scheduleFlush()
	}
	if e.o.SpaceWriteBufferSize > 0 {
		for _, sp := range spaces {
			if sp.bytes >= e.o.SpaceWriteBufferSize {
				sp.largest.scheduleFlush()
			}
		}
	}
}
