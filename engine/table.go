package engine

import (
	"sync"
	"sync/atomic"

	"github.com/horaego/horaedb/engine/internal/manifest"
	"github.com/horaego/horaedb/engine/internal/memtable"
	"github.com/horaego/horaedb/engine/internal/sst"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/wal"
)

// Table is an open table.
type Table struct {
	e        *Engine
	meta     manifest.TableMeta
	log      wal.Log
	manifest *manifest.Manifest

	// writeMu is held shared by writers from the WAL append until their
	// rows are in the memtable, and exclusively to switch memtables: so a
	// frozen memtable holds every write with a lower sequence.
	writeMu sync.RWMutex
	// flushMu serialises flushes; compactMu compactions.
	flushMu       sync.Mutex
	compactMu     sync.Mutex
	flushQueued   atomic.Bool
	compactQueued atomic.Bool
	schema        atomic.Pointer[schema.Schema]
	opts          atomic.Pointer[options.Table]
	dropped       atomic.Bool
	lastFlush     atomic.Int64 // unix nanoseconds of the last flush, or of opening the table
	latest        latestCache  // the newest row of every series, once asked for
	mu            struct {
		sync.Mutex
		v *version
		// refs counts the snapshots reading each SST; obsolete SSTs,
		// replaced by a compaction, are deleted when their count drops to 0.
		refs     map[uint64]int
		obsolete map[uint64]bool
	}
}

// version is what a reader sees: memtables and SSTs, swapped as a whole so
// a flush moves rows from a memtable to an SST atomically.
type version struct {
	mutable    *memtable.Memtable
	immutables []*memtable.Memtable // oldest first, waiting to be flushed
	files      []sst.Meta
}

// ID returns the table id.
func (t *Table) ID() uint64 { return t.meta.ID }

// Name returns the table name.
func (t *Table) Name() string { return t.meta.Name }

// Database returns the database (schema) the table belongs to.
func (t *Table) Database() string { return t.meta.Database }

// ShardID returns the shard the table belongs to.
func (t *Table) ShardID() uint32 { return t.meta.ShardID }

// Schema returns the current schema.
func (t *Table) Schema() *schema.Schema { return t.schema.Load() }

// Options returns the current options.
func (t *Table) Options() options.Table { return *t.opts.Load() }

func (t *Table) version() *version {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mu.v
}

func (t *Table) newMemtable() *memtable.Memtable {
	s := t.Schema()
	return memtable.New(memtable.Options{Schema: s, NumKeys: s.NumKeys, SeqIndex: len(s.Columns),
		TimeIndex: s.TimestampIndex, Dedup: t.Options().NeedDedup(), Mem: t.e.o.Mem, Account: t.e.budget.add})
}

// freeze makes the mutable memtable immutable, to be flushed, and gives
// the table a new one. The caller holds writeMu exclusively and t.mu.
func (t *Table) freeze() {
	v := t.mu.v
	if v.mutable.Stats().Rows == 0 {
		return
	}
	t.e.budget.frozen.Add(v.mutable.Stats().Bytes)
	t.mu.v = &version{mutable: t.newMemtable(), files: v.files,
		immutables: append(append([]*memtable.Memtable(nil), v.immutables...), v.mutable)}
}

// releaseMemtables returns the memory of all the table's memtables, on
// drop and close. The caller holds writeMu exclusively.
func (t *Table) releaseMemtables() {
	t.mu.Lock()
	v := t.mu.v
	t.mu.Unlock()
	v.mutable.Release()
	for _, m := range v.immutables {
		t.e.budget.frozen.Add(-m.Stats().Bytes)
		m.Release()
	}
}

// Stats describe a table's storage.
type Stats struct {
	MemtableBytes int64
	MemtableRows  int64
	Memtables     int
	SSTs          int
	SSTBytes      int64
	SSTRows       int64
	FlushedSeq    uint64
}

// Stats returns the table's current statistics.
func (t *Table) Stats() Stats {
	v := t.version()
	var s Stats
	for _, m := range append([]*memtable.Memtable{v.mutable}, v.immutables...) {
		ms := m.Stats()
		s.MemtableBytes += ms.Bytes
		s.MemtableRows += ms.Rows
		s.Memtables++
	}
	for _, f := range v.files {
		s.SSTs++
		s.SSTBytes += f.Size
		s.SSTRows += f.Rows
	}
	s.FlushedSeq = t.manifest.State().FlushedSeq
	return s
}
