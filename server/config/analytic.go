package config

import (
	"sort"

	"github.com/horaego/horaedb/internal/units"
)

// Recover modes: how a node replays the WAL of the tables it opens.
const (
	RecoverShardBased = "ShardBased"
	RecoverTableBased = "TableBased"
)

// WAL encodings.
const (
	WALEncodeRowWise  = "RowWise"
	WALEncodeColumnar = "Columnar"
)

// Compaction modes and node pickers.
const (
	CompactionLocal   = "Local"
	CompactionOffload = "Offload"

	NodePickerLocal  = "Local"
	NodePickerRemote = "Remote"
)

// AnalyticConfig is [analytic]: the storage engine.
type AnalyticConfig struct {
	// ReplayBatchSize is the number of WAL entries replayed per batch.
	// Default 500.
	ReplayBatchSize int `toml:"replay_batch_size"`
	// MaxReplayTablesPerBatch is the number of tables recovered together.
	// Default 64.
	MaxReplayTablesPerBatch int `toml:"max_replay_tables_per_batch"`
	// TryCompatOldLayeredMemtableOpts reads the layered memtable options of
	// tables created by old versions. Default false.
	TryCompatOldLayeredMemtableOpts bool `toml:"try_compat_old_layered_memtable_opts"`
	// SSTMetaCacheCap is the number of SST metadata entries cached; 0
	// disables the cache. Default 1000.
	SSTMetaCacheCap int `toml:"sst_meta_cache_cap"`
	// SSTDataCacheCap is the number of SST data entries cached; 0 disables
	// the cache. Default 1000.
	SSTDataCacheCap int `toml:"sst_data_cache_cap"`
	// MaxRowsInWriteQueue bounds the rows waiting for the write lock of a
	// table; 0 disables the bound. Default 0.
	MaxRowsInWriteQueue int `toml:"max_rows_in_write_queue"`
	// SpaceWriteBufferSize flushes the largest table of a schema when the
	// memtables of the schema exceed it; 0 disables. Default 0 (bytes).
	SpaceWriteBufferSize units.Size `toml:"space_write_buffer_size"`
	// DBWriteBufferSize flushes the largest table of the node when all
	// memtables exceed it; 0 disables. Default 0 (bytes).
	DBWriteBufferSize units.Size `toml:"db_write_buffer_size"`
	// MemtableMemoryLimit bounds the bytes all memtables of the node hold.
	// Over it writes wait for flushes (write_stall_timeout), then fail
	// with 503 "server busy". Ours. Default 4GB.
	MemtableMemoryLimit units.Size `toml:"memtable_memory_limit"`
	// WriteStallTimeout is how long a write waits for memtable memory
	// before it fails as server busy. Ours. Default 5s.
	WriteStallTimeout units.Duration `toml:"write_stall_timeout"`
	// PreflushWriteBufferSizeRatio is the fraction of a table's
	// write_buffer_size its mutable memtable may reach before it is frozen.
	// Default 0.75.
	PreflushWriteBufferSizeRatio float64 `toml:"preflush_write_buffer_size_ratio"`
	// EnablePrimaryKeySampling picks the primary key of new tables without
	// one from the first rows written. Default false.
	EnablePrimaryKeySampling bool `toml:"enable_primary_key_sampling"`
	// ScanBatchSize is the number of rows per scanned batch. Default 0: the
	// table's num_rows_per_row_group.
	ScanBatchSize int `toml:"scan_batch_size,omitzero"`
	// ScanMaxRecordBatchesInFlight bounds the batches buffered by a scan.
	// Default 1024.
	ScanMaxRecordBatchesInFlight int `toml:"scan_max_record_batches_in_flight"`
	// SSTBackgroundReadParallelism is the number of SST reads run in the
	// background per scan. Default 8.
	SSTBackgroundReadParallelism int `toml:"sst_background_read_parallelism"`
	// NumStreamsToPrefetch is the number of SST streams opened ahead of a
	// merge. Default 2.
	NumStreamsToPrefetch int `toml:"num_streams_to_prefetch"`
	// WriteSSTMaxBufferSize is the buffer of an SST being written. Default
	// 10MB.
	WriteSSTMaxBufferSize units.Size `toml:"write_sst_max_buffer_size"`
	// MaxRetryFlushLimit is how often a failed flush is retried before the
	// table stops accepting writes; 0 retries without limit. Default 0.
	MaxRetryFlushLimit int `toml:"max_retry_flush_limit"`
	// MinFlushInterval is the shortest time between two flushes of a table
	// triggered by memory pressure. Default 1m.
	MinFlushInterval units.Duration `toml:"min_flush_interval"`
	// MaxBytesPerWriteBatch splits larger writes into several WAL batches
	// (which makes them non-atomic). Default 0: never split.
	MaxBytesPerWriteBatch units.Size `toml:"max_bytes_per_write_batch,omitzero"`
	// MemUsageSamplingInterval is how often memtable memory is sampled; 0
	// disables sampling. Default 0s.
	MemUsageSamplingInterval units.Duration `toml:"mem_usage_sampling_interval"`
	// RecoverMode is "ShardBased" (replay a shard's WAL once for all its
	// tables) or "TableBased". Default "ShardBased".
	RecoverMode string `toml:"recover_mode"`

	// Metrics configures engine metrics.
	Metrics MetricsConfig `toml:"metrics"`
	// WALEncode configures how writes are encoded in the WAL.
	WALEncode WALEncodeConfig `toml:"wal_encode"`
	// TableOpts are the default options of new tables, keyed like the
	// options of CREATE TABLE ... WITH (...), e.g. write_buffer_size =
	// 33554432, ttl = "7d", enable_ttl = true. Values are integers, strings,
	// booleans or floats; the storage engine validates them. Default empty:
	// the engine's defaults.
	TableOpts map[string]any `toml:"table_opts"`
	// Manifest configures the table manifests.
	Manifest ManifestConfig `toml:"manifest"`
	// Compaction configures the flush and compaction scheduler.
	Compaction CompactionConfig `toml:"compaction"`
	// CompactionMode runs compactions locally or offloads them.
	CompactionMode CompactionModeConfig `toml:"compaction_mode"`
	// RemoteEngineClient configures calls to other nodes made by the
	// engine (compaction offload, partitioned tables).
	RemoteEngineClient RemoteEngineClientConfig `toml:"remote_engine_client"`
	// Storage is the object store holding SSTs and its caches.
	Storage StorageConfig `toml:"storage"`
	// WAL is the write-ahead log.
	WAL WALConfig `toml:"wal"`
}

// MetricsConfig is [analytic.metrics].
type MetricsConfig struct {
	// EnableTableLevelMetrics exports metrics per table. Default false.
	EnableTableLevelMetrics bool `toml:"enable_table_level_metrics"`
}

// WALEncodeConfig is [analytic.wal_encode].
type WALEncodeConfig struct {
	// NumBytesCompressThreshold is the encoded size from which a WAL entry is
	// compressed. Default 1KB.
	NumBytesCompressThreshold units.Size `toml:"num_bytes_compress_threshold"`
	// Format is "RowWise" or "Columnar". Default "RowWise".
	Format string `toml:"format"`
}

// ManifestConfig is [analytic.manifest].
type ManifestConfig struct {
	// SnapshotEveryNUpdates writes a manifest snapshot after this many
	// edits. Default 100.
	SnapshotEveryNUpdates int `toml:"snapshot_every_n_updates"`
	// ScanTimeout bounds reading a manifest. Default 5s.
	ScanTimeout units.Duration `toml:"scan_timeout"`
	// ScanBatchSize is the number of edits read per batch. Default 100.
	ScanBatchSize int `toml:"scan_batch_size"`
	// StoreTimeout bounds writing a manifest edit or snapshot. Default 5s.
	StoreTimeout units.Duration `toml:"store_timeout"`
}

// CompactionConfig is [analytic.compaction]: the scheduler of flushes and
// compactions.
type CompactionConfig struct {
	// ScheduleChannelLen is the length of the scheduler's request queue.
	// Default 16.
	ScheduleChannelLen int `toml:"schedule_channel_len"`
	// ScheduleInterval is how often every table is checked for compaction.
	// Default 30s.
	ScheduleInterval units.Duration `toml:"schedule_interval"`
	// MaxOngoingTasks is the number of compactions run at once. Default 8.
	MaxOngoingTasks int `toml:"max_ongoing_tasks"`
	// MaxUnflushedDuration flushes tables not flushed for this long.
	// Default 5h.
	MaxUnflushedDuration units.Duration `toml:"max_unflushed_duration"`
	// MemoryLimit bounds the memory of running compactions. Default 4GB.
	MemoryLimit units.Size `toml:"memory_limit"`
	// MaxInputSSTableSize bounds the SST bytes one compaction reads.
	// Ours: upstream reads only the environment variable
	// HORAEDB_MAX_INPUT_SSTABLE_SIZE, which overrides this. Default 1200MB.
	MaxInputSSTableSize units.Size `toml:"max_input_sstable_size"`
	// MaxPendingCompactionTasks is the number of compactions that may wait.
	// Default 1024.
	MaxPendingCompactionTasks int `toml:"max_pending_compaction_tasks"`
}

// CompactionModeConfig is [analytic.compaction_mode], tagged by
// compaction_mode:
//
//	compaction_mode = "Local"
//	compaction_mode = "Offload", node_picker = "Local", endpoint = "host:port"
//	compaction_mode = "Offload", node_picker = "Remote"   # asks HoraeMeta
type CompactionModeConfig struct {
	// CompactionMode is "Local" or "Offload". Default "Local".
	CompactionMode string `toml:"compaction_mode"`
	// NodePicker chooses the compaction node when offloading: "Local" (the
	// fixed Endpoint) or "Remote" (HoraeMeta picks). Default "".
	NodePicker string `toml:"node_picker,omitempty"`
	// Endpoint is the compaction node "host:port" for node_picker "Local".
	// Default "".
	Endpoint string `toml:"endpoint,omitempty"`
}

func defaultAnalytic() AnalyticConfig {
	return AnalyticConfig{
		ReplayBatchSize:              500,
		MaxReplayTablesPerBatch:      64,
		SSTMetaCacheCap:              1000,
		SSTDataCacheCap:              1000,
		PreflushWriteBufferSizeRatio: 0.75,
		MemtableMemoryLimit:          4 << 30,
		WriteStallTimeout:            seconds(5),
		ScanMaxRecordBatchesInFlight: 1024,
		SSTBackgroundReadParallelism: 8,
		NumStreamsToPrefetch:         2,
		WriteSSTMaxBufferSize:        10 << 20,
		MinFlushInterval:             seconds(60),
		RecoverMode:                  RecoverShardBased,
		WALEncode:                    WALEncodeConfig{NumBytesCompressThreshold: 1 << 10, Format: WALEncodeRowWise},
		TableOpts:                    map[string]any{},
		Manifest: ManifestConfig{
			SnapshotEveryNUpdates: 100,
			ScanTimeout:           seconds(5),
			ScanBatchSize:         100,
			StoreTimeout:          seconds(5),
		},
		Compaction: CompactionConfig{
			ScheduleChannelLen:        16,
			ScheduleInterval:          seconds(30),
			MaxOngoingTasks:           8,
			MaxUnflushedDuration:      seconds(5 * 3600),
			MemoryLimit:               4 << 30,
			MaxInputSSTableSize:       1200 << 20,
			MaxPendingCompactionTasks: 1024,
		},
		CompactionMode:     CompactionModeConfig{CompactionMode: CompactionLocal},
		RemoteEngineClient: defaultRemoteEngineClient(),
		Storage:            defaultStorage(),
		WAL:                DefaultWAL(WALLocal),
	}
}

func (a *AnalyticConfig) check(v *validator, key string) {
	v.positive(key+".replay_batch_size", a.ReplayBatchSize)
	v.positive(key+".max_replay_tables_per_batch", a.MaxReplayTablesPerBatch)
	v.nonNegative(key+".sst_meta_cache_cap", a.SSTMetaCacheCap)
	v.nonNegative(key+".sst_data_cache_cap", a.SSTDataCacheCap)
	v.nonNegative(key+".max_rows_in_write_queue", a.MaxRowsInWriteQueue)
	if r := a.PreflushWriteBufferSizeRatio; !(r > 0 && r <= 1) {
		v.add(key+".preflush_write_buffer_size_ratio", "must be in (0, 1], got %v", r)
	}
	v.nonNegative(key+".scan_batch_size", a.ScanBatchSize)
	v.positive(key+".scan_max_record_batches_in_flight", a.ScanMaxRecordBatchesInFlight)
	v.positive(key+".sst_background_read_parallelism", a.SSTBackgroundReadParallelism)
	v.nonNegative(key+".num_streams_to_prefetch", a.NumStreamsToPrefetch)
	if a.WriteSSTMaxBufferSize == 0 {
		v.add(key+".write_sst_max_buffer_size", "must be positive")
	}
	v.nonNegative(key+".max_retry_flush_limit", a.MaxRetryFlushLimit)
	durNonNegative(v, key+".min_flush_interval", a.MinFlushInterval)
	durNonNegative(v, key+".mem_usage_sampling_interval", a.MemUsageSamplingInterval)
	if a.MemtableMemoryLimit == 0 {
		v.add(key+".memtable_memory_limit", "must be positive")
	}
	durPositive(v, key+".write_stall_timeout", a.WriteStallTimeout)
	v.oneOf(key+".recover_mode", "recover mode", a.RecoverMode, RecoverShardBased, RecoverTableBased)
	v.oneOf(key+".wal_encode.format", "format", a.WALEncode.Format, WALEncodeRowWise, WALEncodeColumnar)
	checkTableOpts(v, key+".table_opts", a.TableOpts)
	a.Manifest.check(v, key+".manifest")
	a.Compaction.check(v, key+".compaction")
	a.CompactionMode.check(v, key+".compaction_mode")
	a.RemoteEngineClient.check(v, key+".remote_engine_client")
	a.Storage.check(v, key+".storage")
	a.WAL.check(v, key+".wal")
}

// checkTableOpts only checks the value types; the engine checks the values.
func checkTableOpts(v *validator, key string, opts map[string]any) {
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch opts[k].(type) {
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
			float32, float64, string, bool:
		default:
			v.add(key+"."+k, "unsupported value %v (want an integer, string, boolean or float)", opts[k])
		}
	}
}

func (m *ManifestConfig) check(v *validator, key string) {
	v.positive(key+".snapshot_every_n_updates", m.SnapshotEveryNUpdates)
	durPositive(v, key+".scan_timeout", m.ScanTimeout)
	v.positive(key+".scan_batch_size", m.ScanBatchSize)
	durPositive(v, key+".store_timeout", m.StoreTimeout)
}

func (c *CompactionConfig) check(v *validator, key string) {
	v.positive(key+".schedule_channel_len", c.ScheduleChannelLen)
	durPositive(v, key+".schedule_interval", c.ScheduleInterval)
	v.positive(key+".max_ongoing_tasks", c.MaxOngoingTasks)
	durPositive(v, key+".max_unflushed_duration", c.MaxUnflushedDuration)
	if c.MemoryLimit == 0 {
		v.add(key+".memory_limit", "must be positive")
	}
	if c.MaxInputSSTableSize == 0 {
		v.add(key+".max_input_sstable_size", "must be positive")
	}
	v.positive(key+".max_pending_compaction_tasks", c.MaxPendingCompactionTasks)
}

func (c *CompactionModeConfig) check(v *validator, key string) {
	switch c.CompactionMode {
	case CompactionLocal:
		if c.NodePicker != "" || c.Endpoint != "" {
			v.add(key+".node_picker", "only allowed with compaction_mode %q", CompactionOffload)
		}
	case CompactionOffload:
		switch c.NodePicker {
		case NodePickerLocal:
			hostPort(v, key+".endpoint", c.Endpoint)
		case NodePickerRemote:
			if c.Endpoint != "" {
				v.add(key+".endpoint", "only allowed with node_picker %q", NodePickerLocal)
			}
		default:
			v.oneOf(key+".node_picker", "node picker", c.NodePicker, NodePickerLocal, NodePickerRemote)
		}
	default:
		v.oneOf(key+".compaction_mode", "compaction mode", c.CompactionMode, CompactionLocal, CompactionOffload)
	}
}
