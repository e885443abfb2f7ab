package config

import (
	"regexp"
	"strings"

	"github.com/horaego/horaedb/internal/units"
)

// WAL types, the values of analytic.wal.type.
const (
	// WALLocal is the local disk WAL (upstream: segment files; ours: Pebble).
	WALLocal = "Local"
	// WALRocksDB is upstream's RocksDB WAL; we serve it with the same local
	// WAL as Local, so configs written for it keep working.
	WALRocksDB = "RocksDB"
	// WALKafka keeps the WAL in Kafka topics.
	WALKafka = "Kafka"
	// WALObkv keeps the WAL in OceanBase table-kv.
	WALObkv = "Obkv"
	// WALTable is our table-store WAL: tables in a database spoken to over
	// the MySQL protocol (MySQL, MariaDB, OceanBase, TiDB ...).
	WALTable = "Table"
)

var walTypes = []string{WALLocal, WALRocksDB, WALKafka, WALObkv, WALTable}

// WALConfig is [analytic.wal], tagged by type; the keys of the variant sit in
// the same table:
//
//	[analytic.wal]
//	type = "Kafka"
//	[analytic.wal.kafka.client]
//	boost_brokers = ["127.0.0.1:9092"]
//
// Parse sets only the pointer named by Type; the others are ignored.
type WALConfig struct {
	// Type is Local, RocksDB, Kafka, Obkv or Table. Default "Local".
	Type string `toml:"type"`
	// DisableData skips the WAL for table data (the manifest still uses
	// it): acknowledged writes are lost on a crash. Default false.
	DisableData bool `toml:"disable_data"`

	// Local is set for type Local.
	Local *LocalWALConfig `toml:"-"`
	// RocksDB is set for type RocksDB.
	RocksDB *RocksDBWALConfig `toml:"-"`
	// Kafka is set for type Kafka.
	Kafka *KafkaWALConfig `toml:"-"`
	// Obkv is set for type Obkv.
	Obkv *ObkvWALConfig `toml:"-"`
	// Table is set for type Table.
	Table *TableWALConfig `toml:"-"`
}

// LocalWALConfig is WAL type Local.
type LocalWALConfig struct {
	// DataDir is the root directory of the WAL. Default "data" (upstream:
	// $TMPDIR/horaedb).
	DataDir string `toml:"data_dir"`
	// SegmentSize is the size of a WAL segment. Default 64MB.
	SegmentSize units.Size `toml:"segment_size"`
	// CacheSize is the number of open segments cached. Default 3.
	CacheSize int `toml:"cache_size"`
}

// RocksDBWALConfig is WAL type RocksDB. The namespace options tune RocksDB
// upstream; our local WAL accepts them and applies what maps onto Pebble.
type RocksDBWALConfig struct {
	// DataDir is the root directory of the WAL. Default "data" (upstream:
	// $TMPDIR/horaedb).
	DataDir string `toml:"data_dir"`
	// DataNamespace tunes the log of table data.
	DataNamespace RocksDBNamespaceConfig `toml:"data_namespace"`
	// MetaNamespace tunes the log of manifests.
	MetaNamespace RocksDBNamespaceConfig `toml:"meta_namespace"`
}

// RocksDBNamespaceConfig tunes one RocksDB instance.
type RocksDBNamespaceConfig struct {
	// MaxSubcompactions. Default 1.
	MaxSubcompactions int `toml:"max_subcompactions"`
	// MaxBackgroundJobs. Default 2.
	MaxBackgroundJobs int `toml:"max_background_jobs"`
	// EnableStatistics. Default false.
	EnableStatistics bool `toml:"enable_statistics"`
	// WriteBufferSize is the memtable size. Default 64MB.
	WriteBufferSize units.Size `toml:"write_buffer_size"`
	// MaxWriteBufferNumber is the number of memtables. Default 2.
	MaxWriteBufferNumber int `toml:"max_write_buffer_number"`
	// Level0FileNumCompactionTrigger (files). Default 4.
	Level0FileNumCompactionTrigger int `toml:"level_zero_file_num_compaction_trigger"`
	// Level0SlowdownWritesTrigger (files). Default 20.
	Level0SlowdownWritesTrigger int `toml:"level_zero_slowdown_writes_trigger"`
	// Level0StopWritesTrigger (files). Default 36.
	Level0StopWritesTrigger int `toml:"level_zero_stop_writes_trigger"`
	// FifoCompactionMaxTableFilesSize switches to FIFO compaction with this
	// total size when positive. Default 0: off.
	FifoCompactionMaxTableFilesSize units.Size `toml:"fifo_compaction_max_table_files_size"`
}

// KafkaWALConfig is WAL type Kafka.
type KafkaWALConfig struct {
	// Kafka configures the client.
	Kafka KafkaConfig `toml:"kafka"`
	// DataNamespace configures the topics of table data.
	DataNamespace KafkaNamespaceConfig `toml:"data_namespace"`
	// MetaNamespace configures the topics of manifests.
	MetaNamespace KafkaNamespaceConfig `toml:"meta_namespace"`
}

// KafkaConfig is [analytic.wal.kafka].
type KafkaConfig struct {
	// Client says how to reach the brokers.
	Client KafkaClientConfig `toml:"client"`
	// TopicManagement configures topic creation and deletion.
	TopicManagement KafkaTopicManagementConfig `toml:"topic_management"`
	// Consumer configures reading.
	Consumer KafkaConsumerConfig `toml:"consumer"`
	// RetryIntervalFactor multiplies the retry interval after each failure.
	// Default 2.0.
	RetryIntervalFactor float64 `toml:"retry_interval_factor"`
	// InitRetryInterval is the first retry interval. Default 1s.
	InitRetryInterval units.Duration `toml:"init_retry_interval"`
	// MaxRetryInterval caps the retry interval. Default 10s.
	MaxRetryInterval units.Duration `toml:"max_retry_interval"`
	// MaxRetry is how often a failed call is retried. Default 10.
	MaxRetry int `toml:"max_retry"`
}

// KafkaClientConfig is [analytic.wal.kafka.client].
type KafkaClientConfig struct {
	// BoostBrokers are the "host:port" of the brokers to bootstrap from.
	// Required (here or in boost_broker).
	BoostBrokers []string `toml:"boost_brokers"`
	// BoostBroker is the older single-broker spelling used by the
	// deployment guide ("host:port", also a comma-separated list). Parse
	// moves it into BoostBrokers.
	BoostBroker string `toml:"boost_broker,omitempty"`
	// MaxMessageSize caps a produced message. Default 0: the client's
	// default.
	MaxMessageSize units.Size `toml:"max_message_size,omitzero"`
	// Socks5Proxy is "host:port" of a SOCKS5 proxy. Default "": none.
	Socks5Proxy string `toml:"socks5_proxy,omitempty"`
}

// KafkaTopicManagementConfig is [analytic.wal.kafka.topic_management].
type KafkaTopicManagementConfig struct {
	// CreateReplicationFactor of new topics. Default 1.
	CreateReplicationFactor int `toml:"create_replication_factor"`
	// CreateMaxWaitMs bounds topic creation, in milliseconds. Default 5000.
	CreateMaxWaitMs int `toml:"create_max_wait_ms"`
	// DeleteMaxWaitMs bounds record deletion, in milliseconds. Default
	// 5000.
	DeleteMaxWaitMs int `toml:"delete_max_wait_ms"`
}

// KafkaConsumerConfig is [analytic.wal.kafka.consumer]; 0 means the client's
// default.
type KafkaConsumerConfig struct {
	// MaxWaitMs is how long a fetch waits for min_batch_size, in
	// milliseconds. Default 0.
	MaxWaitMs int `toml:"max_wait_ms,omitzero"`
	// MinBatchSize is the least a fetch returns, in bytes. Default 0.
	MinBatchSize int `toml:"min_batch_size,omitzero"`
	// MaxBatchSize is the most a fetch returns, in bytes. Default 0.
	MaxBatchSize int `toml:"max_batch_size,omitzero"`
}

// KafkaNamespaceConfig configures the topics of one namespace.
type KafkaNamespaceConfig struct {
	// CleanPeriod is how often records of flushed tables are deleted.
	// Default 1h.
	CleanPeriod units.Duration `toml:"clean_period"`
}

// ObkvWALConfig is WAL type Obkv (OceanBase table-kv).
type ObkvWALConfig struct {
	// Obkv says how to reach OceanBase.
	Obkv ObkvConfig `toml:"obkv"`
	// DataNamespace configures the tables of table data.
	DataNamespace ObkvWALNamespaceConfig `toml:"data_namespace"`
	// MetaNamespace configures the tables of manifests.
	MetaNamespace ObkvManifestNamespaceConfig `toml:"meta_namespace"`
}

// ObkvConfig is [analytic.wal.obkv].
type ObkvConfig struct {
	// FullUserName is "user@tenant#cluster". Required.
	FullUserName string `toml:"full_user_name"`
	// ParamURL is the config server URL of the cluster. Required.
	ParamURL string `toml:"param_url"`
	// Password of the user. Default "".
	Password string `toml:"password"`
	// CheckBatchResultNum checks the number of results of batch
	// operations. Default true.
	CheckBatchResultNum bool `toml:"check_batch_result_num"`
	// EnablePurgeRecyclebin purges the recycle bin after dropping tables.
	// Default false.
	EnablePurgeRecyclebin bool `toml:"enable_purge_recyclebin"`
	// MaxCreateTableRetries. Default 2.
	MaxCreateTableRetries int `toml:"max_create_table_retries"`
	// CreateTableRetryInterval. Default 5s.
	CreateTableRetryInterval units.Duration `toml:"create_table_retry_interval"`
	// Client holds the client's credentials for system tables. Upstream's
	// many client tuning keys are accepted with a warning and ignored.
	Client ObkvClientConfig `toml:"client"`
}

// ObkvClientConfig is [analytic.wal.obkv.client].
type ObkvClientConfig struct {
	// SysUserName is the system tenant user. Default "".
	SysUserName string `toml:"sys_user_name"`
	// SysPassword is its password. Default "".
	SysPassword string `toml:"sys_password"`
}

// ObkvWALNamespaceConfig is data_namespace of an Obkv WAL.
type ObkvWALNamespaceConfig struct {
	// ShardNum is the number of WAL shard tables. Default 512.
	ShardNum int `toml:"shard_num"`
	// MetaShardNum is the number of table-unit meta tables. Default 128.
	MetaShardNum int `toml:"meta_shard_num"`
	// TTL drops WAL buckets older than this. Default 0: entries are only
	// removed once their tables are flushed.
	TTL units.Duration `toml:"ttl,omitzero"`
	// InitScanTimeout bounds the scan at open. Default 10s.
	InitScanTimeout units.Duration `toml:"init_scan_timeout"`
	// InitScanBatchSize (rows). Default 100.
	InitScanBatchSize int `toml:"init_scan_batch_size"`
	// BucketCreateParallelism. Default 16.
	BucketCreateParallelism int `toml:"bucket_create_parallelism"`
}

// ObkvManifestNamespaceConfig is meta_namespace of an Obkv WAL.
type ObkvManifestNamespaceConfig struct {
	// ShardNum is the number of manifest shard tables. Default 128.
	ShardNum int `toml:"shard_num"`
	// MetaShardNum is the number of table-unit meta tables. Default 128.
	MetaShardNum int `toml:"meta_shard_num"`
	// InitScanTimeout bounds the scan at open. Default 10s.
	InitScanTimeout units.Duration `toml:"init_scan_timeout"`
	// InitScanBatchSize (rows). Default 100.
	InitScanBatchSize int `toml:"init_scan_batch_size"`
	// CleanScanTimeout bounds a cleaning scan. Default 10s.
	CleanScanTimeout units.Duration `toml:"clean_scan_timeout"`
	// CleanScanBatchSize (rows). Default 100.
	CleanScanBatchSize int `toml:"clean_scan_batch_size"`
	// BucketCreateParallelism. Default 16.
	BucketCreateParallelism int `toml:"bucket_create_parallelism"`
}

// TableWALConfig is WAL type Table: our WAL in tables of a database reached
// over the MySQL protocol.
type TableWALConfig struct {
	// DSN is the go-sql-driver/mysql data source name, e.g.
	// "horaedb:secret@tcp(127.0.0.1:3306)/horaedb". Required.
	DSN string `toml:"dsn"`
	// MaxOpenConns caps the connections to the database. Default 16.
	MaxOpenConns int `toml:"max_open_conns"`
	// DataNamespace holds table data.
	DataNamespace TableWALNamespaceConfig `toml:"data_namespace"`
	// MetaNamespace holds manifests.
	MetaNamespace TableWALNamespaceConfig `toml:"meta_namespace"`
}

// TableWALNamespaceConfig is one namespace of a Table WAL.
type TableWALNamespaceConfig struct {
	// Name prefixes the namespace's table names; letters, digits and
	// underscores. Default "wal" (data) and "manifest" (meta).
	Name string `toml:"name"`
	// CleanPeriod is how often rows of flushed tables are deleted. Default
	// 1h.
	CleanPeriod units.Duration `toml:"clean_period"`
}

func defaultLocalWAL() *LocalWALConfig {
	return &LocalWALConfig{DataDir: "data", SegmentSize: 64 << 20, CacheSize: 3}
}

func defaultRocksDBNamespace() RocksDBNamespaceConfig {
	return RocksDBNamespaceConfig{
		MaxSubcompactions:              1,
		MaxBackgroundJobs:              2,
		WriteBufferSize:                64 << 20,
		MaxWriteBufferNumber:           2,
		Level0FileNumCompactionTrigger: 4,
		Level0SlowdownWritesTrigger:    20,
		Level0StopWritesTrigger:        36,
	}
}

func defaultRocksDBWAL() *RocksDBWALConfig {
	return &RocksDBWALConfig{
		DataDir:       "data",
		DataNamespace: defaultRocksDBNamespace(),
		MetaNamespace: defaultRocksDBNamespace(),
	}
}

func defaultKafkaWAL() *KafkaWALConfig {
	return &KafkaWALConfig{
		Kafka: KafkaConfig{
			Client: KafkaClientConfig{BoostBrokers: []string{}},
			TopicManagement: KafkaTopicManagementConfig{
				CreateReplicationFactor: 1,
				CreateMaxWaitMs:         5000,
				DeleteMaxWaitMs:         5000,
			},
			RetryIntervalFactor: 2.0,
			InitRetryInterval:   seconds(1),
			MaxRetryInterval:    seconds(10),
			MaxRetry:            10,
		},
		DataNamespace: KafkaNamespaceConfig{CleanPeriod: seconds(3600)},
		MetaNamespace: KafkaNamespaceConfig{CleanPeriod: seconds(3600)},
	}
}

func defaultObkvWAL() *ObkvWALConfig {
	return &ObkvWALConfig{
		Obkv: ObkvConfig{
			CheckBatchResultNum:      true,
			MaxCreateTableRetries:    2,
			CreateTableRetryInterval: seconds(5),
		},
		DataNamespace: ObkvWALNamespaceConfig{
			ShardNum:                512,
			MetaShardNum:            128,
			InitScanTimeout:         seconds(10),
			InitScanBatchSize:       100,
			BucketCreateParallelism: 16,
		},
		MetaNamespace: ObkvManifestNamespaceConfig{
			ShardNum:                128,
			MetaShardNum:            128,
			InitScanTimeout:         seconds(10),
			InitScanBatchSize:       100,
			CleanScanTimeout:        seconds(10),
			CleanScanBatchSize:      100,
			BucketCreateParallelism: 16,
		},
	}
}

func defaultTableWAL() *TableWALConfig {
	return &TableWALConfig{
		MaxOpenConns:  16,
		DataNamespace: TableWALNamespaceConfig{Name: "wal", CleanPeriod: seconds(3600)},
		MetaNamespace: TableWALNamespaceConfig{Name: "manifest", CleanPeriod: seconds(3600)},
	}
}

// DefaultWAL returns the defaults of WAL type t, or a config with only Type
// set if t is unknown.
func DefaultWAL(t string) WALConfig {
	w := WALConfig{Type: t}
	switch t {
	case WALLocal:
		w.Local = defaultLocalWAL()
	case WALRocksDB:
		w.RocksDB = defaultRocksDBWAL()
	case WALKafka:
		w.Kafka = defaultKafkaWAL()
	case WALObkv:
		w.Obkv = defaultObkvWAL()
	case WALTable:
		w.Table = defaultTableWAL()
	}
	return w
}

// Brokers returns the bootstrap brokers of both spellings, boost_brokers
// first, without duplicates.
func (k *KafkaClientConfig) Brokers() []string {
	out := []string{}
	seen := map[string]bool{}
	add := func(b string) {
		b = strings.TrimSpace(b)
		if b != "" && !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	for _, b := range k.BoostBrokers {
		add(b)
	}
	for _, b := range strings.Split(k.BoostBroker, ",") {
		add(b)
	}
	return out
}

func (w *WALConfig) check(v *validator, key string) {
	missing := func() { v.add(key, "type %s has no settings", w.Type) }
	switch w.Type {
	case WALLocal:
		if w.Local == nil {
			missing()
			return
		}
		v.required(key+".data_dir", w.Local.DataDir)
		if w.Local.SegmentSize == 0 {
			v.add(key+".segment_size", "must be positive")
		}
		v.positive(key+".cache_size", w.Local.CacheSize)
	case WALRocksDB:
		if w.RocksDB == nil {
			missing()
			return
		}
		v.required(key+".data_dir", w.RocksDB.DataDir)
		w.RocksDB.DataNamespace.check(v, key+".data_namespace")
		w.RocksDB.MetaNamespace.check(v, key+".meta_namespace")
	case WALKafka:
		if w.Kafka == nil {
			missing()
			return
		}
		w.Kafka.check(v, key)
	case WALObkv:
		if w.Obkv == nil {
			missing()
			return
		}
		w.Obkv.check(v, key)
	case WALTable:
		if w.Table == nil {
			missing()
			return
		}
		w.Table.check(v, key)
	default:
		v.oneOf(key+".type", "type", w.Type, walTypes...)
	}
}

func (n *RocksDBNamespaceConfig) check(v *validator, key string) {
	v.positive(key+".max_subcompactions", n.MaxSubcompactions)
	v.positive(key+".max_background_jobs", n.MaxBackgroundJobs)
	if n.WriteBufferSize == 0 {
		v.add(key+".write_buffer_size", "must be positive")
	}
	v.positive(key+".max_write_buffer_number", n.MaxWriteBufferNumber)
	v.positive(key+".level_zero_file_num_compaction_trigger", n.Level0FileNumCompactionTrigger)
	v.positive(key+".level_zero_slowdown_writes_trigger", n.Level0SlowdownWritesTrigger)
	v.positive(key+".level_zero_stop_writes_trigger", n.Level0StopWritesTrigger)
	if n.Level0SlowdownWritesTrigger > n.Level0StopWritesTrigger {
		v.add(key+".level_zero_slowdown_writes_trigger", "%d is above level_zero_stop_writes_trigger %d",
			n.Level0SlowdownWritesTrigger, n.Level0StopWritesTrigger)
	}
}

func (k *KafkaWALConfig) check(v *validator, key string) {
	c := &k.Kafka
	brokers := c.Client.Brokers()
	if len(brokers) == 0 {
		v.add(key+".kafka.client.boost_brokers", "is required (at least one \"host:port\")")
	}
	for _, b := range brokers {
		hostPort(v, key+".kafka.client.boost_brokers", b)
	}
	if c.Client.Socks5Proxy != "" {
		hostPort(v, key+".kafka.client.socks5_proxy", c.Client.Socks5Proxy)
	}
	v.positive(key+".kafka.topic_management.create_replication_factor", c.TopicManagement.CreateReplicationFactor)
	v.positive(key+".kafka.topic_management.create_max_wait_ms", c.TopicManagement.CreateMaxWaitMs)
	v.positive(key+".kafka.topic_management.delete_max_wait_ms", c.TopicManagement.DeleteMaxWaitMs)
	v.nonNegative(key+".kafka.consumer.max_wait_ms", c.Consumer.MaxWaitMs)
	v.nonNegative(key+".kafka.consumer.min_batch_size", c.Consumer.MinBatchSize)
	v.nonNegative(key+".kafka.consumer.max_batch_size", c.Consumer.MaxBatchSize)
	if c.Consumer.MaxBatchSize > 0 && c.Consumer.MinBatchSize > c.Consumer.MaxBatchSize {
		v.add(key+".kafka.consumer.min_batch_size", "%d is above max_batch_size %d",
			c.Consumer.MinBatchSize, c.Consumer.MaxBatchSize)
	}
	if c.RetryIntervalFactor < 1 {
		v.add(key+".kafka.retry_interval_factor", "must be at least 1, got %v", c.RetryIntervalFactor)
	}
	durPositive(v, key+".kafka.init_retry_interval", c.InitRetryInterval)
	if c.MaxRetryInterval < c.InitRetryInterval {
		v.add(key+".kafka.max_retry_interval", "%s is below init_retry_interval %s", c.MaxRetryInterval, c.InitRetryInterval)
	}
	v.nonNegative(key+".kafka.max_retry", c.MaxRetry)
	durPositive(v, key+".data_namespace.clean_period", k.DataNamespace.CleanPeriod)
	durPositive(v, key+".meta_namespace.clean_period", k.MetaNamespace.CleanPeriod)
}

func (o *ObkvWALConfig) check(v *validator, key string) {
	v.required(key+".obkv.full_user_name", o.Obkv.FullUserName)
	v.required(key+".obkv.param_url", o.Obkv.ParamURL)
	v.nonNegative(key+".obkv.max_create_table_retries", o.Obkv.MaxCreateTableRetries)
	durNonNegative(v, key+".obkv.create_table_retry_interval", o.Obkv.CreateTableRetryInterval)
	d, m := &o.DataNamespace, &o.MetaNamespace
	k := key + ".data_namespace"
	v.positive(k+".shard_num", d.ShardNum)
	v.positive(k+".meta_shard_num", d.MetaShardNum)
	durNonNegative(v, k+".ttl", d.TTL)
	durPositive(v, k+".init_scan_timeout", d.InitScanTimeout)
	v.positive(k+".init_scan_batch_size", d.InitScanBatchSize)
	v.positive(k+".bucket_create_parallelism", d.BucketCreateParallelism)
	k = key + ".meta_namespace"
	v.positive(k+".shard_num", m.ShardNum)
	v.positive(k+".meta_shard_num", m.MetaShardNum)
	durPositive(v, k+".init_scan_timeout", m.InitScanTimeout)
	v.positive(k+".init_scan_batch_size", m.InitScanBatchSize)
	durPositive(v, k+".clean_scan_timeout", m.CleanScanTimeout)
	v.positive(k+".clean_scan_batch_size", m.CleanScanBatchSize)
	v.positive(k+".bucket_create_parallelism", m.BucketCreateParallelism)
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,31}$`)

func (t *TableWALConfig) check(v *validator, key string) {
	v.required(key+".dsn", t.DSN)
	v.positive(key+".max_open_conns", t.MaxOpenConns)
	for _, ns := range []struct {
		name string
		cfg  *TableWALNamespaceConfig
	}{{"data_namespace", &t.DataNamespace}, {"meta_namespace", &t.MetaNamespace}} {
		k := key + "." + ns.name
		if !identifier.MatchString(ns.cfg.Name) {
			v.add(k+".name", "%q is not a name of 1 to 32 letters, digits and underscores", ns.cfg.Name)
		}
		durPositive(v, k+".clean_period", ns.cfg.CleanPeriod)
	}
	if t.DataNamespace.Name == t.MetaNamespace.Name {
		v.add(key+".meta_namespace.name", "%q is also data_namespace.name", t.MetaNamespace.Name)
	}
}
