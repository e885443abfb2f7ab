package engine

import (
	"context"
	"fmt"

	"github.com/horaego/horaedb/engine/internal/manifest"
	"github.com/horaego/horaedb/engine/schema"
)

// AddColumns appends columns to the table (ALTER TABLE ADD COLUMN). Rows
// written before read the new columns as NULL. The memtable is frozen so
// that every memtable holds rows of one schema.
func (t *Table) AddColumns(ctx context.Context, cols []schema.Column) error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	if t.dropped.Load() {
		return fmt.Errorf("%w: %s (dropped)", ErrTableNotFound, t.Name())
	}
	s2, err := t.Schema().AddColumns(cols)
	if err != nil {
		return err
	}
	if err := t.manifest.Apply(ctx, manifest.Edit{Schema: s2}); err != nil {
		return fmt.Errorf("engine: alter %s: %w", t.Name(), err)
	}
	t.schema.Store(s2)
	t.mu.Lock()
	t.freeze()
	if v := t.mu.v; v.mutable.Schema() != s2 { // freeze kept an empty one of the old schema
		t.mu.v = &version{mutable: t.newMemtable(), immutables: v.immutables, files: v.files}
	}
	pending := len(t.mu.v.immutables)
	t.mu.Unlock()
	if pending > 0 {
		t.scheduleFlush()
	}
	t.e.log.Info("table altered", "table", t.Name(), "added_columns", len(cols), "schema_version", s2.Version)
	return nil
}

// AlterOptions changes table options (ALTER TABLE ... MODIFY SETTING).
// update_mode and segment_duration cannot change after creation and are
// ignored, as upstream does.
func (t *Table) AlterOptions(ctx context.Context, kv map[string]string) error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	if t.dropped.Load() {
		return fmt.Errorf("%w: %s (dropped)", ErrTableNotFound, t.Name())
	}
	o2, err := t.Options().Apply(kv, false)
	if err != nil {
		return err
	}
	if err := t.manifest.Apply(ctx, manifest.Edit{Options: &o2}); err != nil {
		return fmt.Errorf("engine: alter %s: %w", t.Name(), err)
	}
	t.opts.Store(&o2)
	return nil
}
