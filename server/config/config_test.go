package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/internal/units"
)

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"node.addr", c.Node.Addr, "127.0.0.1"},
		{"server.bind_addr", c.Server.BindAddr, "127.0.0.1"},
		{"server.http_port", c.Server.HTTPPort, 5440},
		{"server.grpc_port", c.Server.GRPCPort, 8831},
		{"server.mysql_port", c.Server.MySQLPort, 3307},
		{"server.postgresql_port", c.Server.PostgreSQLPort, 5433},
		{"server.http_max_body_size", c.Server.HTTPMaxBodySize, units.Size(64 << 20)},
		{"server.resp_compress_min_length", c.Server.RespCompressMinLength, units.Size(4 << 20)},
		{"server.auto_create_table", c.Server.AutoCreateTable, true},
		{"server.forward.keep_alive_interval", c.Server.Forward.KeepAliveInterval.D(), 10 * time.Minute},
		{"server.route_cache.capacity", c.Server.RouteCache.Capacity, 10000},
		{"server.hotspot.auto_dump_interval", c.Server.Hotspot.AutoDumpInterval.D(), time.Minute},
		{"server.remote_client.channel_keep_alive_interval", c.Server.RemoteClient.ChannelKeepAliveInterval.D(), 600 * time.Second},
		{"runtime.read_thread_stack_size", c.Runtime.ReadThreadStackSize, units.Size(16 << 20)},
		{"runtime.low_read_thread_num", c.Runtime.LowReadThreadNum, 1},
		{"logger.level", c.Logger.Level, "info"},
		{"logger.async_channel_len", c.Logger.AsyncChannelLen, 102400},
		{"tracing.dir", c.Tracing.Dir, "data/tracing"},
		{"query_engine.expensive_query_threshold", c.QueryEngine.ExpensiveQueryThreshold.D(), 24 * time.Hour},
		{"analytic.replay_batch_size", c.Analytic.ReplayBatchSize, 500},
		{"analytic.max_replay_tables_per_batch", c.Analytic.MaxReplayTablesPerBatch, 64},
		{"analytic.preflush_write_buffer_size_ratio", c.Analytic.PreflushWriteBufferSizeRatio, 0.75},
		{"analytic.write_sst_max_buffer_size", c.Analytic.WriteSSTMaxBufferSize, units.Size(10 << 20)},
		{"analytic.recover_mode", c.Analytic.RecoverMode, RecoverShardBased},
		{"analytic.wal_encode.num_bytes_compress_threshold", c.Analytic.WALEncode.NumBytesCompressThreshold, units.Size(1024)},
		{"analytic.manifest.snapshot_every_n_updates", c.Analytic.Manifest.SnapshotEveryNUpdates, 100},
		{"analytic.compaction.schedule_interval", c.Analytic.Compaction.ScheduleInterval.D(), 30 * time.Second},
		{"analytic.compaction.max_unflushed_duration", c.Analytic.Compaction.MaxUnflushedDuration.D(), 5 * time.Hour},
		{"analytic.compaction.memory_limit", c.Analytic.Compaction.MemoryLimit, units.Size(4 << 30)},
		{"analytic.compaction_mode.compaction_mode", c.Analytic.CompactionMode.CompactionMode, CompactionLocal},
		{"analytic.storage.mem_cache_capacity", c.Analytic.Storage.MemCacheCapacity, units.Size(512 << 20)},
		{"analytic.storage.disk_cache_capacity", c.Analytic.Storage.DiskCacheCapacity, units.Size(0)},
		{"analytic.storage.disk_cache_dir", c.Analytic.Storage.DiskCacheDir, "data/disk_cache"},
		{"analytic.storage.object_store.type", c.Analytic.Storage.ObjectStore.Type, ObjectStoreLocal},
		{"analytic.storage.object_store.data_dir", c.Analytic.Storage.ObjectStore.Local.DataDir, "data"},
		{"analytic.storage.object_store.timeout.io_timeout", c.Analytic.Storage.ObjectStore.Local.Timeout.IOTimeout.D(), 10 * time.Second},
		{"analytic.wal.type", c.Analytic.WAL.Type, WALLocal},
		{"analytic.wal.data_dir", c.Analytic.WAL.Local.DataDir, "data"},
		{"analytic.wal.segment_size", c.Analytic.WAL.Local.SegmentSize, units.Size(64 << 20)},
		{"analytic.table_opts", len(c.Analytic.TableOpts), 0},
		{"cluster_deployment.mode", c.ClusterDeployment.Mode, ModeNoMeta},
		{"cluster_deployment topology", len(c.ClusterDeployment.NoMeta.Topology.SchemaShards), 0},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if c.Analytic.WAL.Kafka != nil || c.Analytic.Storage.ObjectStore.S3 != nil || c.ClusterDeployment.WithMeta != nil {
		t.Error("Default sets variants other than the default ones")
	}

	// Default returns fresh maps.
	Default().Analytic.TableOpts["x"] = 1
	if len(Default().Analytic.TableOpts) != 0 {
		t.Error("Default shares its table_opts map")
	}
}

func TestVariantDefaults(t *testing.T) {
	k := DefaultWAL(WALKafka).Kafka
	if k.Kafka.RetryIntervalFactor != 2 || k.Kafka.MaxRetry != 10 || k.DataNamespace.CleanPeriod.D() != time.Hour ||
		k.Kafka.TopicManagement.CreateMaxWaitMs != 5000 {
		t.Errorf("Kafka defaults: %+v", k)
	}
	r := DefaultWAL(WALRocksDB).RocksDB
	if r.DataDir != "data" || r.MetaNamespace.Level0StopWritesTrigger != 36 || r.DataNamespace.WriteBufferSize != 64<<20 {
		t.Errorf("RocksDB defaults: %+v", r)
	}
	m := DefaultClusterDeployment(ModeWithMeta).WithMeta
	if m.MetaClient.MetaAddr != "127.0.0.1:8080" || m.MetaClient.CQCount != 8 ||
		!reflect.DeepEqual(m.EtcdClient.ServerAddrs, []string{"127.0.0.1:2379"}) || m.EtcdClient.RootPath != "/horaedb" ||
		m.EtcdClient.ShardLockLeaseTTLSec != 30 || m.EtcdClient.ShardLockLeaseCheckInterval.D() != 200*time.Millisecond ||
		m.NodeType != NodeTypeHoraeDB {
		t.Errorf("WithMeta defaults: %+v", m)
	}
	a := DefaultObjectStore(ObjectStoreAliyun).Aliyun
	if a.MaxRetries != 3 || a.HTTP.PoolMaxIdlePerHost != 1024 || a.HTTP.KeepAliveInterval.D() != 2*time.Second {
		t.Errorf("Aliyun defaults: %+v", a)
	}
	if w := DefaultWAL("Foo"); w.Type != "Foo" || w.Local != nil {
		t.Errorf("DefaultWAL(Foo) = %+v", w)
	}
}

func TestValidate(t *testing.T) {
	withMeta := func(c *Config) *ClusterConfig {
		c.ClusterDeployment = DefaultClusterDeployment(ModeWithMeta)
		return c.ClusterDeployment.WithMeta
	}
	static := func(c *Config) *StaticRouteConfig {
		s := c.ClusterDeployment.NoMeta
		s.Topology.SchemaShards = []SchemaShardView{{
			Schema:     "test",
			ShardViews: []ShardView{{ShardID: 0, Endpoint: EndpointConfig{Addr: "127.0.0.1", Port: 8831}}},
		}}
		return s
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the error; "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"port zero", func(c *Config) { c.Server.HTTPPort = 0 }, "server.http_port: port 0 out of range 1..65535"},
		{"port too large", func(c *Config) { c.Server.MySQLPort = 70000 }, "server.mysql_port: port 70000 out of range"},
		{"ports equal", func(c *Config) { c.Server.PostgreSQLPort = 8831 }, "server.postgresql_port: port 8831 is also server.grpc_port"},
		{"empty node addr", func(c *Config) { c.Node.Addr = "" }, "node.addr: is required"},
		{"node addr with port", func(c *Config) { c.Node.Addr = "10.0.0.1:8831" }, `node.addr: "10.0.0.1:8831" has a port; give the host only`},
		{"node addr IPv6", func(c *Config) { c.Node.Addr = "fd00::1" }, ""},
		{"bind addr with port", func(c *Config) { c.Server.BindAddr = "0.0.0.0:5440" }, `server.bind_addr: "0.0.0.0:5440" has a port`},
		{"log level", func(c *Config) { c.Logger.Level = "loud" },
			`logger.level: unknown level "loud" (want trace, debug, info, warn, error or critical)`},
		{"log level any case", func(c *Config) { c.Logger.Level = "WARN" }, ""},
		{"tracing level", func(c *Config) { c.Tracing.Level = "x" }, "tracing.level: unknown level"},
		{"zero threads", func(c *Config) { c.Runtime.ReadThreadNum = 0 }, "runtime.read_thread_num: must be positive, got 0"},
		{"auth without source", func(c *Config) { c.Server.Auth.Enable = true }, "server.auth.source: is required"},
		{"auth type", func(c *Config) { c.Server.Auth.AuthType = "ldap" }, `server.auth.auth_type: unknown auth type "ldap" (want file)`},
		{"engine type", func(c *Config) { c.Server.DefaultSchemaConfig.DefaultEngineType = "Memory" },
			`server.default_schema_config.default_engine_type: unknown engine type "Memory" (want Analytic)`},
		{"compression method", func(c *Config) { c.Analytic.RemoteEngineClient.Compression.Method = "lz4" },
			`analytic.remote_engine_client.compression.method: unknown compression method "lz4" (want None or Zstd)`},
		{"recover mode", func(c *Config) { c.Analytic.RecoverMode = "Fast" },
			`analytic.recover_mode: unknown recover mode "Fast" (want ShardBased or TableBased)`},
		{"wal encode", func(c *Config) { c.Analytic.WALEncode.Format = "Json" }, `analytic.wal_encode.format: unknown format "Json"`},
		{"preflush ratio", func(c *Config) { c.Analytic.PreflushWriteBufferSizeRatio = 1.5 }, "analytic.preflush_write_buffer_size_ratio: must be in (0, 1]"},
		{"manifest snapshot", func(c *Config) { c.Analytic.Manifest.SnapshotEveryNUpdates = 0 }, "analytic.manifest.snapshot_every_n_updates: must be positive"},
		{"compaction interval", func(c *Config) { c.Analytic.Compaction.ScheduleInterval = 0 }, "analytic.compaction.schedule_interval: must be a positive duration"},
		{"offload without picker", func(c *Config) { c.Analytic.CompactionMode.CompactionMode = CompactionOffload },
			`analytic.compaction_mode.node_picker: unknown node picker "" (want Local or Remote)`},
		{"offload local picker", func(c *Config) {
			c.Analytic.CompactionMode = CompactionModeConfig{CompactionMode: CompactionOffload, NodePicker: NodePickerLocal, Endpoint: "127.0.0.1:8831"}
		}, ""},
		{"offload bad endpoint", func(c *Config) {
			c.Analytic.CompactionMode = CompactionModeConfig{CompactionMode: CompactionOffload, NodePicker: NodePickerLocal, Endpoint: "nowhere"}
		}, "analytic.compaction_mode.endpoint: \"nowhere\" is not host:port"},
		{"compaction mode", func(c *Config) { c.Analytic.CompactionMode.CompactionMode = "Cloud" },
			`analytic.compaction_mode.compaction_mode: unknown compaction mode "Cloud" (want Local or Offload)`},
		{"table opts value", func(c *Config) { c.Analytic.TableOpts["ttl"] = []any{1} }, "analytic.table_opts.ttl: unsupported value"},
		{"table opts scalars", func(c *Config) {
			c.Analytic.TableOpts = map[string]any{"a": int64(1), "b": "7d", "c": true, "d": 0.5}
		}, ""},
		{"disk cache divisibility", func(c *Config) { c.Analytic.Storage.DiskCacheCapacity = 33 << 20 },
			"analytic.storage.disk_cache_capacity: 33MB is not a multiple of disk_cache_page_size * 2^disk_cache_partition_bits = 32MB"},
		{"disk cache ok", func(c *Config) { c.Analytic.Storage.DiskCacheCapacity = 64 << 20 }, ""},
		{"partition bits", func(c *Config) { c.Analytic.Storage.MemCachePartitionBits = 40 }, "analytic.storage.mem_cache_partition_bits: must be in 0..20"},
		{"wal type", func(c *Config) { c.Analytic.WAL = DefaultWAL("Foo") },
			`analytic.wal.type: unknown type "Foo" (want Local, RocksDB, Kafka, Obkv or Table)`},
		{"wal variant missing", func(c *Config) { c.Analytic.WAL.Type = WALKafka }, "analytic.wal: type Kafka has no settings"},
		{"wal local dir", func(c *Config) { c.Analytic.WAL.Local.DataDir = "" }, "analytic.wal.data_dir: is required"},
		{"kafka without brokers", func(c *Config) { c.Analytic.WAL = DefaultWAL(WALKafka) },
			"analytic.wal.kafka.client.boost_brokers: is required"},
		{"kafka broker spelling", func(c *Config) {
			c.Analytic.WAL = DefaultWAL(WALKafka)
			c.Analytic.WAL.Kafka.Kafka.Client.BoostBroker = "127.0.0.1:9092"
		}, ""},
		{"kafka bad broker", func(c *Config) {
			c.Analytic.WAL = DefaultWAL(WALKafka)
			c.Analytic.WAL.Kafka.Kafka.Client.BoostBrokers = []string{"kafka"}
		}, `analytic.wal.kafka.client.boost_brokers: "kafka" is not host:port`},
		{"obkv user", func(c *Config) {
			c.Analytic.WAL = DefaultWAL(WALObkv)
			c.Analytic.WAL.Obkv.Obkv.ParamURL = "http://ocp"
		}, "analytic.wal.obkv.full_user_name: is required"},
		{"table dsn", func(c *Config) { c.Analytic.WAL = DefaultWAL(WALTable) }, "analytic.wal.dsn: is required"},
		{"table namespaces", func(c *Config) {
			c.Analytic.WAL = DefaultWAL(WALTable)
			c.Analytic.WAL.Table.DSN = "u:p@tcp(127.0.0.1:3306)/horaedb"
			c.Analytic.WAL.Table.MetaNamespace.Name = "wal"
		}, `analytic.wal.meta_namespace.name: "wal" is also data_namespace.name`},
		{"rocksdb triggers", func(c *Config) {
			c.Analytic.WAL = DefaultWAL(WALRocksDB)
			c.Analytic.WAL.RocksDB.DataNamespace.Level0SlowdownWritesTrigger = 40
		}, "analytic.wal.data_namespace.level_zero_slowdown_writes_trigger: 40 is above level_zero_stop_writes_trigger 36"},
		{"object store type", func(c *Config) { c.Analytic.Storage.ObjectStore = DefaultObjectStore("GCS") },
			`analytic.storage.object_store.type: unknown type "GCS" (want Local, Aliyun or S3)`},
		{"s3 bucket", func(c *Config) {
			c.Analytic.Storage.ObjectStore = DefaultObjectStore(ObjectStoreS3)
			c.Analytic.Storage.ObjectStore.S3.Region = "us-east-1"
		}, "analytic.storage.object_store.bucket: is required"},
		{"s3 keys together", func(c *Config) {
			c.Analytic.Storage.ObjectStore = DefaultObjectStore(ObjectStoreS3)
			s := c.Analytic.Storage.ObjectStore.S3
			s.Region, s.Bucket, s.KeyID = "us-east-1", "b", "id"
		}, "analytic.storage.object_store.key_secret: key_id and key_secret must be set together"},
		{"aliyun keys", func(c *Config) {
			c.Analytic.Storage.ObjectStore = DefaultObjectStore(ObjectStoreAliyun)
		}, "analytic.storage.object_store.key_id: is required"},
		{"limiter rule type", func(c *Config) { c.Limiter.Rules = []LimiterRule{{Type: "AnyDelete"}} },
			`limiter.rules[0].type: unknown rule type "AnyDelete" (want QueryWithoutPredicate, AnyQuery, AnyInsert or QueryRange)`},
		{"limiter query range", func(c *Config) { c.Limiter.Rules = []LimiterRule{{Type: RuleQueryRange}} },
			"limiter.rules[0].content: must be a positive duration"},
		{"mode", func(c *Config) { c.ClusterDeployment = DefaultClusterDeployment("Cluster") },
			`cluster_deployment.mode: unknown mode "Cluster" (want NoMeta or WithMeta)`},
		{"with meta default", func(c *Config) { withMeta(c) }, ""},
		{"with meta needs meta_addr", func(c *Config) { withMeta(c).MetaClient.MetaAddr = "" },
			"cluster_deployment.meta_client.meta_addr: is required in mode WithMeta"},
		{"meta_addr scheme", func(c *Config) { withMeta(c).MetaClient.MetaAddr = "grpc://x:1" },
			`cluster_deployment.meta_client.meta_addr: "grpc://x:1": scheme "grpc" is not http or https`},
		{"meta_addr url", func(c *Config) { withMeta(c).MetaClient.MetaAddr = "http://127.0.0.1:2379" }, ""},
		{"meta_addr list", func(c *Config) {
			withMeta(c).MetaClient.MetaAddr = "http://10.0.0.1:2379, 10.0.0.2:2379,http://10.0.0.3:2379"
		}, ""},
		{"meta_addr list with a bad member", func(c *Config) { withMeta(c).MetaClient.MetaAddr = "10.0.0.1:2379,10.0.0.2" },
			`cluster_deployment.meta_client.meta_addr: "10.0.0.2"`},
		{"meta_addr only commas", func(c *Config) { withMeta(c).MetaClient.MetaAddr = " , " },
			"cluster_deployment.meta_client.meta_addr: is required in mode WithMeta"},
		{"etcd addrs", func(c *Config) { withMeta(c).EtcdClient.ServerAddrs = nil },
			"cluster_deployment.etcd_client.server_addrs: is required in mode WithMeta"},
		{"shard lock ttl", func(c *Config) { withMeta(c).EtcdClient.ShardLockLeaseTTLSec = 10 },
			"cluster_deployment.etcd_client.shard_lock_lease_ttl_sec: must be at least 15, got 10"},
		{"shard lock check interval", func(c *Config) {
			withMeta(c).EtcdClient.ShardLockLeaseCheckInterval = units.Duration(30 * time.Second)
		}, "cluster_deployment.etcd_client.shard_lock_lease_check_interval: 30s must be below shard_lock_lease_ttl_sec (30s)"},
		{"etcd tls", func(c *Config) { withMeta(c).EtcdClient.TLS.Enable = true }, "cluster_deployment.etcd_client.tls.ca_cert_path: is required"},
		{"node type", func(c *Config) { withMeta(c).NodeType = "Meta" },
			`cluster_deployment.node_type: unknown node type "Meta" (want HoraeDB or CompactionServer)`},
		{"cmd channel", func(c *Config) { withMeta(c).CmdChannelBufferSize = 0 }, "cluster_deployment.cmd_channel_buffer_size: must be positive"},
		{"static ok", func(c *Config) {
			s := static(c)
			s.Rules.PrefixRules = []PrefixRule{{Schema: "test", Prefix: "BIZ", Shard: 0}}
			s.Rules.HashRules = []HashRule{{Schema: "test", Shards: []uint32{0}}}
		}, ""},
		{"static unknown shard", func(c *Config) {
			static(c).Rules.PrefixRules = []PrefixRule{{Schema: "test", Prefix: "BIZ", Shard: 3}}
		}, `cluster_deployment.rules.prefix_rules[0].shard: shard 3 is not a shard of schema "test"`},
		{"static unknown schema", func(c *Config) {
			static(c).Rules.HashRules = []HashRule{{Schema: "prod", Shards: []uint32{0}}}
		}, `cluster_deployment.rules.hash_rules[0].shards: schema "prod" is not in topology.schema_shards`},
		{"static duplicate shard", func(c *Config) {
			s := static(c)
			s.Topology.SchemaShards[0].ShardViews = append(s.Topology.SchemaShards[0].ShardViews, s.Topology.SchemaShards[0].ShardViews[0])
		}, `cluster_deployment.topology.schema_shards[0].shard_views[1].shard_id: shard 0 of schema "test" is listed twice`},
		{"static endpoint port", func(c *Config) { static(c).Topology.SchemaShards[0].ShardViews[0].Endpoint.Port = 0 },
			"cluster_deployment.topology.schema_shards[0].shard_views[0].endpoint.port: port 0 out of range"},
		{"static no shards", func(c *Config) { static(c).Topology.SchemaShards[0].ShardViews = nil },
			`cluster_deployment.topology.schema_shards[0].shard_views: schema "test" has no shards`},
		{"static shard ids with a gap", func(c *Config) { static(c).Topology.SchemaShards[0].ShardViews[0].ShardID = 1 },
			`cluster_deployment.topology.schema_shards[0].shard_views: schema "test" has no hash rule, so its shard ids must be 0 to 0 (tables go to hash % 1); shard 0 is missing`},
		{"static shard ids with a gap and a hash rule", func(c *Config) {
			s := static(c)
			s.Topology.SchemaShards[0].ShardViews[0].ShardID = 1
			s.Rules.HashRules = []HashRule{{Schema: "test", Shards: []uint32{1}}}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			if !strings.Contains(err.Error(), "config: "+tc.want) {
				t.Errorf("Validate() = %v\nwant it to contain %q", err, "config: "+tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Server.HTTPPort = 0
	c.Logger.Level = "loud"
	c.Analytic.ReplayBatchSize = -1
	err := c.Validate()
	for _, key := range []string{"server.http_port", "logger.level", "analytic.replay_batch_size"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Validate() = %v, want it to name %s", err, key)
		}
	}
}

func TestLoggerSlogLevel(t *testing.T) {
	for in, want := range map[string]string{"info": "INFO", "Debug": "DEBUG", "warn": "WARN", "error": "ERROR", "trace": "DEBUG-4"} {
		l := LoggerConfig{Level: in}
		if got := l.SlogLevel().String(); got != want {
			t.Errorf("SlogLevel(%q) = %s, want %s", in, got, want)
		}
	}
}
