package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/horaego/horaedb/engine/internal/compaction"
	"github.com/horaego/horaedb/engine/internal/manifest"
	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/engine/internal/sst"
	"github.com/horaego/horaedb/engine/options"
)

// pickOptions turns table options into the compaction picker's.
func (t *Table) pickOptions(o options.Table) compaction.Options {
	po := compaction.Options{
		Strategy: o.Compaction.Strategy, BucketLow: float64(o.Compaction.BucketLow), BucketHigh: float64(o.Compaction.BucketHigh),
		MinSSTableSize: int64(o.Compaction.MinSSTableSize), MinThreshold: o.Compaction.MinThreshold,
		MaxThreshold: o.Compaction.MaxThreshold, MaxInputBytes: t.e.o.MaxInputSSTableSize,
		Segment: o.SegmentDuration, Now: t.e.o.Now().UnixMilli(),
	}
	if o.EnableTTL {
		po.TTL = o.TTL
	}
	return po
}

// needsCompaction reports whether the picker has work for the table.
func (t *Table) needsCompaction() bool {
	return !compaction.Pick(t.version().files, t.pickOptions(t.Options())).Empty()
}

// Compact runs one compaction task of the table, if the picker finds one:
// expired SSTs are dropped, the inputs are merged (deduplicated for
// OVERWRITE tables, expired rows left out) into new SSTs, one per segment.
// The manifest records the swap in one edit; readers that still use the
// old files keep them until they finish. It reports whether it did
// anything.
func (t *Table) Compact(ctx context.Context) (bool, error) {
	t.compactMu.Lock()
	defer t.compactMu.Unlock()
	if t.dropped.Load() {
		return false, fmt.Errorf("%w: %s (dropped)", ErrTableNotFound, t.Name())
	}
	start := time.Now()
	opts := t.Options()
	po := t.pickOptions(opts)
	v, release := t.snapshot()
	task := compaction.Pick(v.files, po)
	if task.Empty() {
		release()
		return false, nil
	}
	var added []sst.Meta
	var inBytes int64
	if len(task.Inputs) >= 2 {
		for _, f := range task.Inputs {
			inBytes += f.Size
		}
		if err := t.e.compactBudget.acquire(ctx, inBytes); err != nil {
			release()
			return false, err
		}
		var err error
		added, err = t.mergeFiles(ctx, task.Inputs, po, opts)
		t.e.compactBudget.release(inBytes)
		if err != nil {
			release()
			t.e.metrics.compactionFailures.Inc()
			return false, fmt.Errorf("engine: compact %s: %w", t.Name(), err)
		}
	}
	release()
	removed := append([]uint64(nil), task.Expired...)
	for _, f := range task.Inputs {
		removed = append(removed, f.ID)
	}
	if err := t.manifest.Apply(ctx, manifest.Edit{RemoveFiles: removed, AddFiles: added}); err != nil {
		for _, f := range added { // orphans; readers still use the inputs
			_ = t.e.o.Store.Delete(ctx, sstKey(t.ID(), f.ID))
		}
		t.e.metrics.compactionFailures.Inc()
		return false, fmt.Errorf("engine: compact %s: %w", t.Name(), err)
	}
	t.replaceFiles(removed, added)
	var outBytes int64
	for _, f := range added {
		outBytes += f.Size
	}
	t.e.metrics.compactions.Inc()
	t.e.metrics.compactionInputBytes.Add(float64(inBytes))
	t.e.metrics.compactionOutputBytes.Add(float64(outBytes))
	t.e.log.Debug("compacted", "table", t.Name(), "inputs", len(task.Inputs), "expired", len(task.Expired),
		"outputs", len(added), "in_bytes", inBytes, "out_bytes", outBytes, "elapsed", time.Since(start))
	return true, nil
}

// mergeFiles reads and merges SSTs into new ones, one per segment.
func (t *Table) mergeFiles(ctx context.Context, inputs []sst.Meta, po compaction.Options, opts options.Table) ([]sst.Meta, error) {
	s := t.Schema()
	tr := AllTime
	if po.TTL > 0 {
		tr.Start = po.Now - po.TTL.Milliseconds() // expired rows are left out
	}
	var streams []merge.Stream
	closeAll := func() {
		for _, st := range streams {
			st.Close()
		}
	}
	for _, f := range inputs {
		st, err := sst.Read(ctx, t.e.o.Store, sstKey(t.ID(), f.ID), f.Size, sst.ReadOptions{
			Schema: s.InternalArrowSchema(), TimeColumn: s.Timestamp().Name, Range: tr,
			BatchSize: opts.NumRowsPerRowGroup, Mem: t.e.o.Mem})
		if err != nil {
			closeAll()
			return nil, err
		}
		streams = append(streams, st)
	}
	merged := merge.New(streams, merge.Options{NumKeys: s.NumKeys, SeqIndex: len(s.Columns),
		Dedup: opts.NeedDedup(), BatchSize: opts.NumRowsPerRowGroup, Mem: t.e.o.Mem})
	seg := opts.SegmentDuration
	if seg <= 0 {
		seg = segmentChoices[len(segmentChoices)-1]
	}
	return t.writeSegmented(ctx, s, opts, merged, seg, sst.IntegralAfterMerge(s, inputs))
}

// CompactAll runs compaction on every open table until the picker finds
// nothing more to do, and reports which tables succeeded.
func (e *Engine) CompactAll(ctx context.Context) (compacted, failed []string) {
	for _, t := range e.allTables() {
		var err error
		for i := 0; i < 100; i++ { // bounded: each round removes files
			var did bool
			if did, err = t.Compact(ctx); err != nil || !did {
				break
			}
		}
		if err != nil {
			e.log.Warn("compaction failed", "table", t.Name(), "err", err)
			failed = append(failed, t.Name())
		} else {
			compacted = append(compacted, t.Name())
		}
	}
	return compacted, failed
}

func (e *Engine) allTables() []*Table {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Table, 0, len(e.mu.byName))
	for _, t := range e.mu.byName {
		out = append(out, t)
	}
	return out
}

// scheduler checks every table each interval: it flushes tables whose
// memtable has waited longer than MaxUnflushedDuration and queues those the
// compaction picker has work for.
func (e *Engine) scheduler() {
	defer e.wg.Done()
	tick := time.NewTicker(e.o.CompactionInterval)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			e.scheduleRound()
		}
	}
}

func (e *Engine) scheduleRound() {
	now := time.Now().UnixNano()
	for _, t := range e.allTables() {
		if t.version().mutable.Stats().Rows > 0 && now-t.lastFlush.Load() > int64(e.o.MaxUnflushedDuration) {
			t.scheduleFlush()
		}
		if t.needsCompaction() {
			t.scheduleCompaction()
		}
	}
}

// scheduleCompaction queues the table for a background compaction, once.
func (t *Table) scheduleCompaction() {
	if t.e.o.DisableAutoCompaction || t.compactQueued.Swap(true) {
		return
	}
	select {
	case t.e.compactCh <- t:
	default:
		t.compactQueued.Store(false) // the queue is full: the next round retries
	}
}

func (e *Engine) compactWorker() {
	defer e.wg.Done()
	for {
		select {
		case <-e.stop:
			return
		case t := <-e.compactCh:
			t.compactQueued.Store(false)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-e.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			if _, err := t.Compact(ctx); err != nil && !t.dropped.Load() && !errors.Is(err, context.Canceled) {
				e.log.Warn("background compaction failed", "table", t.Name(), "err", err)
			}
			cancel()
		}
	}
}
