package local

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/horaego/horaedb/wal"
)

// Group commit.
//
// Every change to the store (appends, truncations, drops, of every shard) is
// a request handed to one committer goroutine, started by Open and stopped
// by Close. The committer takes everything queued (up to groupMaxBytes),
// gives each append its sequences in queue order, encodes the whole group
// into ONE Pebble batch, commits it with Sync, publishes the new shard states
// and only then releases the waiters. While a batch is being synced, new
// requests queue up and form the next group, so concurrent appends share
// fsyncs.
//
// A dedicated goroutine, rather than electing a leader among the waiters,
// keeps sequence assignment and the shard states single-threaded: nothing but
// the committer writes them, so the group can be built without locks and
// rolled back by simply dropping the staged state.
//
// A failed batch fails all its requests and publishes nothing: no sequence
// is handed out, no mark moves. If Pebble reports the failure as fatal (a
// failed WAL write or sync: it cannot tell what reached the disk), the WAL
// stops: every later call that would read or write the store fails with
// wal.ErrUnavailable until the WAL is closed and opened again, which
// replays what is durable.

type reqKind uint8

const (
	reqAppend reqKind = iota
	reqTruncate
	reqDrop
)

type reqState uint8

const (
	reqQueued    reqState = iota // in the queue, may be withdrawn
	reqTaken                     // in a group being committed
	reqWithdrawn                 // its caller gave up before it was taken
)

// request is one change waiting for the committer.
type request struct {
	kind    reqKind
	shard   *shard
	entries []wal.Entry // reqAppend
	table   uint64      // reqTruncate, reqDrop
	below   uint64      // reqTruncate
	size    int         // encoded size, for the group bound

	state reqState // guarded by committer.mu

	// Results, written by the committer before it signals done.
	first uint64
	err   error
	done  chan struct{}
}

var requestPool = sync.Pool{
	New: func() any { return &request{done: make(chan struct{}, 1)} },
}

func newRequest(kind reqKind, sh *shard) *request {
	r := requestPool.Get().(*request)
	r.kind, r.shard = kind, sh
	return r
}

func (r *request) release() {
	*r = request{done: r.done}
	requestPool.Put(r)
}

// committer is the single writer of a WAL's Pebble store.
type committer struct {
	db        *pebble.DB
	log       *slog.Logger
	metrics   *metrics
	writeOpts *pebble.WriteOptions

	// syncs counts batches committed with Sync (tests, benchmarks).
	syncs atomic.Uint64

	wake chan struct{} // capacity 1: "the queue is not empty"
	stop chan struct{} // closed by close
	done chan struct{} // closed when run returns

	mu struct {
		sync.Mutex
		queue  []*request
		closed bool
		failed error // set once a commit failed fatally
	}

	// Owned by the committer goroutine.
	group   []*request
	touched []*shard // shards staged by the group being built
	scratch []byte
}

func newCommitter(db *pebble.DB, log *slog.Logger, m *metrics, noSync bool) *committer {
	c := &committer{
		db:        db,
		log:       log,
		metrics:   m,
		writeOpts: pebble.Sync,
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if noSync {
		c.writeOpts = pebble.NoSync
	}
	return c
}

// start starts the committer goroutine; close stops it.
func (c *committer) start() { go c.run() }

// close stops accepting requests, waits for the committer to commit those
// already accepted and returns. Idempotent.
func (c *committer) close() {
	c.mu.Lock()
	already := c.mu.closed
	c.mu.closed = true
	c.mu.Unlock()
	if !already {
		close(c.stop)
	}
	<-c.done
}

// err returns the error that stopped the committer after a fatal commit
// failure, or nil.
func (c *committer) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.failed
}

// do queues r, waits for its outcome and releases r. If ctx is done while r
// is still queued, r is withdrawn and ctx's error returned: nothing of it
// will be applied. Once r is taken into a group, do waits for the group's
// commit, which is bounded by one batch write.
func (c *committer) do(ctx context.Context, r *request) (first uint64, err error) {
	c.mu.Lock()
	switch {
	case c.mu.closed:
		c.mu.Unlock()
		return 0, fmt.Errorf("wal/local: %w", wal.ErrClosed)
	case c.mu.failed != nil:
		err := c.mu.failed
		c.mu.Unlock()
		return 0, err
	}
	r.state = reqQueued
	c.mu.queue = append(c.mu.queue, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}

	select {
	case <-r.done:
	case <-ctx.Done():
		c.mu.Lock()
		if r.state == reqQueued {
			r.state = reqWithdrawn
			r.entries = nil // Append does not retain entries.
			c.mu.Unlock()
			// The queue still points at r: it must not go back to the pool.
			return 0, ctx.Err()
		}
		c.mu.Unlock()
		<-r.done
	}
	first, err = r.first, r.err
	r.release()
	return first, err
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-c.stop:
			// Requests accepted before close get committed: their callers
			// are waiting and the queue is finite (close refuses new ones).
			for c.commitNext() {
			}
			return
		}
		for c.commitNext() {
		}
	}
}

// commitNext commits the next group of queued requests and reports whether
// there was one.
func (c *committer) commitNext() bool {
	group := c.take()
	if len(group) == 0 {
		return false
	}
	c.commit(group)
	return true
}

// take moves the next group out of the queue: every queued request, in
// order, until the group would exceed groupMaxBytes (a single larger request
// forms a group of its own).
func (c *committer) take() []*request {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.mu.queue
	group, size, i := c.group[:0], 0, 0
	for ; i < len(q); i++ {
		r := q[i]
		if r.state == reqWithdrawn {
			continue
		}
		if len(group) > 0 && size+r.size > groupMaxBytes {
			break
		}
		r.state = reqTaken
		group = append(group, r)
		size += r.size
	}
	n := copy(q, q[i:])
	clear(q[n:])
	c.mu.queue = q[:n]
	c.group = group
	return group
}

// commit writes a group as one batch and releases its requests.
func (c *committer) commit(group []*request) {
	start := time.Now()
	err := c.err()
	if err == nil {
		b := c.db.NewBatch()
		for _, r := range group {
			c.build(b, r)
		}
		err = c.apply(b)
		_ = b.Close()
	}
	for _, sh := range c.touched {
		if err == nil {
			sh.publish()
		}
		sh.pend = pending{}
	}
	clear(c.touched)
	c.touched = c.touched[:0]

	if err == nil {
		c.metrics.commits.Inc()
		c.metrics.groupSize.Observe(float64(len(group)))
	} else {
		c.log.Error("group commit failed", "requests", len(group), "err", err,
			"duration", time.Since(start))
	}
	for _, r := range group {
		if err != nil {
			r.first, r.err = 0, err
		}
		r.done <- struct{}{}
	}
	clear(group)
}

// apply commits b. A Fatalf from Pebble during the commit (see pebbleLogger)
// becomes an error that stops the committer.
func (c *committer) apply(b *pebble.Batch) (err error) {
	if b.Empty() {
		return nil
	}
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		f, ok := p.(pebbleFatal)
		if !ok {
			panic(p)
		}
		err = fmt.Errorf("wal/local: commit: %w: %s", wal.ErrUnavailable, f.msg)
		c.mu.Lock()
		c.mu.failed = err
		c.mu.Unlock()
	}()
	if err := b.Commit(c.writeOpts); err != nil {
		return fmt.Errorf("wal/local: commit: %w", storeError(err))
	}
	if c.writeOpts.Sync {
		c.syncs.Add(1)
		c.metrics.fsyncs.Inc()
	}
	return nil
}

// build encodes r into b and stages its effect on its shard.
func (c *committer) build(b *pebble.Batch, r *request) {
	switch r.kind {
	case reqAppend:
		c.buildAppend(b, r)
	case reqTruncate:
		c.buildTruncate(b, r.shard, r.table, r.below)
	case reqDrop:
		c.buildDrop(b, r.shard, r.table)
	}
}

func (c *committer) buildAppend(b *pebble.Batch, r *request) {
	sh := r.shard
	p := c.stage(sh)
	r.first = p.next
	for i := range r.entries {
		e := &r.entries[i]
		op := b.SetDeferred(dataKeyLen, valueLen(e.TableID, len(e.Payload)))
		putDataKey(op.Key, sh.id, p.next)
		putValue(op.Value, e.TableID, e.Payload)
		_ = op.Finish() // Only fails for indexed batches.
		p.next++
		// A table is registered, with a mark, in the batch of its first
		// entry; so is a dropped table that gets entries again.
		if m, ok := p.mark(sh, e.TableID); !ok || m.dropped {
			c.setMark(b, sh, p, e.TableID, mark{below: m.below})
		}
	}
}

// stage returns the staged state of sh in the group being built.
func (c *committer) stage(sh *shard) *pending {
	p := &sh.pend
	if !p.active {
		*p = pending{
			active: true,
			next:   sh.next.Load(),
			purged: sh.purged.Load(),
			floor:  sh.floor,
		}
		c.touched = append(c.touched, sh)
	}
	return p
}

func (c *committer) setMark(b *pebble.Batch, sh *shard, p *pending, table uint64, m mark) {
	p.writableMarks(sh)[table] = m
	var k [markKeyLen]byte
	putMarkKey(k[:], sh.id, table)
	c.scratch = appendMark(c.scratch[:0], m)
	_ = b.Set(k[:], c.scratch, nil) // Set copies; it only fails for indexed batches.
}

func (c *committer) deleteMark(b *pebble.Batch, sh *shard, p *pending, table uint64) {
	delete(p.writableMarks(sh), table)
	var k [markKeyLen]byte
	putMarkKey(k[:], sh.id, table)
	_ = b.Delete(k[:], nil)
}
