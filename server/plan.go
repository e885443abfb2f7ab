package server

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/server/config"
	"github.com/horaego/horaedb/server/grpcapi"
	"github.com/horaego/horaedb/wal/kafka"
	"github.com/horaego/horaedb/wal/table"
)

// Subdirectories of the configured data directories.
const (
	// walSubdir is where the WAL lives under analytic.wal.data_dir.
	walSubdir = "wal"
	// storeSubdir is where the local object store lives under
	// analytic.storage.object_store.data_dir.
	storeSubdir = "store"
)

// WAL backends a plan may pick.
const (
	walLocal = "local"
	walKafka = "kafka"
	walTable = "table"
)

// plan is what a config asks the server to open, decided without I/O.
type plan struct {
	// walKind is walLocal (in walDir), walKafka (kafkaWAL) or walTable
	// (tableWAL; with obkv set, its DSN comes from upstream's Obkv keys at
	// Start, which may ask OceanBase's config server).
	walKind  string
	walDir   string
	kafkaWAL kafka.Options
	tableWAL table.Options
	obkv     *config.ObkvConfig
	storeDir string               // the Local object store's directory
	storage  config.StorageConfig // [analytic.storage]
	// engine holds the engine options that come from the config; the
	// WAL, store, logger and registerer are filled in by Start.
	engine engine.Options
	// grpc holds the gRPC API's options that come from the config; the
	// executor, logger and registerer are filled in by Start, and the
	// endpoint's port from the listener.
	grpc grpcapi.Options
}

// makePlan checks that this version supports what cfg asks for and turns it
// into a plan. Every problem is reported, each naming its key.
func makePlan(cfg *config.Config) (plan, error) {
	var p plan
	errs := unsupported(cfg)

	switch w := cfg.Analytic.WAL; {
	case w.Type == config.WALLocal && w.Local != nil:
		p.walKind, p.walDir = walLocal, filepath.Join(w.Local.DataDir, walSubdir)
	case w.Type == config.WALRocksDB && w.RocksDB != nil:
		p.walKind, p.walDir = walLocal, filepath.Join(w.RocksDB.DataDir, walSubdir)
	case w.Type == config.WALKafka && w.Kafka != nil:
		p.walKind, p.kafkaWAL = walKafka, kafkaOptions(w.Kafka)
	case w.Type == config.WALTable && w.Table != nil:
		p.walKind, p.tableWAL = walTable, tableOptions(w.Table)
	case w.Type == config.WALObkv && w.Obkv != nil:
		p.walKind, p.tableWAL, p.obkv = walTable, obkvOptions(w.Obkv), &w.Obkv.Obkv
	}
	if o := cfg.Analytic.Storage.ObjectStore; o.Type == config.ObjectStoreLocal && o.Local != nil {
		p.storeDir = filepath.Join(o.Local.DataDir, storeSubdir)
	}
	p.storage = cfg.Analytic.Storage

	topts, err := defaultTableOptions(cfg.Analytic.TableOpts)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return plan{}, errors.Join(errs...)
	}
	p.engine = engine.Options{
		DefaultTableOptions: &topts,
		SnapshotEvery:       cfg.Analytic.Manifest.SnapshotEveryNUpdates,
		ReplayBatchSize:     cfg.Analytic.ReplayBatchSize,
		PreflushRatio:       cfg.Analytic.PreflushWriteBufferSizeRatio,

		MemtableMemoryLimit:  int64(cfg.Analytic.MemtableMemoryLimit),
		WriteStallTimeout:    cfg.Analytic.WriteStallTimeout.D(),
		DBWriteBufferSize:    int64(cfg.Analytic.DBWriteBufferSize),
		SpaceWriteBufferSize: int64(cfg.Analytic.SpaceWriteBufferSize),

		CompactionInterval:    cfg.Analytic.Compaction.ScheduleInterval.D(),
		MaxOngoingCompactions: cfg.Analytic.Compaction.MaxOngoingTasks,
		CompactionQueueLen:    cfg.Analytic.Compaction.ScheduleChannelLen,
		CompactionMemoryLimit: int64(cfg.Analytic.Compaction.MemoryLimit),
		MaxInputSSTableSize:   int64(cfg.Analytic.Compaction.MaxInputSSTableSize),
		MaxUnflushedDuration:  cfg.Analytic.Compaction.MaxUnflushedDuration.D(),
		SSTMetaCacheCap:       sstMetaCacheCap(cfg.Analytic.SSTMetaCacheCap),
	}
	p.grpc = grpcOptions(&cfg.Server, &cfg.Node)
	return p, nil
}

// grpcOptions maps [server] and [node] onto the gRPC API's options.
func grpcOptions(s *config.ServerConfig, n *config.NodeConfig) grpcapi.Options {
	return grpcapi.Options{
		Endpoint:              grpcapi.Endpoint{Host: n.Addr, Port: uint32(s.GRPCPort)},
		TimestampColumn:       s.DefaultSchemaConfig.DefaultTimestampColumnName,
		RespCompressMinLength: int64(s.RespCompressMinLength),
		Timeout:               s.Timeout.D(),
	}
}

// unsupported lists what cfg asks for that this version cannot run yet.
func unsupported(cfg *config.Config) []error {
	var errs []error
	switch d := cfg.ClusterDeployment; d.Mode {
	case config.ModeWithMeta:
		if c := d.WithMeta; c != nil && c.MetaClient.ClusterName == "" {
			errs = append(errs, fmt.Errorf(`%w: cluster_deployment.meta_client.cluster_name is required in mode %s `+
				`(or set %s)`, config.ErrInvalid, d.Mode, config.EnvClusterName))
		}
		if c := d.WithMeta; c != nil && c.NodeType == config.NodeTypeCompactionServer {
			errs = append(errs, fmt.Errorf(`%w: cluster_deployment.node_type = %q: compaction servers `+
				`are not supported yet; use %q`, ErrNotSupported, c.NodeType, config.NodeTypeHoraeDB))
		}
	}
	switch t := cfg.Analytic.WAL.Type; t {
	case config.WALLocal, config.WALRocksDB, config.WALKafka, config.WALTable, config.WALObkv:
	default:
		errs = append(errs, fmt.Errorf(`%w: analytic.wal.type = %q (this version supports %s)`,
			ErrNotSupported, t, strings.Join([]string{config.WALLocal, config.WALRocksDB, config.WALKafka,
				config.WALTable, config.WALObkv}, ", ")))
	}
	return errs
}

// applyDataDir points the local WAL and object store at dir (--data-dir).
func applyDataDir(cfg *config.Config, dir string) {
	w := &cfg.Analytic.WAL
	if w.Local != nil {
		w.Local.DataDir = dir
	}
	if w.RocksDB != nil {
		w.RocksDB.DataDir = dir
	}
	if o := cfg.Analytic.Storage.ObjectStore.Local; o != nil {
		o.DataDir = dir
	}
	if st := &cfg.Analytic.Storage; st.DiskCacheDir == config.Default().Analytic.Storage.DiskCacheDir {
		st.DiskCacheDir = filepath.Join(dir, "disk_cache")
	}
}

// kafkaOptions maps [analytic.wal] of type Kafka onto the Kafka WAL's
// options. The logger and registerer are Start's.
func kafkaOptions(k *config.KafkaWALConfig) kafka.Options {
	c := &k.Kafka
	return kafka.Options{
		Brokers:             c.Client.Brokers(),
		ReplicationFactor:   c.TopicManagement.CreateReplicationFactor,
		CreateTimeout:       time.Duration(c.TopicManagement.CreateMaxWaitMs) * time.Millisecond,
		DeleteTimeout:       time.Duration(c.TopicManagement.DeleteMaxWaitMs) * time.Millisecond,
		FetchMaxWait:        time.Duration(c.Consumer.MaxWaitMs) * time.Millisecond,
		FetchMinBytes:       int32(c.Consumer.MinBatchSize),
		FetchMaxBytes:       int32(min(c.Consumer.MaxBatchSize, 1<<30)),
		MaxMessageBytes:     int(min(uint64(c.Client.MaxMessageSize), 1<<30)),
		InitRetryInterval:   c.InitRetryInterval.D(),
		RetryIntervalFactor: c.RetryIntervalFactor,
		MaxRetryInterval:    c.MaxRetryInterval.D(),
		MaxRetry:            c.MaxRetry,
		CleanPeriod:         k.DataNamespace.CleanPeriod.D(),
		MetaCleanPeriod:     k.MetaNamespace.CleanPeriod.D(),
		Socks5Proxy:         c.Client.Socks5Proxy,
	}
}

// tableOptions maps [analytic.wal] of type Table onto the table-store
// WAL's options. meta_namespace is not used: manifests live in the object
// store.
func tableOptions(t *config.TableWALConfig) table.Options {
	return table.Options{
		DSN:          t.DSN,
		Namespace:    t.DataNamespace.Name,
		MaxOpenConns: t.MaxOpenConns,
		CleanPeriod:  t.DataNamespace.CleanPeriod.D(),
	}
}

// obkvOptions maps [analytic.wal] of type Obkv onto the table-store WAL's
// options, upstream's keys where they mean something for tables reached
// over the MySQL protocol; the DSN comes from obkv.full_user_name,
// password and param_url at Start (table.ObkvDSN).
func obkvOptions(o *config.ObkvWALConfig) table.Options {
	d := &o.DataNamespace
	return table.Options{
		Buckets:                  d.ShardNum,
		TTL:                      d.TTL.D(),
		OpenTimeout:              d.InitScanTimeout.D(),
		CreateTableRetries:       o.Obkv.MaxCreateTableRetries,
		CreateTableRetryInterval: o.Obkv.CreateTableRetryInterval.D(),
		CheckBatchResultNum:      o.Obkv.CheckBatchResultNum,
	}
}

// defaultTableOptions turns [analytic.table_opts] into the default table options:
// the values are stringified and applied as a CREATE TABLE's WITH clause.
func defaultTableOptions(opts map[string]any) (options.Table, error) {
	kv := make(map[string]string, len(opts))
	for k, v := range opts {
		s, ok := optionString(v)
		if !ok {
			return options.Table{}, fmt.Errorf("analytic.table_opts.%s: unsupported value %v (%T)", k, v, v)
		}
		kv[k] = s
	}
	t, err := options.Default().Apply(kv, true)
	if err != nil {
		// The engine's message names the option; say where it came from.
		return options.Table{}, fmt.Errorf("analytic.table_opts: %w", err)
	}
	return t, nil
}

// optionString renders a TOML value the way it would be written in WITH.
func optionString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int8, int16, int32, uint, uint8, uint16, uint32:
		return fmt.Sprint(x), true
	}
	return "", false
}

// sstMetaCacheCap maps analytic.sst_meta_cache_cap (0: no cache) onto
// engine.Options.SSTMetaCacheCap (0: the default, negative: none).
func sstMetaCacheCap(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
