package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/internal/units"
)

// warningKeys returns the keys of ws.
func warningKeys(ws []Warning) []string {
	keys := []string{}
	for _, w := range ws {
		keys = append(keys, w.Key)
	}
	return keys
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "[analytic]\n", "[analytic.wal]\n", "[cluster_deployment]\n"} {
		c, ws, err := Parse([]byte(doc))
		if err != nil || len(ws) != 0 {
			t.Fatalf("Parse(%q) = %v, %v", doc, ws, err)
		}
		if want := Default(); !reflect.DeepEqual(c, want) {
			t.Errorf("Parse(%q) differs from Default()", doc)
		}
	}
}

func TestLoadSeedComplete(t *testing.T) {
	c, ws, err := Load("testdata/seed-complete.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The guide's stale keys: ignored by upstream, warned about here. The
	// guide also has runtime.background_thread_num, which upstream's
	// RuntimeConfig no longer has either.
	wantWarn := []string{
		"runtime.background_thread_num",
		"analytic.write_group_worker_num",
		"analytic.write_group_command_channel_cap",
	}
	if got := warningKeys(ws); !reflect.DeepEqual(got, wantWarn) {
		t.Errorf("warnings = %v, want keys %v", ws, wantWarn)
	}
	if len(ws) > 0 {
		if got, want := ws[1].String(), "config: testdata/seed-complete.toml:30:1: analytic.write_group_worker_num: unknown key, ignored"; got != want {
			t.Errorf("warning = %q, want %q", got, want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}

	wm := c.ClusterDeployment.WithMeta
	if c.ClusterDeployment.Mode != ModeWithMeta || wm == nil || c.ClusterDeployment.NoMeta != nil {
		t.Fatalf("cluster_deployment = %+v", c.ClusterDeployment)
	}
	wal := c.Analytic.WAL
	if wal.Type != WALRocksDB || wal.RocksDB == nil || wal.Local != nil {
		t.Fatalf("analytic.wal = %+v", wal)
	}
	store := c.Analytic.Storage.ObjectStore
	if store.Type != ObjectStoreLocal || store.Local == nil {
		t.Fatalf("object_store = %+v", store)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"server.bind_addr", c.Server.BindAddr, "0.0.0.0"},
		{"server.http_port", c.Server.HTTPPort, 5440},
		{"server.mysql_port (default)", c.Server.MySQLPort, 3307},
		{"runtime.read_thread_num", c.Runtime.ReadThreadNum, 20},
		{"runtime.write_thread_num", c.Runtime.WriteThreadNum, 16},
		{"meta_client.cluster_name", wm.MetaClient.ClusterName, "defaultCluster"},
		{"meta_client.meta_addr", wm.MetaClient.MetaAddr, "http://127.0.0.1:2379"},
		{"meta_client.lease", wm.MetaClient.Lease.D(), 10 * time.Second},
		{"meta_client.cq_count (default)", wm.MetaClient.CQCount, 8},
		{"etcd_client.server_addrs", wm.EtcdClient.ServerAddrs, []string{"127.0.0.1:2379"}},
		{"etcd_client.root_path (default)", wm.EtcdClient.RootPath, "/horaedb"},
		{"analytic.replay_batch_size", c.Analytic.ReplayBatchSize, 100},
		{"analytic.max_replay_tables_per_batch", c.Analytic.MaxReplayTablesPerBatch, 128},
		{"analytic.manifest.snapshot_every_n_updates", c.Analytic.Manifest.SnapshotEveryNUpdates, 10000},
		{"analytic.wal.data_dir", wal.RocksDB.DataDir, "data"},
		{"analytic.wal.data_namespace (default)", wal.RocksDB.DataNamespace.MaxBackgroundJobs, 2},
		{"analytic.storage.mem_cache_capacity", c.Analytic.Storage.MemCacheCapacity, units.Size(20 << 30)},
		{"analytic.storage.mem_cache_partition_bits", c.Analytic.Storage.MemCachePartitionBits, 8},
		{"object_store.data_dir", store.Local.DataDir, "data/"},
		{"table_opts.arena_block_size", c.Analytic.TableOpts["arena_block_size"], int64(2097152)},
		{"table_opts.write_buffer_size", c.Analytic.TableOpts["write_buffer_size"], int64(33554432)},
		{"compaction.schedule_interval", c.Analytic.Compaction.ScheduleInterval.D(), 30 * time.Minute},
		{"compaction.memory_limit", c.Analytic.Compaction.MemoryLimit, units.Size(4 << 30)},
		{"compaction.max_unflushed_duration (default)", c.Analytic.Compaction.MaxUnflushedDuration.D(), 5 * time.Hour},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

// TestSeedSnippets parses each config snippet of the deployment guide, with
// its {placeholders} filled in.
func TestSeedSnippets(t *testing.T) {
	fill := strings.NewReplacer("{boost_broker}", "127.0.0.1:9092")
	for _, tc := range []struct {
		name  string
		doc   string
		check func(t *testing.T, c Config)
	}{
		{"object store Local", `
[analytic.storage.object_store]
type = "Local"
data_dir = "/home/admin/data/horaedb"
`, func(t *testing.T, c Config) {
			if l := c.Analytic.Storage.ObjectStore.Local; l == nil || l.DataDir != "/home/admin/data/horaedb" || l.MaxRetries != 3 {
				t.Errorf("Local = %+v", l)
			}
		}},
		{"object store Aliyun", `
[analytic.storage.object_store]
type = "Aliyun"
key_id = "{key_id}"
key_secret = "{key_secret}"
endpoint = "{endpoint}"
bucket = "{bucket}"
prefix = "{data_dir}"
`, func(t *testing.T, c Config) {
			o := c.Analytic.Storage.ObjectStore
			if o.Local != nil || o.Aliyun == nil || o.Aliyun.KeyID != "{key_id}" || o.Aliyun.Prefix != "{data_dir}" ||
				o.Aliyun.HTTP.Timeout.D() != time.Minute {
				t.Errorf("object store = %+v %+v", o, o.Aliyun)
			}
		}},
		{"object store S3", `
[analytic.storage.object_store]
type = "S3"
region = "{region}"
key_id = "{key_id}"
key_secret = "{key_secret}"
endpoint = "{endpoint}"
bucket = "{bucket}"
prefix = "{prefix}"
`, func(t *testing.T, c Config) {
			if s := c.Analytic.Storage.ObjectStore.S3; s == nil || s.Region != "{region}" || s.Bucket != "{bucket}" || s.MaxRetries != 3 {
				t.Errorf("S3 = %+v", s)
			}
		}},
		{"wal RocksDB", `
[analytic.wal]
type = "RocksDB"
data_dir = "/home/admin/data/horaedb"
`, func(t *testing.T, c Config) {
			if r := c.Analytic.WAL.RocksDB; r == nil || r.DataDir != "/home/admin/data/horaedb" {
				t.Errorf("RocksDB = %+v", r)
			}
		}},
		{"wal Obkv", `
[analytic.wal]
type = "Obkv"

[analytic.wal.data_namespace]
ttl = "365d"

[analytic.wal.obkv]
full_user_name = "{full_user_name}"
param_url = "{param_url}"
password = "{password}"

[analytic.wal.obkv.client]
sys_user_name = "{sys_user_name}"
sys_password = "{sys_password}"
`, func(t *testing.T, c Config) {
			o := c.Analytic.WAL.Obkv
			if o == nil || o.DataNamespace.TTL.D() != 365*units.Day || o.DataNamespace.ShardNum != 512 ||
				o.Obkv.FullUserName != "{full_user_name}" || o.Obkv.Password != "{password}" ||
				o.Obkv.Client.SysUserName != "{sys_user_name}" || o.Obkv.Client.SysPassword != "{sys_password}" {
				t.Errorf("Obkv = %+v", o)
			}
		}},
		{"wal Kafka boost_broker", `
[analytic.wal]
type = "Kafka"

[analytic.wal.kafka.client]
boost_broker = "{boost_broker}"
`, func(t *testing.T, c Config) {
			k := c.Analytic.WAL.Kafka
			if k == nil || !reflect.DeepEqual(k.Kafka.Client.BoostBrokers, []string{"127.0.0.1:9092"}) || k.Kafka.Client.BoostBroker != "" {
				t.Errorf("Kafka = %+v", k)
			}
		}},
		{"wal Kafka boost_brokers", `
[analytic.wal]
type = "Kafka"
[analytic.wal.kafka.client]
boost_brokers = ["10.0.0.1:9092", "10.0.0.2:9092"]
boost_broker = "10.0.0.2:9092,10.0.0.3:9092"
[analytic.wal.kafka.topic_management]
create_replication_factor = 3
[analytic.wal.data_namespace]
clean_period = "10m"
`, func(t *testing.T, c Config) {
			k := c.Analytic.WAL.Kafka
			want := []string{"10.0.0.1:9092", "10.0.0.2:9092", "10.0.0.3:9092"}
			if k == nil || !reflect.DeepEqual(k.Kafka.Client.BoostBrokers, want) ||
				k.Kafka.TopicManagement.CreateReplicationFactor != 3 || k.Kafka.TopicManagement.CreateMaxWaitMs != 5000 ||
				k.DataNamespace.CleanPeriod.D() != 10*time.Minute || k.MetaNamespace.CleanPeriod.D() != time.Hour {
				t.Errorf("Kafka = %+v", k)
			}
		}},
		{"wal Table", `
[analytic.wal]
type = "Table"
dsn = "horaedb:secret@tcp(127.0.0.1:3306)/horaedb"
[analytic.wal.meta_namespace]
name = "horaedb_manifest"
`, func(t *testing.T, c Config) {
			w := c.Analytic.WAL.Table
			if w == nil || w.DSN == "" || w.MetaNamespace.Name != "horaedb_manifest" || w.DataNamespace.Name != "wal" || w.MaxOpenConns != 16 {
				t.Errorf("Table = %+v", w)
			}
		}},
		{"meta client (as it belongs, under cluster_deployment)", `
[cluster_deployment]
mode = "WithMeta"

[cluster_deployment.meta_client]
cluster_name = 'defaultCluster'
meta_addr = 'http://127.0.0.1:2379'
lease = "10s"
timeout = "5s"

[cluster_deployment.etcd_client]
server_addrs = ['http://127.0.0.1:2379']
`, func(t *testing.T, c Config) {
			m := c.ClusterDeployment.WithMeta
			if m == nil || m.MetaClient.ClusterName != "defaultCluster" || m.EtcdClient.ServerAddrs[0] != "http://127.0.0.1:2379" {
				t.Errorf("WithMeta = %+v", m)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ws, err := Parse([]byte(fill.Replace(tc.doc)))
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != 0 {
				t.Errorf("warnings: %v", ws)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
			tc.check(t, c)
		})
	}
}

func TestParseWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []string // "key: message"
	}{
		{"upstream's stale keys", `
[server]
deploy_mode = "Cluster"
[analytic]
write_group_worker_num = 16
[analytic.compaction_config]
max_ongoing_tasks = 8
`, []string{
			"server.deploy_mode: unknown key, ignored",
			"analytic.write_group_worker_num: unknown key, ignored",
			"analytic.compaction_config: unknown table, ignored",
		}},
		{"key of another wal type", `
[analytic.wal]
type = "Kafka"
segment_size = "1MB"
[analytic.wal.kafka.client]
boost_brokers = ["127.0.0.1:9092"]
brokers = ["x"]
`, []string{
			`analytic.wal.segment_size: unknown key for type "Kafka", ignored`,
			`analytic.wal.kafka.client.brokers: unknown key for type "Kafka", ignored`,
		}},
		{"key of another mode", `
[cluster_deployment]
mode = "NoMeta"
cmd_channel_buffer_size = 10
`, []string{`cluster_deployment.cmd_channel_buffer_size: unknown key for mode "NoMeta", ignored`}},
		{"unknown key in an array of tables", `
[cluster_deployment]
mode = "NoMeta"
[[cluster_deployment.topology.schema_shards]]
schema = "public"
shards = 2
`, []string{`cluster_deployment.topology.schema_shards[0].shards: unknown key for mode "NoMeta", ignored`}},
		{"inside inline tables", `
server = {forward = {connect_timeout = "1s", foo = 1}}
[analytic]
wal = {type = "Kafka", kafka = {client = {boost_brokers = ["127.0.0.1:9092"], x = 1}}}
`, []string{
			"server.forward.foo: unknown key, ignored",
			`analytic.wal.kafka.client.x: unknown key for type "Kafka", ignored`,
		}},
		{"object store", `
[analytic.storage.object_store]
type = "S3"
region = "r"
bucket = "b"
data_dir = "x"
`, []string{`analytic.storage.object_store.data_dir: unknown key for type "S3", ignored`}},
		{"obkv client tuning", `
[analytic.wal]
type = "Obkv"
[analytic.wal.obkv]
full_user_name = "u"
param_url = "p"
[analytic.wal.obkv.client]
rpc_read_timeout = "3s"
`, []string{`analytic.wal.obkv.client.rpc_read_timeout: unknown key for type "Obkv", ignored`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ws, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range ws {
				got = append(got, w.Key+": "+w.Msg)
				if w.Line == 0 {
					t.Errorf("warning %v has no line", w)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want string // the error message, or a prefix of it ending in "..."
	}{
		{"unknown top-level section", "[server]\nhttp_port = 5440\n[foo]\nx = 1\n",
			"config: line 3, column 2: foo: unknown top-level section or key (want node, server, runtime, logger, tracing, query_engine, limiter, analytic or cluster_deployment)"},
		{"unknown top-level key", "answer = 42\n", "config: line 1, column 1: answer: unknown top-level section or key ..."},
		{"the guide's [cluster.meta_client]", "[cluster.meta_client]\ncluster_name = 'defaultCluster'\n",
			"config: line 1, column 2: cluster: unknown top-level section; did you mean cluster_deployment?"},
		{"syntax", "[server]\nhttp_port = = 5440\n", "config: line 2, column 13: unexpected character U+003D '=' at start of value"},
		{"duplicate table", "[server]\n[server]\n", "config: line 2, column 2: server: table server already exists"},
		{"type: string for int", "[analytic]\nreplay_batch_size = \"100\"\n",
			"config: line 2, column 21: analytic.replay_batch_size: want an integer, got a TOML string"},
		{"type: bool for string", "[logger]\nlevel = true\n", "config: line 2, column 9: logger.level: want a string, got a TOML boolean"},
		{"type: section as value", "server = 1\n", "config: line 1, column 10: server: want a table, got a TOML integer"},
		{"type: bad size", "[analytic.storage]\nmem_cache_capacity = \"20XB\"\n",
			"config: line 2, column 22: analytic.storage.mem_cache_capacity: units: invalid syntax: size \"20XB\": unknown unit \"XB\""},
		{"type: negative size", "[analytic.storage]\nmem_cache_capacity = -1\n",
			"config: line 2, column 22: analytic.storage.mem_cache_capacity: negative integer value -1 cannot be stored in units.Size"},
		{"type: bad duration", "[analytic.compaction]\nschedule_interval = \"30 minutes\"\n",
			"config: line 2, column 21: analytic.compaction.schedule_interval: units: invalid syntax: ..."},
		{"type: in a wal variant", "[analytic.wal]\ntype = \"Local\"\ncache_size = \"3\"\n",
			"config: line 3, column 14: analytic.wal.cache_size: want an integer, got a TOML string"},
		{"type: in an array of tables", "[cluster_deployment]\nmode = \"NoMeta\"\n[[cluster_deployment.rules.hash_rules]]\nschema = \"s\"\nshards = 1\n",
			"config: line 5, column 10: cluster_deployment.rules.hash_rules.shards: want an array of integers, got a TOML integer"},
		{"type: integer for a duration", "[analytic.compaction]\nschedule_interval = 30\n",
			`config: analytic.compaction.schedule_interval: want a duration such as "10s", got a TOML integer`},
		{"type: integer for a duration in a variant", "[cluster_deployment]\nmode = \"WithMeta\"\n[cluster_deployment.meta_client]\nlease = 10\n",
			`config: cluster_deployment.meta_client.lease: want a duration such as "10s", got a TOML integer`},
		{"type: integer for a duration in an array", "[limiter]\nrules = [{type = \"QueryRange\", content = 86400}]\n",
			`config: limiter.rules[0].content: want a duration such as "10s", got a TOML integer`},
		{"two unknown top-level sections", "[foo.a]\nx = 1\n[foo.b]\ny = 1\n[bar]\n",
			"config: line 1, column 2: foo: unknown top-level section or key (want node, server, runtime, logger, tracing, query_engine, limiter, analytic or cluster_deployment)\n" +
				"config: line 5, column 2: bar: unknown top-level section or key (want node, server, runtime, logger, tracing, query_engine, limiter, analytic or cluster_deployment)"},
		{"unknown wal type", "[analytic.wal]\ntype = \"Foo\"\n",
			`config: analytic.wal.type: unknown type "Foo" (want Local, RocksDB, Kafka, Obkv or Table)`},
		{"unknown object store type", "[analytic.storage.object_store]\ntype = \"local\"\n",
			`config: analytic.storage.object_store.type: unknown type "local" (want Local, Aliyun or S3)`},
		{"unknown mode", "[cluster_deployment]\nmode = \"Cluster\"\n",
			`config: cluster_deployment.mode: unknown mode "Cluster" (want NoMeta or WithMeta)`},
		{"wal without type", "[analytic.wal]\ndata_dir = \"x\"\n",
			`config: analytic.wal: missing key "type" (want Local, RocksDB, Kafka, Obkv or Table)`},
		{"cluster without mode", "[cluster_deployment.meta_client]\nmeta_addr = \"127.0.0.1:2379\"\n",
			`config: cluster_deployment: missing key "mode" (want NoMeta or WithMeta)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			got := err.Error()
			if prefix, ok := strings.CutSuffix(tc.want, "..."); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("error = %q\nwant prefix %q", got, prefix)
				}
			} else if got != tc.want {
				t.Errorf("error = %q\nwant        %q", got, tc.want)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(path, []byte("[server]\nhttp_port = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), "config: "+path+":2:13: server.http_port: ") {
		t.Errorf("Load = %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || e.Key != "server.http_port" {
		t.Errorf("Load error = %#v", e)
	}

	if _, _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestParseKeepsDefaultsOfUnsetKeys(t *testing.T) {
	c, _, err := Parse([]byte(`
[server.forward]
connect_timeout = "1s"
[analytic.wal]
type = "Local"
segment_size = 1048576
[analytic.storage.object_store]
type = "Local"
[analytic.storage.object_store.timeout]
io_timeout = "20s"
[limiter]
rules = [{type = "AnyInsert"}, {type = "QueryRange", content = "1d"}]
[tracing.console]
port = 6669
`))
	if err != nil {
		t.Fatal(err)
	}
	if f := c.Server.Forward; f.ConnectTimeout.D() != time.Second || f.KeepAliveTimeout.D() != 3*time.Second || !f.KeepAliveWhileIdle {
		t.Errorf("server.forward = %+v", f)
	}
	if w := c.Analytic.WAL.Local; w.SegmentSize != 1<<20 || w.DataDir != "data" || w.CacheSize != 3 {
		t.Errorf("analytic.wal = %+v", w)
	}
	if o := c.Analytic.Storage.ObjectStore.Local; o.Timeout.IOTimeout.D() != 20*time.Second || o.Timeout.Timeout.D() != 10*time.Second || o.DataDir != "data" {
		t.Errorf("object_store = %+v", o)
	}
	want := []LimiterRule{{Type: RuleAnyInsert}, {Type: RuleQueryRange, Content: units.Duration(units.Day)}}
	if !reflect.DeepEqual(c.Limiter.Rules, want) {
		t.Errorf("limiter.rules = %+v", c.Limiter.Rules)
	}
	if c.Tracing.Console == nil || c.Tracing.Console.Port != 6669 {
		t.Errorf("tracing.console = %+v", c.Tracing.Console)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseInlineUnionTables(t *testing.T) {
	c, ws, err := Parse([]byte(`
analytic.wal = {type = "Kafka", kafka = {client = {boost_brokers = ["127.0.0.1:9092"]}}, data_namespace = {clean_period = "5m"}}
[analytic.storage]
object_store = {type = "S3", region = "r", bucket = "b"}
`))
	if err != nil || len(ws) != 0 {
		t.Fatal(ws, err)
	}
	k := c.Analytic.WAL.Kafka
	if k == nil || k.Kafka.Client.BoostBrokers[0] != "127.0.0.1:9092" || k.DataNamespace.CleanPeriod.D() != 5*time.Minute || k.Kafka.MaxRetry != 10 {
		t.Errorf("Kafka = %+v", k)
	}
	if s := c.Analytic.Storage.ObjectStore.S3; s == nil || s.Bucket != "b" || s.Timeout.Timeout.D() != 10*time.Second {
		t.Errorf("S3 = %+v", s)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
