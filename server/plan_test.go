package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/internal/units"
	"github.com/horaego/horaedb/server/config"
)

// TestNewRejectsUnsupported checks that what this version cannot run is a
// clear error from New, naming the key, before anything is opened.
func TestNewRejectsUnsupported(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *config.Config)
		want   []string // parts of the message
	}{
		{"WithMeta compaction server", func(c *config.Config) {
			c.ClusterDeployment = config.DefaultClusterDeployment(config.ModeWithMeta)
			c.ClusterDeployment.WithMeta.MetaClient.ClusterName = "defaultCluster"
			c.ClusterDeployment.WithMeta.NodeType = config.NodeTypeCompactionServer
		}, []string{"cluster_deployment.node_type", "CompactionServer", "not supported yet"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := config.Default()
			c.mutate(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("the test config is invalid: %v", err)
			}
			s, err := New(cfg, Options{DataDir: t.TempDir()})
			if err == nil {
				s.Close()
				t.Fatal("New accepted it")
			}
			if !errors.Is(err, ErrNotSupported) {
				t.Errorf("error %v is not ErrNotSupported", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestNewWithMetaNeedsClusterName: a WithMeta node without a cluster name
// fails New naming the key and the env variable.
func TestNewWithMetaNeedsClusterName(t *testing.T) {
	cfg := config.Default()
	cfg.ClusterDeployment = config.DefaultClusterDeployment(config.ModeWithMeta)
	_, err := New(cfg, Options{DataDir: t.TempDir()})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "meta_client.cluster_name") ||
		!strings.Contains(err.Error(), "CLUSTER_NAME") {
		t.Fatalf("got %v", err)
	}
}

// TestNewAuthSource checks that a users file that cannot be read fails New
// with an error naming the key and the file.
func TestNewAuthSource(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Auth.Enable = true
	cfg.Server.Auth.Source = filepath.Join(t.TempDir(), "users.csv")
	_, err := New(cfg, Options{DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "server.auth.source") || !strings.Contains(err.Error(), "users.csv") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(cfg.Server.Auth.Source, []byte("no comma here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err = New(cfg, Options{DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad line: %v", err)
	}
}

// TestPlanRemoteWALs checks how the keys of the Kafka, Table and Obkv WALs
// reach the backends' options.
func TestPlanRemoteWALs(t *testing.T) {
	cfg := config.Default()
	cfg.Analytic.WAL = config.DefaultWAL(config.WALKafka)
	k := cfg.Analytic.WAL.Kafka
	k.Kafka.Client.BoostBrokers = []string{"k1:9092", "k2:9092"}
	k.Kafka.Client.MaxMessageSize = 2 << 20
	k.Kafka.Client.Socks5Proxy = "proxy:1080"
	k.Kafka.TopicManagement.CreateReplicationFactor = 3
	k.Kafka.TopicManagement.DeleteMaxWaitMs = 7000
	k.Kafka.Consumer.MaxWaitMs, k.Kafka.Consumer.MinBatchSize, k.Kafka.Consumer.MaxBatchSize = 100, 10, 1<<20
	k.Kafka.MaxRetry = 4
	k.DataNamespace.CleanPeriod = units.Duration(time.Minute)
	k.MetaNamespace.CleanPeriod = units.Duration(2 * time.Minute)
	p, err := makePlan(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	ko := p.kafkaWAL
	if p.walKind != walKafka || fmt.Sprint(ko.Brokers) != "[k1:9092 k2:9092]" || ko.MaxMessageBytes != 2<<20 ||
		ko.Socks5Proxy != "proxy:1080" || ko.ReplicationFactor != 3 || ko.CreateTimeout != 5*time.Second ||
		ko.DeleteTimeout != 7*time.Second || ko.FetchMaxWait != 100*time.Millisecond || ko.FetchMinBytes != 10 ||
		ko.FetchMaxBytes != 1<<20 || ko.MaxRetry != 4 || ko.InitRetryInterval != time.Second ||
		ko.MaxRetryInterval != 10*time.Second || ko.RetryIntervalFactor != 2 ||
		ko.CleanPeriod != time.Minute || ko.MetaCleanPeriod != 2*time.Minute {
		t.Errorf("kafka options %+v", ko)
	}

	cfg = config.Default()
	cfg.Analytic.WAL = config.DefaultWAL(config.WALTable)
	cfg.Analytic.WAL.Table.DSN = "u:p@tcp(db:3306)/horaedb"
	cfg.Analytic.WAL.Table.MaxOpenConns = 4
	cfg.Analytic.WAL.Table.DataNamespace.Name = "mywal"
	if p, err = makePlan(&cfg); err != nil {
		t.Fatal(err)
	}
	if to := p.tableWAL; p.walKind != walTable || p.obkv != nil || to.DSN != cfg.Analytic.WAL.Table.DSN ||
		to.MaxOpenConns != 4 || to.Namespace != "mywal" || to.CleanPeriod != time.Hour {
		t.Errorf("table options %+v", to)
	}

	cfg = config.Default()
	cfg.Analytic.WAL = config.DefaultWAL(config.WALObkv)
	o := cfg.Analytic.WAL.Obkv
	o.Obkv.FullUserName, o.Obkv.ParamURL = "u@t#c", "mysql://obproxy:2883/horaedb"
	o.DataNamespace.TTL = units.Duration(365 * 24 * time.Hour)
	o.DataNamespace.ShardNum = 32
	if p, err = makePlan(&cfg); err != nil {
		t.Fatal(err)
	}
	if to := p.tableWAL; p.walKind != walTable || p.obkv == nil || p.obkv.ParamURL != o.Obkv.ParamURL ||
		to.Buckets != 32 || to.TTL != 365*24*time.Hour || to.OpenTimeout != 10*time.Second ||
		to.CreateTableRetries != 2 || to.CreateTableRetryInterval != 5*time.Second || !to.CheckBatchResultNum {
		t.Errorf("obkv options %+v", to)
	}
}

// TestSeedConfigWithMeta loads the deployment guide's complete config and
// checks New accepts it (Start would join the cluster; see
// cluster_test.go).
func TestSeedConfigWithMeta(t *testing.T) {
	cfg, warnings, err := config.Load(filepath.Join("..", "configs", "horaedb-withmeta.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	s, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if got := heartbeatInterval(cfg.ClusterDeployment.WithMeta); got != 10*time.Second/3 {
		t.Errorf("heartbeat interval %v, want a third of the 10s lease", got)
	}
}

func TestNewInvalidConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Server.HTTPPort = 0
	if _, err := New(cfg, Options{}); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "server.http_port") {
		t.Errorf("got %v", err)
	}
}

func TestTableOpts(t *testing.T) {
	cfg := config.Default()
	cfg.Analytic.TableOpts = map[string]any{
		"write_buffer_size":     int64(33554432),
		"arena_block_size":      int64(2097152),
		"ttl":                   "3d",
		"enable_ttl":            true,
		"update_mode":           "APPEND",
		"compaction_bucket_low": 0.25,
	}
	p, err := makePlan(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := p.engine.DefaultTableOptions
	if o.WriteBufferSize != 33554432 || o.TTL != 72*time.Hour || o.UpdateMode != options.Append ||
		o.Compaction.BucketLow != 0.25 {
		t.Errorf("table options %+v", o)
	}

	for key, val := range map[string]any{"ttl": "soon", "write_buffer_size": "lots", "update_mode": "REPLACE"} {
		cfg := config.Default()
		cfg.Analytic.TableOpts = map[string]any{key: val}
		_, err := New(cfg, Options{})
		if err == nil || !strings.Contains(err.Error(), "analytic.table_opts") || !strings.Contains(err.Error(), key) {
			t.Errorf("%s = %v: got %v", key, val, err)
		}
	}
}

func TestPlanFromConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Analytic.Manifest.SnapshotEveryNUpdates = 7
	cfg.Analytic.ReplayBatchSize = 11
	cfg.Analytic.PreflushWriteBufferSizeRatio = 0.5
	cfg.Analytic.DBWriteBufferSize = 1 << 20
	cfg.Analytic.SpaceWriteBufferSize = 2 << 20
	cfg.Analytic.MemtableMemoryLimit = 3 << 20
	cfg.Analytic.WriteStallTimeout = units.Duration(time.Second)
	cfg.Analytic.Compaction = config.CompactionConfig{ScheduleChannelLen: 3, ScheduleInterval: units.Duration(time.Minute),
		MaxOngoingTasks: 4, MaxUnflushedDuration: units.Duration(time.Hour), MemoryLimit: 5 << 20, MaxInputSSTableSize: 6 << 20}
	if err := cfg.ApplyEnv(func(k string) string { return map[string]string{config.EnvMaxInputSSTableSize: "7MB"}[k] }); err != nil {
		t.Fatal(err)
	}
	cfg.Analytic.WAL.Local.DataDir = "/w"
	cfg.Analytic.Storage.ObjectStore.Local.DataDir = "/s"
	p, err := makePlan(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.walDir != filepath.Join("/w", "wal") || p.storeDir != filepath.Join("/s", "store") {
		t.Errorf("dirs %q %q", p.walDir, p.storeDir)
	}
	o := p.engine
	if o.SnapshotEvery != 7 || o.ReplayBatchSize != 11 || o.PreflushRatio != 0.5 ||
		o.DBWriteBufferSize != 1<<20 || o.SpaceWriteBufferSize != 2<<20 || o.MemtableMemoryLimit != 3<<20 || o.WriteStallTimeout != time.Second ||
		o.CompactionQueueLen != 3 || o.CompactionInterval != time.Minute || o.MaxOngoingCompactions != 4 ||
		o.MaxUnflushedDuration != time.Hour || o.CompactionMemoryLimit != 5<<20 || o.MaxInputSSTableSize != 7<<20 {
		t.Errorf("engine options %+v", o)
	}
	bad := config.Default()
	if err := bad.ApplyEnv(func(k string) string { return map[string]string{config.EnvMaxInputSSTableSize: "lots"}[k] }); err == nil ||
		!strings.Contains(err.Error(), config.EnvMaxInputSSTableSize) {
		t.Errorf("HORAEDB_MAX_INPUT_SSTABLE_SIZE=lots: %v", err)
	}

	// Defaults: both under ./data.
	def := config.Default()
	if p, err = makePlan(&def); err != nil || p.walDir != filepath.Join("data", "wal") || p.storeDir != filepath.Join("data", "store") {
		t.Errorf("default dirs %q %q (%v)", p.walDir, p.storeDir, err)
	}

	// RocksDB is served by the local WAL, in the same place.
	cfg = config.Default()
	cfg.Analytic.WAL = config.DefaultWAL(config.WALRocksDB)
	cfg.Analytic.WAL.RocksDB.DataDir = "/r"
	if p, err = makePlan(&cfg); err != nil || p.walDir != filepath.Join("/r", "wal") {
		t.Errorf("RocksDB: %q %v", p.walDir, err)
	}
}

func TestDataDirOverride(t *testing.T) {
	for _, walType := range []string{config.WALLocal, config.WALRocksDB} {
		cfg := config.Default()
		cfg.Analytic.WAL = config.DefaultWAL(walType)
		dir := t.TempDir()
		s, err := New(cfg, Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if s.plan.walDir != filepath.Join(dir, "wal") || s.plan.storeDir != filepath.Join(dir, "store") {
			t.Errorf("%s: dirs %q %q", walType, s.plan.walDir, s.plan.storeDir)
		}
		// The effective config (GET /debug/config) shows the override.
		eff := s.Config()
		if eff.Analytic.Storage.ObjectStore.Local.DataDir != dir {
			t.Errorf("effective object store dir %q", eff.Analytic.Storage.ObjectStore.Local.DataDir)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestPlanGRPC checks that [server] and [node] become the gRPC API's
// options.
func TestPlanGRPC(t *testing.T) {
	cfg := config.Default()
	cfg.Node.Addr = "10.0.0.7"
	cfg.Server.GRPCPort = 9831
	cfg.Server.DefaultSchemaConfig.DefaultTimestampColumnName = "time"
	cfg.Server.RespCompressMinLength = 1 << 10
	cfg.Server.Timeout = units.Duration(3 * time.Second)
	p, err := makePlan(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := p.grpc
	if g.Endpoint.String() != "10.0.0.7:9831" || g.TimestampColumn != "time" ||
		g.RespCompressMinLength != 1<<10 || g.Timeout != 3*time.Second {
		t.Errorf("gRPC options %+v", g)
	}
}
