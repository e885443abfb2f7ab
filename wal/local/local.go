// Package local is the WAL backend on the node's local disk (config type
// "Local", or "RocksDB" as upstream HoraeDB calls it): one Pebble store holds
// the logs of every shard of the node.
//
// Appends of all shards go through one group committer (commit.go): each
// group is one Pebble batch committed with sync, so an acknowledged append
// is durable and concurrent appends share fsyncs. Truncation is per table,
// by marks, with the data deleted by range below each shard's low watermark
// (truncate.go). The key layout is documented in FORMAT.md.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/horaego/horaedb/wal"
)

// WAL is the local WAL of a node. It is safe for concurrent use.
type WAL struct {
	opts    Options
	dir     string
	log     *slog.Logger
	db      *pebble.DB
	metrics *metrics
	c       *committer

	mu struct {
		sync.Mutex
		closed bool
		shards map[uint32]*shard // states loaded so far, kept until Close
		logs   map[uint32]*Log   // open logs
	}

	closeOnce sync.Once
	closeErr  error
}

var _ wal.WAL = (*WAL)(nil)

// Open opens, creating it if needed, the WAL store in dir (the WAL directory
// itself, such as <data_dir>/wal) and starts its committer. Close stops it.
func Open(dir string, opts Options) (*WAL, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	db, err := openStore(dir, &opts)
	if err != nil {
		m.unregister()
		return nil, err
	}
	w := &WAL{
		opts:    opts,
		dir:     dir,
		log:     opts.Logger.With("component", "wal", "dir", dir),
		db:      db,
		metrics: m,
	}
	w.c = newCommitter(db, w.log, m, opts.NoSync)
	w.mu.shards = make(map[uint32]*shard)
	w.mu.logs = make(map[uint32]*Log)
	w.c.start()
	w.log.Debug("opened")
	return w, nil
}

// openStore opens the Pebble store and checks, or on a new store writes, its
// format version.
func openStore(dir string, opts *Options) (_ *pebble.DB, err error) {
	defer func() {
		// A Fatalf from Pebble while opening (see pebbleLogger).
		if p := recover(); p != nil {
			f, ok := p.(pebbleFatal)
			if !ok {
				panic(p)
			}
			err = fmt.Errorf("wal/local: open %s: %w: %s", dir, wal.ErrUnavailable, f.msg)
		}
	}()
	db, err := pebble.Open(dir, opts.pebbleOptions())
	if err != nil {
		return nil, fmt.Errorf("wal/local: open %s: %w", dir, storeError(err))
	}
	v, closer, err := db.Get(versionKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		err = db.Set(versionKey, []byte{formatVersion}, pebble.Sync)
		if err != nil {
			err = fmt.Errorf("wal/local: open %s: write format version: %w", dir, storeError(err))
		}
	case err != nil:
		err = fmt.Errorf("wal/local: open %s: read format version: %w", dir, storeError(err))
	default:
		if len(v) != 1 || v[0] != formatVersion {
			err = fmt.Errorf("wal/local: open %s: format version %x, want %d: %w", dir, v, formatVersion, wal.ErrCorrupt)
		}
		_ = closer.Close()
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// OpenLog opens the log of a shard. A shard's log may be open only once at
// a time: opening it again before closing it fails with wal.ErrInvalid.
func (w *WAL) OpenLog(ctx context.Context, shardID uint32) (wal.Log, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.closed {
		return nil, fmt.Errorf("wal/local: %w", wal.ErrClosed)
	}
	if err := w.c.err(); err != nil {
		return nil, err
	}
	if _, ok := w.mu.logs[shardID]; ok {
		return nil, fmt.Errorf("wal/local: shard %d: log already open: %w", shardID, wal.ErrInvalid)
	}
	sh, ok := w.mu.shards[shardID]
	if !ok {
		var err error
		if sh, err = w.loadShard(shardID); err != nil {
			return nil, err
		}
		w.mu.shards[shardID] = sh
	}
	l := newLog(w, sh)
	w.mu.logs[shardID] = l
	return l, nil
}

// loadShard reads a shard's state: its marks, its floor and its last
// sequence. The committer has no request for the shard yet (there is no
// open log to make one), so nothing changes it meanwhile.
func (w *WAL) loadShard(id uint32) (*shard, error) {
	wrap := func(what string, err error) error {
		return fmt.Errorf("wal/local: shard %d: load %s: %w", id, what, err)
	}

	marks := make(map[uint64]mark)
	lo, hi := shardSpan(prefixMark, id)
	it, err := w.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, wrap("marks", storeError(err))
	}
	for valid := it.First(); valid; valid = it.Next() {
		_, table, err := decodeMarkKey(it.Key())
		if err != nil {
			_ = it.Close()
			return nil, wrap("marks", fmt.Errorf("%w: %w", wal.ErrCorrupt, err))
		}
		v, err := it.ValueAndErr()
		if err != nil {
			break // it.Error reports it
		}
		m, err := decodeMark(v)
		if err != nil {
			_ = it.Close()
			return nil, wrap("marks", fmt.Errorf("table %d: %w: %w", table, wal.ErrCorrupt, err))
		}
		marks[table] = m
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, wrap("marks", storeError(err))
	}

	var floor uint64
	v, closer, err := w.db.Get(floorKey(id))
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return nil, wrap("floor", storeError(err))
	default:
		floor, err = decodeFloor(v)
		_ = closer.Close()
		if err != nil {
			return nil, wrap("floor", fmt.Errorf("%w: %w", wal.ErrCorrupt, err))
		}
	}

	first, last, err := w.dataBounds(id)
	if err != nil {
		return nil, wrap("data bounds", err)
	}
	next := max(last+1, floor, 1)
	sh := &shard{id: id, floor: floor}
	sh.next.Store(next)
	sh.marks.Store(&markSet{m: marks})
	if first == 0 {
		first = next // no data: none below next
	}
	sh.purged.Store(first)
	return sh, nil
}

// dataBounds returns the first and last sequence of a shard's data, or
// zeros if it has none.
func (w *WAL) dataBounds(shard uint32) (first, last uint64, err error) {
	lo, hi := shardSpan(prefixData, shard)
	it, err := w.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, 0, storeError(err)
	}
	seq := func() (s uint64) {
		if err == nil {
			_, s, err = decodeDataKey(it.Key())
		}
		return s
	}
	if it.First() {
		first = seq()
	}
	if it.Last() {
		last = seq()
	}
	if err != nil {
		_ = it.Close()
		return 0, 0, fmt.Errorf("%w: %w", wal.ErrCorrupt, err)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return 0, 0, storeError(err)
	}
	return first, last, nil
}

// forget removes a closed log from the open ones.
func (w *WAL) forget(l *Log) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.logs[l.shard.id] == l {
		delete(w.mu.logs, l.shard.id)
	}
}

// Close closes the open logs and their iterators, waits for the appends
// already accepted to be committed, stops the committer and closes the
// store. Idempotent: later calls wait for the first and return its result.
func (w *WAL) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.mu.closed = true
		logs := make([]*Log, 0, len(w.mu.logs))
		for _, l := range w.mu.logs {
			logs = append(logs, l)
		}
		w.mu.Unlock()
		for _, l := range logs {
			_ = l.Close()
		}
		w.c.close()
		if err := w.db.Close(); err != nil {
			w.closeErr = fmt.Errorf("wal/local: close: %w", storeError(err))
		}
		w.metrics.unregister()
		w.log.Debug("closed", "err", w.closeErr)
	})
	return w.closeErr
}

// storeError classifies an error of the Pebble store: wal.ErrCorrupt for
// corruption, else wal.ErrUnavailable. The Pebble error stays in the chain.
func storeError(err error) error {
	if errors.Is(err, pebble.ErrCorruption) {
		return fmt.Errorf("%w: %w", wal.ErrCorrupt, err)
	}
	return fmt.Errorf("%w: %w", wal.ErrUnavailable, err)
}
