package config

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	toml "github.com/pelletier/go-toml/v2"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// Upstream's defaults (reference/horaemeta.md §1.11), where we keep them.
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"lease-sec", c.LeaseSec, Seconds(10)},
		{"etcd-start-timeout-ms", c.EtcdStartTimeoutMs, Millis(60000)},
		{"etcd-call-timeout-ms", c.EtcdCallTimeoutMs, Millis(5000)},
		{"tick-interval-ms", c.TickIntervalMs, Millis(500)},
		{"election-timeout-ms", c.ElectionTimeoutMs, Millis(3000)},
		{"default-cluster-name", c.DefaultClusterName, "defaultCluster"},
		{"default-cluster-node-count", c.DefaultClusterNodeCount, 2},
		{"default-cluster-shard-total", c.DefaultClusterShardTotal, 8},
		{"topology-type", c.TopologyType, "static"},
		{"enable-schedule", c.EnableSchedule, true},
		{"http-port", c.HTTPPort, 8080},
		{"client-urls", c.ClientUrls, "http://0.0.0.0:2379"},
		{"storage-root-path", c.StorageRootPath, "/horaedb"},
		{"max-request-bytes", c.MaxRequestBytes, uint(2 << 20)},
		{"quota-backend-bytes", c.QuotaBackendBytes, int64(8 << 30)},
		{"flow-limiter", c.FlowLimiter, FlowLimiterConfig{Enable: true, Limit: 10000, Burst: 100000}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if !strings.HasPrefix(c.NodeName, "horaemeta-") {
		t.Errorf("node-name %q", c.NodeName)
	}
	// Derived: this member alone, reachable on loopback.
	if got := c.EffectiveInitialCluster(); got != c.NodeName+"=http://127.0.0.1:2380" {
		t.Errorf("initial cluster %q", got)
	}
	if got := c.AdvertisedClientURLs()[0].String(); got != "http://127.0.0.1:2379" {
		t.Errorf("advertised client %q", got)
	}
}

func TestParse(t *testing.T) {
	c, err := Parse([]byte(`
node-name = "meta1"
lease-sec = 3
etcd-call-timeout-ms = 1500
default-cluster-node-count = 3
topology-type = "dynamic"
enable-schedule = false
node-heartbeat-timeout = "20s"
procedure-timeout = "1m"
[log]
level = "debug"
[flow-limiter]
enable = false
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.NodeName != "meta1" || c.LeaseSec.D() != 3*time.Second || c.EtcdCallTimeoutMs.D() != 1500*time.Millisecond ||
		c.DefaultClusterNodeCount != 3 || c.TopologyType != TopologyDynamic || c.EnableSchedule ||
		c.NodeHeartbeatTimeout.D() != 20*time.Second || c.ProcedureTimeout.D() != time.Minute ||
		c.Log.Level != "debug" || c.FlowLimiter.Enable || c.FlowLimiter.Limit != 10000 {
		t.Errorf("parsed %+v", c)
	}
	if c.HTTPPort != 8080 || c.DefaultClusterShardTotal != 8 {
		t.Error("absent keys lost their defaults")
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"unknown key", "node-name = \"a\"\nnode-nam = \"b\"\n", "line 2, column 1: node-nam: unknown key"},
		{"unknown nested", "[log]\nlevl = \"x\"\n", "log.levl: unknown key"},
		{"type", "lease-sec = \"10s\"\n", "lease-sec"},
		{"syntax", "node-name = \n", "line 1"},
		{"duration", "procedure-timeout = \"10 parsecs\"\n", "procedure-timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		wants []string
	}{
		{"external etcd", func(c *Config) { c.EnableEmbedEtcd = false }, []string{"enable-embed-etcd"}},
		{"tls with embedded", func(c *Config) { c.EtcdCACertPath = "/ca.pem" }, []string{"etcd-ca-cert-path"}},
		{"topology", func(c *Config) { c.TopologyType = "mesh" }, []string{`topology-type: "mesh"`}},
		{"election", func(c *Config) { c.ElectionTimeoutMs = 1000 }, []string{"election-timeout-ms"}},
		{"root", func(c *Config) { c.StorageRootPath = "horaedb/" }, []string{"storage-root-path"}},
		{"urls", func(c *Config) { c.ClientUrls = "127.0.0.1:2379" }, []string{"client-urls"}},
		{"initial cluster", func(c *Config) { c.InitialCluster = "a=http://x:1,b" }, []string{"initial-cluster"}},
		{"node count", func(c *Config) { c.DefaultClusterNodeCount = 0 }, []string{"default-cluster-node-count"}},
		{"shards", func(c *Config) { c.DefaultClusterShardTotal = 0 }, []string{"default-cluster-shard-total"}},
		{"cluster name", func(c *Config) { c.DefaultClusterName = "a/b" }, []string{"default-cluster-name"}},
		{"log level", func(c *Config) { c.EtcdLog.Level = "loud" }, []string{"etcd-log.level"}},
		{"compaction", func(c *Config) { c.AutoCompactionMode = "revision"; c.AutoCompactionRetention = "1h" }, []string{"auto-compaction-retention"}},
		{"several", func(c *Config) { c.HTTPPort = -1; c.LeaseSec = 0 }, []string{"http-port", "lease-sec"}},
		{"timeouts", func(c *Config) { c.ProcedureTimeout = c.EventDispatchTimeout / 2 }, []string{"procedure-timeout"}},
		{"txn ops", func(c *Config) { c.MaxOpsPerTxn = 200 }, []string{"max-ops-per-txn"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestEnvBeatsFileBeatsDefaults is upstream's precedence.
func TestEnvBeatsFileBeatsDefaults(t *testing.T) {
	c, err := Parse([]byte("default-cluster-node-count = 3\ntopology-type = \"dynamic\"\nhttp-port = 9000\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.ApplyEnv(env(map[string]string{
		"DEFAULT_CLUSTER_NODE_COUNT":  "5",
		"DEFAULT_CLUSTER_SHARD_TOTAL": "16",
		"ENABLE_SCHEDULE":             "false",
		"ETCD_START_TIMEOUT_MS":       "1000",
		"LEVEL":                       "debug",
		"ETCD_LOG_LEVEL":              "error",
		"AUTO-COMPACTION-MODE":        "revision",
		"AUTO_COMPACTION_RETENTION":   "1000",
		"PROCEDURE_TIMEOUT":           "45s",
		"FLOW_LIMITER_LIMIT":          "7",
		"INITIAL_CLUSTER":             "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultClusterNodeCount != 5 || c.DefaultClusterShardTotal != 16 || c.EnableSchedule || c.EtcdStartTimeoutMs != 1000 {
		t.Errorf("env not applied: %+v", c)
	}
	if c.TopologyType != "dynamic" || c.HTTPPort != 9000 {
		t.Errorf("file values lost: topology %s port %d", c.TopologyType, c.HTTPPort)
	}
	if c.Log.Level != "debug" || c.EtcdLog.Level != "error" || c.AutoCompactionMode != "revision" ||
		c.ProcedureTimeout.D() != 45*time.Second || c.FlowLimiter.Limit != 7 || !strings.HasPrefix(c.InitialCluster, "a=") {
		t.Errorf("env not applied: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestEnvErrors(t *testing.T) {
	c := Default()
	err := c.ApplyEnv(env(map[string]string{"DEFAULT_CLUSTER_NODE_COUNT": "two", "ENABLE_SCHEDULE": "maybe", "NODE_HEARTBEAT_TIMEOUT": "soon"}))
	for _, v := range []string{"DEFAULT_CLUSTER_NODE_COUNT", "ENABLE_SCHEDULE", "NODE_HEARTBEAT_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("error %v does not name %s", err, v)
		}
	}
}

// TestEveryKeyHasAnEnvVar: each TOML key of upstream's table has its
// variable, and every documented variable exists.
func TestEveryKeyHasAnEnvVar(t *testing.T) {
	vars := map[string]bool{}
	for _, v := range EnvVars() {
		if vars[v] {
			t.Errorf("variable %s listed twice", v)
		}
		vars[v] = true
	}
	for _, v := range []string{"TOPOLOGY_TYPE", "DEFAULT_CLUSTER_NODE_COUNT", "DEFAULT_CLUSTER_SHARD_TOTAL", "ENABLE_SCHEDULE",
		"ETCD_START_TIMEOUT_MS", "ETCD_CALL_TIMEOUT_MS", "ETCD_MAX_TXN_OPS", "CLIENT_URLS", "ADVERTISE_CLIENT_URLS", "PEER_URLS",
		"ADVERTISE_PEER_URLS", "DATA_DIR", "NODE_NAME", "INITIAL_CLUSTER", "INITIAL_CLUSTER_STATE", "INITIAL_CLUSTER_TOKEN",
		"LEVEL", "ETCD_LOG_LEVEL", "HTTP_PORT", "GRPC_PORT", "LEASE_SEC", "STORAGE_ROOT_PATH", "DEFAULT_CLUSTER_NAME",
		"PROCEDURE_EXECUTING_BATCH_SIZE", "GRPC_HANDLER_TIMEOUT_MS", "FLOW_LIMITER_ENABLE", "AUTO-COMPACTION-MODE", "ID_ALLOCATOR_STEP"} {
		if !vars[v] {
			t.Errorf("variable %s is not read", v)
		}
	}
	// Every scalar field has a TOML key and a variable.
	var walk func(rt reflect.Type)
	walk = func(rt reflect.Type) {
		for i := range rt.NumField() {
			f := rt.Field(i)
			if f.Type.Kind() == reflect.Struct && f.Type.Name() != "Duration" {
				walk(f.Type)
				continue
			}
			if f.Tag.Get("toml") == "" {
				t.Errorf("field %s has no toml key", f.Name)
			}
			if e := f.Tag.Get("env"); e == "" || e == "-" && f.Name != "Level" {
				t.Errorf("field %s has no environment variable", f.Name)
			}
		}
	}
	walk(reflect.TypeFor[Config]())
}

// TestSampleConfigs loads every configs/horaemeta*.toml.
func TestSampleConfigs(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "configs", "horaemeta*.toml"))
	if err != nil || len(paths) != 4 {
		t.Fatalf("samples %v %v", paths, err)
	}
	seen := map[string]bool{}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			c, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			members, _ := ParseInitialCluster(c.EffectiveInitialCluster())
			if members[c.NodeName] == nil || members[c.NodeName][0] != c.AdvertisedPeerURLs()[0].String() {
				t.Errorf("member %s is not in initial-cluster %s", c.NodeName, c.EffectiveInitialCluster())
			}
			if filepath.Base(p) == "horaemeta.toml" {
				return // the single member is an alternative to the set
			}
			for _, k := range []string{c.ClientUrls, c.PeerUrls, c.NodeName, c.DataDir} {
				if seen[k] {
					t.Errorf("%s collides with another sample", k)
				}
				seen[k] = true
			}
		})
	}
}

// TestLoadNamesFile: errors name the file and line.
func TestLoadNamesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.toml")
	if err := writeFile(p, "http-port = 1\nbogus = 2\n"); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p+":2:1: bogus") {
		t.Fatalf("err = %v", err)
	}
}

// TestTOMLKeysMatchUpstream: the sample's keys decode into the fields
// named in reference/horaemeta.md.
func TestTOMLKeysMatchUpstream(t *testing.T) {
	doc := map[string]any{}
	b, _ := toml.Marshal(Default())
	if err := toml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"enable-embed-etcd", "etcd-start-timeout-ms", "grpc-handle-timeout-ms", "lease-sec", "node-name",
		"data-dir", "storage-root-path", "initial-cluster-state", "tick-interval-ms", "election-timeout-ms", "quota-backend-bytes",
		"auto-compaction-mode", "max-scan-limit", "max-ops-per-txn", "id-allocator-step", "default-cluster-node-count",
		"topology-type", "procedure-executing-batch-size", "client-urls", "advertise-peer-urls", "http-port", "grpc-port",
		"grpc-service-keep-alive-ping-min-interval-sec", "flow-limiter", "etcd-log"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("key %s missing", k)
		}
	}
}
