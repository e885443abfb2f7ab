// Package engine is the storage engine of one data node: it holds the tables
// of the shards the node serves. A write is validated, appended to the
// shard's WAL (acknowledged only once durable) and inserted into the table's
// memtable; memtables are flushed to Parquet SSTs in object storage, recorded
// in the table's manifest, after which the WAL is truncated. Opening a shard
// loads its tables' manifests and replays its WAL after each table's flushed
// sequence. Scans merge memtables and SSTs, deduplicating by primary key for
// OVERWRITE tables, with the time range and the projection pushed down.
//
// The engine knows nothing of SQL or clusters: callers give it table
// definitions, Arrow records to write, and scan requests.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/engine/internal/sst"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/wal"
)

// Sentinel errors, wrapped with details.
var (
	ErrTableNotFound = errors.New("engine: table not found")
	ErrTableExists   = errors.New("engine: table already exists")
	// ErrInvalidWrite means the rows do not fit the table: the caller's
	// mistake; nothing of the write was applied.
	ErrInvalidWrite = errors.New("engine: invalid write")
	// ErrColumnNotFound means a scan named a column the table lacks.
	ErrColumnNotFound = errors.New("engine: column not found")
	ErrShardNotOpen   = errors.New("engine: shard not open")
	ErrShardOpen      = errors.New("engine: shard already open")
	ErrClosed         = errors.New("engine: closed")
)

// Options configure an Engine. Zero fields get the defaults stated.
type Options struct {
	// WAL holds the shards' write-ahead logs. Required.
	WAL wal.WAL
	// Store holds SSTs and manifests. Required.
	Store objstore.Bucket
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer for the engine's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// DefaultTableOptions are the options of a table that sets none
	// ([analytic.table_opts]); default options.Default().
	DefaultTableOptions *options.Table
	// SnapshotEvery is the number of manifest edits between snapshots
	// (analytic.manifest.snapshot_every_n_updates); default 100.
	SnapshotEvery int
	// ReplayBatchSize is the number of WAL entries read per batch during
	// recovery (analytic.replay_batch_size); default 500.
	ReplayBatchSize int
	// PreflushRatio: a table is flushed when its mutable memtable exceeds
	// write_buffer_size × PreflushRatio
	// (analytic.preflush_write_buffer_size_ratio); default 0.75.
	PreflushRatio float64
	// MemtableMemoryLimit bounds the bytes all memtables hold
	// (analytic.memtable_memory_limit, ours); default 4 GiB. Over it,
	// writes wait for flushes, then fail with ErrServerBusy.
	MemtableMemoryLimit int64
	// WriteStallTimeout is how long a write waits for memtable memory
	// (analytic.write_stall_timeout, ours); default 5s.
	WriteStallTimeout time.Duration
	// DBWriteBufferSize flushes the largest table when all memtables
	// together hold this much (analytic.db_write_buffer_size); 0 means
	// half of MemtableMemoryLimit.
	DBWriteBufferSize int64
	// SpaceWriteBufferSize flushes the largest table of a database whose
	// memtables hold this much (analytic.space_write_buffer_size); 0
	// disables it.
	SpaceWriteBufferSize int64
	// FlushWorkers is the number of background flushes at once; default 2.
	FlushWorkers int
	// CompactionInterval is how often the scheduler looks for work
	// (analytic.compaction.schedule_interval); default 30s.
	CompactionInterval time.Duration
	// MaxOngoingCompactions is how many compactions run at once
	// (analytic.compaction.max_ongoing_tasks); default 8.
	MaxOngoingCompactions int
	// CompactionQueueLen is how many tables may wait for a compaction
	// (analytic.compaction.schedule_channel_len); default 16.
	CompactionQueueLen int
	// CompactionMemoryLimit bounds the SST bytes that running compactions
	// read at once (analytic.compaction.memory_limit); default 4 GiB.
	CompactionMemoryLimit int64
	// MaxInputSSTableSize bounds the bytes one compaction reads (env
	// HORAEDB_MAX_INPUT_SSTABLE_SIZE); default 1200 MiB.
	MaxInputSSTableSize int64
	// MaxUnflushedDuration flushes a memtable that has waited this long
	// (analytic.compaction.max_unflushed_duration); default 5h.
	MaxUnflushedDuration time.Duration
	// SSTMetaCacheCap is how many SST footers (parsed file metadata and
	// tag filters) queries keep cached (analytic.sst_meta_cache_cap).
	// Default 1000; negative: none.
	SSTMetaCacheCap int
	// Now is the clock used for TTL; default time.Now.
	Now func() time.Time
	// DisableAutoCompaction stops compactions after flushes and on the
	// scheduler's rounds; Compact and CompactAll still work. For tests and
	// tools.
	DisableAutoCompaction bool
	// Mem allocates Arrow memory; default memory.DefaultAllocator.
	Mem memory.Allocator
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DefaultTableOptions == nil {
		d := options.Default()
		o.DefaultTableOptions = &d
	}
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = 100
	}
	if o.ReplayBatchSize <= 0 {
		o.ReplayBatchSize = 500
	}
	if o.PreflushRatio <= 0 || o.PreflushRatio > 1 {
		o.PreflushRatio = 0.75
	}
	if o.MemtableMemoryLimit <= 0 {
		o.MemtableMemoryLimit = 4 << 30
	}
	if o.WriteStallTimeout <= 0 {
		o.WriteStallTimeout = 5 * time.Second
	}
	if o.FlushWorkers <= 0 {
		o.FlushWorkers = 2
	}
	if o.CompactionInterval <= 0 {
		o.CompactionInterval = 30 * time.Second
	}
	if o.MaxOngoingCompactions <= 0 {
		o.MaxOngoingCompactions = 8
	}
	if o.CompactionQueueLen <= 0 {
		o.CompactionQueueLen = 16
	}
	if o.CompactionMemoryLimit <= 0 {
		o.CompactionMemoryLimit = 4 << 30
	}
	if o.MaxInputSSTableSize <= 0 {
		o.MaxInputSSTableSize = 1200 << 20
	}
	if o.SSTMetaCacheCap == 0 {
		o.SSTMetaCacheCap = 1000
	}
	if o.MaxUnflushedDuration <= 0 {
		o.MaxUnflushedDuration = 5 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Mem == nil {
		o.Mem = memory.DefaultAllocator
	}
}

// Validate checks required fields.
func (o *Options) Validate() error {
	if o.WAL == nil || o.Store == nil {
		return fmt.Errorf("engine: options: WAL and Store are required")
	}
	return nil
}

// Engine holds the open shards and their tables.
type Engine struct {
	o             Options
	log           *slog.Logger
	sstMeta       *sst.MetaCache // nil: none
	metrics       *metrics
	flushCh       chan *Table
	compactCh     chan *Table
	compactBudget *byteSemaphore
	budget        *memBudget
	stop          chan struct{}
	wg            sync.WaitGroup
	idMu          sync.Mutex // serialises AllocTableID

	mu struct {
		sync.Mutex
		closed bool
		shards map[uint32]*shard
		// byName indexes open tables by database and name; creating
		// reserves a name while its table is being created.
		byName   map[tableKey]*Table
		creating map[tableKey]bool
		nextID   uint64 // standalone table id allocator, see AllocTableID
	}
}

type tableKey struct{ database, name string }

// Open returns a running engine with no shards open; it starts the
// background flush workers.
func Open(o Options) (*Engine, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	budget := newMemBudget()
	e := &Engine{o: o, log: o.Logger, metrics: newMetrics(o.Registerer, budget), budget: budget, sstMeta: sst.NewMetaCache(o.SSTMetaCacheCap),
		flushCh: make(chan *Table, 1024), stop: make(chan struct{}),
		compactCh: make(chan *Table, o.CompactionQueueLen), compactBudget: newByteSemaphore(o.CompactionMemoryLimit)}
	e.mu.shards = map[uint32]*shard{}
	e.mu.byName = map[tableKey]*Table{}
	e.mu.creating = map[tableKey]bool{}
	for i := 0; i < o.FlushWorkers; i++ {
		e.wg.Add(1)
		go e.flushWorker()
	}
	for i := 0; i < o.MaxOngoingCompactions; i++ {
		e.wg.Add(1)
		go e.compactWorker()
	}
	e.wg.Add(1)
	go e.scheduler()
	return e, nil
}

// Close stops background work and closes every shard. It does not flush:
// unflushed writes are in the WAL. Idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.mu.closed {
		e.mu.Unlock()
		return nil
	}
	e.mu.closed = true
	shards := make([]*shard, 0, len(e.mu.shards))
	for _, s := range e.mu.shards {
		shards = append(shards, s)
	}
	e.mu.shards = map[uint32]*shard{}
	e.mu.byName = map[tableKey]*Table{}
	e.mu.Unlock()
	close(e.stop)
	e.wg.Wait()
	var errs []error
	for _, s := range shards {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// Table returns an open table by database (schema) and name.
func (e *Engine) Table(database, name string) (*Table, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.mu.byName[tableKey{database, name}]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrTableNotFound, name)
}

// Tables returns the open tables of a database, in no particular order.
func (e *Engine) Tables(database string) []*Table {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*Table
	for k, t := range e.mu.byName {
		if k.database == database {
			out = append(out, t)
		}
	}
	return out
}

// Databases returns the names of databases that have open tables.
func (e *Engine) Databases() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for k := range e.mu.byName {
		if !seen[k.database] {
			seen[k.database] = true
			out = append(out, k.database)
		}
	}
	return out
}

// Shards returns the ids of the open shards.
func (e *Engine) Shards() []uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]uint32, 0, len(e.mu.shards))
	for id := range e.mu.shards {
		out = append(out, id)
	}
	return out
}

// FlushAll flushes every open table and reports which succeeded.
func (e *Engine) FlushAll(ctx context.Context) (flushed, failed []string) {
	e.mu.Lock()
	tables := make([]*Table, 0, len(e.mu.byName))
	for _, t := range e.mu.byName {
		tables = append(tables, t)
	}
	e.mu.Unlock()
	for _, t := range tables {
		if err := t.Flush(ctx); err != nil {
			e.log.Warn("flush failed", "table", t.Name(), "err", err)
			failed = append(failed, t.Name())
		} else {
			flushed = append(flushed, t.Name())
		}
	}
	return flushed, failed
}

// byteSemaphore bounds a sum of byte counts held at once; one holder may
// exceed the limit alone (so no request waits forever).
type byteSemaphore struct {
	mu    sync.Mutex
	limit int64
	used  int64
	freed chan struct{} // closed and replaced on every release
}

func newByteSemaphore(limit int64) *byteSemaphore {
	return &byteSemaphore{limit: limit, freed: make(chan struct{})}
}

func (s *byteSemaphore) acquire(ctx context.Context, n int64) error {
	for {
		s.mu.Lock()
		if s.used == 0 || s.used+n <= s.limit {
			s.used += n
			s.mu.Unlock()
			return nil
		}
		wait := s.freed
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *byteSemaphore) release(n int64) {
	s.mu.Lock()
	s.used -= n
	close(s.freed)
	s.freed = make(chan struct{})
	s.mu.Unlock()
}
