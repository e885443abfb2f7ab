package table

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horaego/horaedb/wal"
)

// Group commit.
//
// Every change to a shard log (appends, truncations, drops, and the
// cleaner's forgetting of dropped tables) is a request handed to the log's
// committer goroutine. The committer takes everything queued (up to
// groupMaxBytes of payload), gives each append its sequences in queue
// order, registers tables seen for the first time (mark below 0, like
// wal/local), and writes the whole group in ONE transaction:
//
//	UPDATE <ns>_shards SET next_seq, purged WHERE shard_id AND epoch = ours
//	INSERT INTO <ns>_data_<k> ... (one or more multi-row statements)
//	INSERT INTO <ns>_marks ... ON DUPLICATE KEY UPDATE ...
//	DELETE FROM <ns>_marks WHERE shard_id AND table_id IN (...)
//	COMMIT
//
// Only when COMMIT succeeds are the new sequences and marks published and
// the waiters released. If the UPDATE matches no row, another process has
// opened the shard since (it raised the epoch): the log is fenced and every
// later call fails. A failure before COMMIT leaves nothing behind (the
// server rolls the transaction back); a failed COMMIT has an unknown
// outcome, so the committer reads the shard's row and marks back before the
// next group (resync). Requests that queued up while a group failed on an
// unavailable database are failed at once, without an attempt: writes fail
// fast while the database is away, and each new request tries again.

const groupMaxBytes = 8 << 20

type reqKind uint8

const (
	reqAppend reqKind = iota
	reqTruncate
	reqDrop
	reqForget // forget dropped tables with marks at or below `below`; raise purged
)

type reqState uint8

const (
	reqQueued reqState = iota
	reqTaken
	reqWithdrawn
)

type request struct {
	kind    reqKind
	entries []wal.Entry
	table   uint64
	below   uint64
	size    int

	state reqState // guarded by committer.mu

	first uint64
	err   error
	done  chan struct{}
}

type committer struct {
	l *Log

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	mu struct {
		sync.Mutex
		queue   []*request
		closed  bool
		started bool
		fenced  error
	}

	epoch atomic.Uint64 // set by load, before the committer starts

	// Owned by the committer goroutine.
	resync bool
	rows   []row
	args   []any
	sb     strings.Builder
}

type row struct {
	seq     uint64
	table   uint64
	payload []byte
}

func newCommitter(l *Log) *committer {
	return &committer{
		l:    l,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
}

func (c *committer) start() {
	c.mu.Lock()
	c.mu.started = true
	c.mu.Unlock()
	go c.run()
}

// close stops accepting requests, lets the committer finish those already
// queued and waits for it. Idempotent.
func (c *committer) close() {
	c.mu.Lock()
	already, started := c.mu.closed, c.mu.started
	c.mu.closed = true
	c.mu.Unlock()
	if !already {
		close(c.stop)
	}
	if started {
		<-c.done
	}
}

// epochValue returns the shard's epoch this log owns.
func (c *committer) epochValue() uint64 { return c.epoch.Load() }

// fencedErr returns the error of a fenced log, or nil.
func (c *committer) fencedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.fenced
}

// do queues r and waits for its outcome. If ctx ends while r is still
// queued, r is withdrawn and ctx's error returned: nothing of it is
// applied. Once r is taken into a group, do waits for the group's
// transaction, which AppendTimeout bounds.
func (c *committer) do(ctx context.Context, r *request) (uint64, error) {
	r.done = make(chan struct{})
	c.mu.Lock()
	switch {
	case c.mu.closed:
		c.mu.Unlock()
		return 0, fmt.Errorf("wal/table: shard %d: %w", c.l.shard, wal.ErrClosed)
	case c.mu.fenced != nil:
		err := c.mu.fenced
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
			r.entries = nil
			c.mu.Unlock()
			return 0, ctx.Err()
		}
		c.mu.Unlock()
		<-r.done
	}
	return r.first, r.err
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-c.stop:
			for c.commitNext() {
			}
			return
		}
		for c.commitNext() {
		}
	}
}

// take moves the next group out of the queue.
func (c *committer) take() []*request {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.mu.queue
	var group []*request
	size, i := 0, 0
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
	return group
}

func (c *committer) commitNext() bool {
	group := c.take()
	if len(group) == 0 {
		return false
	}
	start := time.Now()
	err := c.commit(group)
	m := c.l.w.metrics
	if err == nil {
		m.commits.Inc()
		m.groupSize.Observe(float64(len(group)))
	} else {
		c.l.w.log.Warn("group commit failed", "shard", c.l.shard, "requests", len(group), "err", err,
			"duration", time.Since(start))
	}
	for _, r := range group {
		if err != nil {
			r.first, r.err = 0, err
		}
		close(r.done)
	}
	if err != nil && errors.Is(err, wal.ErrUnavailable) {
		c.failQueued(err)
	}
	return true
}

// failQueued fails, without an attempt, the requests queued while a group
// failed on an unavailable database.
func (c *committer) failQueued(cause error) {
	c.mu.Lock()
	q := c.mu.queue
	c.mu.queue = nil
	c.mu.Unlock()
	err := fmt.Errorf("wal/table: shard %d: not attempted, the database failed the commit before it: %w", c.l.shard, cause)
	for _, r := range q {
		if r.state == reqWithdrawn {
			continue
		}
		c.mu.Lock()
		r.state = reqTaken
		c.mu.Unlock()
		r.first, r.err = 0, err
		close(r.done)
	}
	c.l.w.metrics.failFast.Add(float64(len(q)))
}

// pending is the shard's state as the group being built leaves it.
type pending struct {
	next     uint64
	purged   uint64
	marks    map[uint64]mark // a private copy once the group changed one
	upserts  map[uint64]mark
	deletes  []uint64
	payloads int
}

func (p *pending) mark(l *Log, table uint64) (mark, bool) {
	marks := p.marks
	if marks == nil {
		marks = l.marks.Load().m
	}
	m, ok := marks[table]
	return m, ok
}

func (p *pending) setMark(l *Log, table uint64, m mark) {
	if p.marks == nil {
		p.marks = maps.Clone(l.marks.Load().m)
	}
	p.marks[table] = m
	if p.upserts == nil {
		p.upserts = make(map[uint64]mark)
	}
	p.upserts[table] = m
}

func (p *pending) deleteMark(l *Log, table uint64) {
	if p.marks == nil {
		p.marks = maps.Clone(l.marks.Load().m)
	}
	delete(p.marks, table)
	delete(p.upserts, table)
	p.deletes = append(p.deletes, table)
}

// commit builds and writes a group; on success it publishes the new state.
func (c *committer) commit(group []*request) error {
	l := c.l
	if err := c.fencedErr(); err != nil {
		return err
	}
	if c.resync {
		if err := c.doResync(); err != nil {
			return err
		}
	}
	p := &pending{next: l.next.Load(), purged: l.purged.Load()}
	c.rows = c.rows[:0]
	for _, r := range group {
		switch r.kind {
		case reqAppend:
			r.first = p.next
			for i := range r.entries {
				e := &r.entries[i]
				c.rows = append(c.rows, row{seq: p.next, table: e.TableID, payload: e.Payload})
				p.payloads += len(e.Payload)
				// A table is registered, with a mark at its first entry,
				// in the group that writes that entry; so is a dropped
				// table that gets entries again.
				if m, ok := p.mark(l, e.TableID); !ok || m.dropped {
					p.setMark(l, e.TableID, mark{below: max(m.below, p.next)})
				}
				p.next++
			}
		case reqTruncate:
			if m, ok := p.mark(l, r.table); ok && !m.dropped && r.below > m.below {
				p.setMark(l, r.table, mark{below: r.below})
			}
		case reqDrop:
			if m, ok := p.mark(l, r.table); ok && !m.dropped {
				p.setMark(l, r.table, mark{below: p.next, dropped: true})
			}
		case reqForget:
			marks := p.marks
			if marks == nil {
				marks = l.marks.Load().m
			}
			for t, m := range marks {
				if m.dropped && m.below <= r.below {
					p.deleteMark(l, t)
				}
			}
			p.purged = max(p.purged, r.below)
		}
	}
	defer clear(c.rows) // Append does not retain entries.
	ctx, cancel := context.WithTimeout(context.Background(), l.w.opts.AppendTimeout)
	defer cancel()
	if err := c.write(ctx, p); err != nil {
		return err
	}
	if p.marks != nil {
		l.marks.Store(&markSet{m: p.marks})
	}
	l.purged.Store(p.purged)
	l.next.Store(p.next)
	return nil
}

// write runs the group's transaction.
func (c *committer) write(ctx context.Context, p *pending) (err error) {
	l := c.l
	db := l.w.db
	tx, err := beginBound(ctx, db)
	if err != nil {
		return fmt.Errorf("wal/table: shard %d: begin: %w", l.shard, dbError(err))
	}
	defer tx.Rollback()
	n := l.w.names
	res, err := tx.ExecContext(ctx, "UPDATE `"+n.shards+"` SET next_seq = ?, purged = ? WHERE shard_id = ? AND epoch = ?",
		p.next, p.purged, l.shard, c.epoch.Load())
	if err != nil {
		return fmt.Errorf("wal/table: shard %d: update shard: %w", l.shard, dbError(err))
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		return c.fence(fmt.Errorf("wal/table: shard %d: %w: another process opened this shard's log "+
			"(its epoch is no longer %d); this log is fenced and refuses every write", l.shard, wal.ErrUnavailable, c.epoch.Load()))
	}
	if err := c.insertRows(ctx, tx); err != nil {
		return err
	}
	if len(p.upserts) > 0 {
		c.sb.Reset()
		c.args = c.args[:0]
		c.sb.WriteString("INSERT INTO `" + n.marks + "` (shard_id, table_id, below, dropped) VALUES ")
		for i, t := range sortedTables(p.upserts) {
			if i > 0 {
				c.sb.WriteString(", ")
			}
			c.sb.WriteString("(?, ?, ?, ?)")
			m := p.upserts[t]
			c.args = append(c.args, l.shard, t, m.below, m.dropped)
		}
		c.sb.WriteString(" ON DUPLICATE KEY UPDATE below = VALUES(below), dropped = VALUES(dropped)")
		if _, err := tx.ExecContext(ctx, c.sb.String(), c.args...); err != nil {
			return fmt.Errorf("wal/table: shard %d: write marks: %w", l.shard, dbError(err))
		}
	}
	if len(p.deletes) > 0 {
		c.sb.Reset()
		c.args = append(c.args[:0], l.shard)
		c.sb.WriteString("DELETE FROM `" + n.marks + "` WHERE shard_id = ? AND table_id IN (")
		for i, t := range p.deletes {
			if i > 0 {
				c.sb.WriteString(", ")
			}
			c.sb.WriteString("?")
			c.args = append(c.args, t)
		}
		c.sb.WriteString(")")
		if _, err := tx.ExecContext(ctx, c.sb.String(), c.args...); err != nil {
			return fmt.Errorf("wal/table: shard %d: delete marks: %w", l.shard, dbError(err))
		}
	}
	if err := tx.Commit(); err != nil {
		c.resync = true // the outcome is unknown
		return fmt.Errorf("wal/table: shard %d: commit (outcome unknown): %w", l.shard, dbError(err))
	}
	clear(c.args)
	return nil
}

// insertRows inserts the group's rows with multi-row INSERTs of at most
// stmtMax bytes each (a row larger than that goes alone).
func (c *committer) insertRows(ctx context.Context, tx *boundTx) error {
	l := c.l
	now := time.Now().UnixMilli()
	head := "INSERT INTO `" + l.table + "` (shard_id, seq, table_id, created_ms, payload) VALUES "
	rows := c.rows
	for len(rows) > 0 {
		c.sb.Reset()
		c.args = c.args[:0]
		c.sb.WriteString(head)
		size := len(head)
		n := 0
		for ; n < len(rows); n++ {
			est := 2*len(rows[n].payload) + 96
			if n > 0 && size+est > l.w.stmtMax {
				break
			}
			if n > 0 {
				c.sb.WriteString(", ")
			}
			c.sb.WriteString("(?, ?, ?, ?, ?)")
			payload := rows[n].payload
			if payload == nil {
				payload = []byte{} // NOT NULL
			}
			c.args = append(c.args, l.shard, rows[n].seq, rows[n].table, now, payload)
			size += est
		}
		res, err := tx.ExecContext(ctx, c.sb.String(), c.args...)
		if err != nil {
			return fmt.Errorf("wal/table: shard %d: insert %d rows: %w", l.shard, n, dbError(err))
		}
		if l.w.opts.CheckBatchResultNum {
			if k, err := res.RowsAffected(); err != nil || k != int64(n) {
				return fmt.Errorf("wal/table: shard %d: insert of %d rows affected %d (%v): %w",
					l.shard, n, k, err, wal.ErrUnavailable)
			}
		}
		rows = rows[n:]
	}
	return nil
}

// fence marks the log fenced and returns err.
func (c *committer) fence(err error) error {
	c.mu.Lock()
	c.mu.fenced = err
	c.mu.Unlock()
	c.l.w.log.Error("shard log fenced", "shard", c.l.shard, "err", err)
	return err
}

// doResync reads the shard's row and marks back after a commit with an
// unknown outcome: the state published must be the database's.
func (c *committer) doResync() error {
	l := c.l
	ctx, cancel := context.WithTimeout(context.Background(), l.w.opts.AppendTimeout)
	defer cancel()
	st, err := l.readState(ctx)
	if err != nil {
		return fmt.Errorf("wal/table: shard %d: resync after an unknown commit: %w", l.shard, err)
	}
	if st.epoch != c.epoch.Load() {
		return c.fence(fmt.Errorf("wal/table: shard %d: %w: another process opened this shard's log "+
			"(epoch %d, ours %d); this log is fenced and refuses every write", l.shard, wal.ErrUnavailable, st.epoch, c.epoch.Load()))
	}
	marks, err := l.readMarks(ctx)
	if err != nil {
		return fmt.Errorf("wal/table: shard %d: resync after an unknown commit: %w", l.shard, err)
	}
	l.marks.Store(&markSet{m: marks})
	l.purged.Store(st.purged)
	l.next.Store(max(l.next.Load(), st.next))
	c.resync = false
	return nil
}
