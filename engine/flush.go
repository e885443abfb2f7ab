package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine/internal/manifest"
	"github.com/horaego/horaedb/engine/internal/memtable"
	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/engine/internal/sst"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
)

// sstKey is where an SST of a table is stored.
func sstKey(tableID, fileID uint64) string {
	return fmt.Sprintf("%ssst/%020d.parquet", manifest.Prefix(tableID), fileID)
}

// needFlush reports whether the mutable memtable outgrew its share of
// write_buffer_size.
func (t *Table) needFlush() bool {
	limit := float64(t.Options().WriteBufferSize) * t.e.o.PreflushRatio
	return float64(t.version().mutable.Stats().Bytes) >= limit
}

// scheduleFlush queues the table for a background flush, once.
func (t *Table) scheduleFlush() {
	if t.flushQueued.Swap(true) {
		return
	}
	select {
	case t.e.flushCh <- t:
	default:
		t.flushQueued.Store(false) // queue full: the next write retries
	}
}

func (e *Engine) flushWorker() {
	defer e.wg.Done()
	for {
		select {
		case <-e.stop:
			return
		case t := <-e.flushCh:
			t.flushQueued.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			go func() { // stop a long flush when the engine closes
				select {
				case <-e.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			if err := t.Flush(ctx); err != nil && !t.dropped.Load() {
				e.log.Warn("background flush failed", "table", t.Name(), "err", err)
			}
			cancel()
		}
	}
}

// Flush writes the table's memtables to SSTs. Writes continue meanwhile
// into a new memtable.
func (t *Table) Flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	if t.dropped.Load() {
		return fmt.Errorf("%w: %s (dropped)", ErrTableNotFound, t.Name())
	}
	t.writeMu.Lock()
	t.mu.Lock()
	t.freeze()
	pending := t.mu.v.immutables
	t.mu.Unlock()
	t.writeMu.Unlock()

	for _, m := range pending {
		if err := t.flushMemtable(ctx, m); err != nil {
			t.e.metrics.flushFailures.Inc()
			return fmt.Errorf("engine: flush %s: %w", t.Name(), err)
		}
	}
	return nil
}

// flushMemtable writes the oldest immutable memtable to SSTs, one per
// segment its rows fall in, records them in the manifest, swaps them for
// the memtable in the version, and truncates the WAL below its sequences.
// The first flush of a table without segment_duration samples one.
func (t *Table) flushMemtable(ctx context.Context, m *memtable.Memtable) error {
	start := time.Now()
	stats := m.Stats()
	s, opts := m.Schema(), t.Options() // rows written before an ALTER keep their schema
	edit := manifest.Edit{FlushedSeq: stats.MaxSeq}
	seg := opts.SegmentDuration
	if seg == 0 {
		seg = sampleSegment(m)
		o2 := opts
		o2.SegmentDuration = seg
		edit.Options = &o2
	}
	runs := m.Runs()
	recs := make([]arrow.RecordBatch, len(runs))
	for i, r := range runs {
		recs[i] = r.Rec
	}
	integral := sst.IntegralColumns(s, recs)
	for _, r := range runs {
		r.Rec.Release()
	}
	metas, err := t.writeSegmented(ctx, s, opts, m.Stream(opts.NumRowsPerRowGroup), seg, integral)
	if err != nil {
		return err
	}
	edit.AddFiles = metas
	if err := t.manifest.Apply(ctx, edit); err != nil {
		// The SSTs are orphans now; the memtable stays and is retried.
		for _, f := range metas {
			_ = t.e.o.Store.Delete(ctx, sstKey(t.ID(), f.ID))
		}
		return err
	}
	if edit.Options != nil {
		t.opts.Store(edit.Options)
	}
	t.mu.Lock()
	v := t.mu.v
	nv := &version{mutable: v.mutable, immutables: v.immutables[1:],
		files: append(append(v.files[:0:0], v.files...), metas...)}
	t.mu.v = nv
	t.mu.Unlock()
	t.e.budget.frozen.Add(-stats.Bytes)
	m.Release()
	if err := t.log.Truncate(ctx, t.ID(), stats.MaxSeq+1); err != nil {
		// Harmless: replay skips entries at or below the flushed sequence.
		t.e.log.Warn("WAL truncation failed", "table", t.Name(), "err", err)
	}
	var bytes int64
	for _, f := range metas {
		bytes += f.Size
	}
	t.e.metrics.flushes.Inc()
	t.e.metrics.flushBytes.Add(float64(bytes))
	t.e.metrics.flushDuration.Observe(time.Since(start).Seconds())
	t.e.log.Debug("memtable flushed", "table", t.Name(), "rows", stats.Rows, "ssts", len(metas), "bytes", bytes,
		"max_seq", stats.MaxSeq, "elapsed", time.Since(start))
	t.lastFlush.Store(time.Now().UnixNano())
	if t.needsCompaction() {
		t.scheduleCompaction()
	}
	return nil
}

// writeSegmented writes a sorted stream into one SST per segment of seg
// and returns their metadata, with file ids allocated. integral names the
// double columns whose values are all integers.
func (t *Table) writeSegmented(ctx context.Context, s *schema.Schema, opts options.Table, in merge.Stream, seg time.Duration, integral map[string]bool) ([]sst.Meta, error) {
	defer in.Close()
	wo := sst.WriteOptions{Compression: opts.Compression, RowGroupRows: opts.NumRowsPerRowGroup, Integral: integral, Mem: t.e.o.Mem}
	writers := map[int64]*sst.Writer{}
	abort := func() {
		for _, w := range writers {
			w.Abort()
		}
	}
	writer := func(segStart int64) (*sst.Writer, error) {
		if w, ok := writers[segStart]; ok {
			return w, nil
		}
		w, err := sst.NewWriter(s, wo)
		if err != nil {
			return nil, err
		}
		writers[segStart] = w
		return w, nil
	}
	for {
		rec, err := in.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			abort()
			return nil, err
		}
		err = forEachSegment(rec, s.TimestampIndex, seg, t.e.o.Mem, func(segStart int64, part arrow.RecordBatch) error {
			w, err := writer(segStart)
			if err != nil {
				return err
			}
			return w.Write(part)
		})
		rec.Release()
		if err != nil {
			abort()
			return nil, err
		}
	}
	starts := make([]int64, 0, len(writers))
	for st := range writers {
		starts = append(starts, st)
	}
	slices.Sort(starts)
	var metas []sst.Meta
	for i, st := range starts {
		id := t.manifest.AllocFileID()
		meta, err := writers[st].Finish(ctx, t.e.o.Store, sstKey(t.ID(), id))
		if err != nil {
			for _, w := range starts[i+1:] {
				writers[w].Abort()
			}
			for _, m := range metas {
				_ = t.e.o.Store.Delete(ctx, sstKey(t.ID(), m.ID))
			}
			return nil, err
		}
		if meta.Rows > 0 {
			meta.ID = id
			metas = append(metas, meta)
		}
	}
	return metas, nil
}

// forEachSegment calls fn with the rows of rec of each segment, in order
// (a record within one segment is passed as is).
func forEachSegment(rec arrow.RecordBatch, tsIdx int, seg time.Duration, mem memory.Allocator, fn func(int64, arrow.RecordBatch) error) error {
	ts := rec.Column(tsIdx).(*array.Timestamp).TimestampValues()
	if len(ts) == 0 {
		return nil
	}
	first := segmentStart(int64(ts[0]), seg)
	idx := map[int64][]int32{}
	one := true
	for i, v := range ts {
		st := segmentStart(int64(v), seg)
		if st != first {
			one = false
		}
		idx[st] = append(idx[st], int32(i))
	}
	if one {
		return fn(first, rec)
	}
	starts := make([]int64, 0, len(idx))
	for st := range idx {
		starts = append(starts, st)
	}
	slices.Sort(starts)
	for _, st := range starts {
		part, err := merge.Take(rec, idx[st], mem)
		if err != nil {
			return err
		}
		err = fn(st, part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}
