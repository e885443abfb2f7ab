package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/horaego/horaedb/engine/internal/manifest"
	"github.com/horaego/horaedb/engine/internal/payload"
	"github.com/horaego/horaedb/wal"
)

// shard is an open shard: its WAL log and its tables.
type shard struct {
	id     uint32
	log    wal.Log
	tables map[uint64]*Table // guarded by Engine.mu
}

func (s *shard) close() error { return s.log.Close() }

// registryPrefix is where a shard lists its tables, one object per table
// holding its manifest.TableMeta. A table exists once its object exists.
func registryPrefix(shardID uint32) string { return fmt.Sprintf("shards/%05d/tables/", shardID) }

func registryKey(shardID uint32, tableID uint64) string {
	return fmt.Sprintf("%s%020d", registryPrefix(shardID), tableID)
}

// OpenShard opens a shard: it loads its tables and replays its WAL into
// their memtables. The shard's tables are then served.
func (e *Engine) OpenShard(ctx context.Context, shardID uint32) error {
	return e.OpenShardTables(ctx, shardID, nil)
}

// OpenShardTables is OpenShard serving only the tables whose id keep
// accepts (nil keeps all). The others stay in object storage untouched and
// their WAL entries are skipped. A cluster node serves the tables its meta
// service lists for the shard, no more.
func (e *Engine) OpenShardTables(ctx context.Context, shardID uint32, keep func(tableID uint64) bool) error {
	start := time.Now()
	e.mu.Lock()
	if e.mu.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	if _, ok := e.mu.shards[shardID]; ok {
		e.mu.Unlock()
		return fmt.Errorf("%w: shard %d", ErrShardOpen, shardID)
	}
	e.mu.Unlock()

	log, err := e.o.WAL.OpenLog(ctx, shardID)
	if err != nil {
		return fmt.Errorf("engine: open shard %d: %w", shardID, err)
	}
	s := &shard{id: shardID, log: log, tables: map[uint64]*Table{}}
	if err := e.loadShard(ctx, s, keep); err != nil {
		log.Close()
		return fmt.Errorf("engine: open shard %d: %w", shardID, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.closed {
		log.Close()
		return ErrClosed
	}
	for _, t := range s.tables {
		k := tableKey{t.Database(), t.Name()}
		if other, ok := e.mu.byName[k]; ok {
			log.Close()
			return fmt.Errorf("engine: open shard %d: table %s.%s is also open in shard %d", shardID, k.database, k.name, other.ShardID())
		}
	}
	for _, t := range s.tables {
		e.mu.byName[tableKey{t.Database(), t.Name()}] = t
		e.mu.nextID = max(e.mu.nextID, t.ID()+1)
	}
	e.mu.shards[shardID] = s
	e.log.Info("shard opened", "shard", shardID, "tables", len(s.tables), "elapsed", time.Since(start))
	return nil
}

func (e *Engine) loadShard(ctx context.Context, s *shard, keep func(uint64) bool) error {
	objs, err := e.o.Store.List(ctx, registryPrefix(s.id))
	if err != nil {
		return err
	}
	for _, obj := range objs {
		data, err := e.o.Store.Get(ctx, obj.Key)
		if err != nil {
			return err
		}
		var meta manifest.TableMeta
		if err := json.Unmarshal(data, &meta); err != nil {
			return fmt.Errorf("%w: registry entry %s: %v", manifest.ErrCorrupt, obj.Key, err)
		}
		if keep != nil && !keep(meta.ID) {
			continue
		}
		m, err := manifest.Load(ctx, e.o.Store, meta.ID, e.o.SnapshotEvery)
		if err != nil {
			return fmt.Errorf("table %s (id %d): %w", meta.Name, meta.ID, err)
		}
		t := e.newTable(s, m)
		if n, err := t.removeOrphans(ctx); err != nil {
			e.log.Warn("removing orphaned SSTs failed", "table", t.Name(), "err", err)
		} else if n > 0 {
			e.log.Info("removed orphaned SSTs", "table", t.Name(), "count", n)
		}
		s.tables[meta.ID] = t
	}
	return e.replay(ctx, s)
}

// newTable wraps a loaded manifest.
func (e *Engine) newTable(s *shard, m *manifest.Manifest) *Table {
	st := m.State()
	t := &Table{e: e, meta: st.Table, log: s.log, manifest: m}
	t.schema.Store(st.Schema)
	opts := st.Options
	t.opts.Store(&opts)
	t.mu.v = &version{mutable: t.newMemtable(), files: st.Files}
	t.mu.refs, t.mu.obsolete = map[uint64]int{}, map[uint64]bool{}
	t.lastFlush.Store(time.Now().UnixNano())
	return t
}

// replay reads the shard's WAL after the lowest flushed sequence of its
// tables and inserts each entry newer than its table's flushed sequence.
func (e *Engine) replay(ctx context.Context, s *shard) error {
	if len(s.tables) == 0 {
		return nil
	}
	from, maxFlushed := wal.MaxSequence, uint64(0)
	flushed := make(map[uint64]uint64, len(s.tables))
	for id, t := range s.tables {
		f := t.manifest.State().FlushedSeq
		flushed[id] = f
		from = min(from, f+1)
		maxFlushed = max(maxFlushed, f)
	}
	if next := s.log.NextSequence(); next <= maxFlushed {
		return fmt.Errorf("%w: WAL of shard %d ends at sequence %d but a table was flushed up to %d; wrong WAL directory?",
			manifest.ErrCorrupt, s.id, next-1, maxFlushed)
	}
	it, err := s.log.Read(ctx, from)
	if err != nil {
		return err
	}
	defer it.Close()
	var entries, rows int
	for it.Next(ctx) {
		r := it.Record()
		t, ok := s.tables[r.TableID]
		if !ok || r.Seq <= flushed[r.TableID] {
			continue // a dropped table, or rows already in an SST
		}
		rec, _, err := payload.Decode(r.Payload, t.Schema(), e.o.Mem)
		if err != nil {
			return fmt.Errorf("table %s, WAL sequence %d: %w", t.Name(), r.Seq, err)
		}
		run := appendSeqColumn(rec, r.Seq, e.o.Mem)
		rec.Release()
		t.mu.v.mutable.Insert(run, r.Seq)
		rows += int(run.NumRows())
		run.Release()
		entries++
		if t.needFlush() {
			if err := t.Flush(ctx); err != nil {
				return err
			}
		}
		if e.overBudget() { // many tables replaying: flush the largest
			if err := largestOf(s).Flush(ctx); err != nil {
				return err
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	e.metrics.replayedRows.Add(float64(rows))
	if entries > 0 {
		e.log.Info("WAL replayed", "shard", s.id, "from", from, "entries", entries, "rows", rows)
	}
	return nil
}

// largestOf returns the shard's table with the largest mutable memtable.
func largestOf(s *shard) *Table {
	var out *Table
	var most int64 = -1
	for _, t := range s.tables {
		if b := t.version().mutable.Stats().Bytes; b > most {
			out, most = t, b
		}
	}
	return out
}

// ShardTables returns the open tables of an open shard, in no particular
// order.
func (e *Engine) ShardTables(shardID uint32) ([]*Table, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.mu.shards[shardID]
	if !ok {
		return nil, fmt.Errorf("%w: shard %d", ErrShardNotOpen, shardID)
	}
	out := make([]*Table, 0, len(s.tables))
	for _, t := range s.tables {
		out = append(out, t)
	}
	return out, nil
}

// CloseShard stops serving a shard. With flush, its memtables are flushed
// first so that whoever opens it next replays less.
func (e *Engine) CloseShard(ctx context.Context, shardID uint32, flush bool) error {
	e.mu.Lock()
	s, ok := e.mu.shards[shardID]
	if !ok {
		e.mu.Unlock()
		return fmt.Errorf("%w: shard %d", ErrShardNotOpen, shardID)
	}
	delete(e.mu.shards, shardID)
	for _, t := range s.tables {
		delete(e.mu.byName, tableKey{t.Database(), t.Name()})
	}
	e.mu.Unlock()
	var errs []error
	for _, t := range s.tables {
		if flush {
			errs = append(errs, t.Flush(ctx))
		}
		t.flushMu.Lock() // wait for a background flush
		t.writeMu.Lock()
		t.dropped.Store(true) // closed, to writers and flushes
		t.releaseMemtables()
		t.writeMu.Unlock()
		t.flushMu.Unlock()
	}
	errs = append(errs, s.close())
	return errors.Join(errs...)
}
