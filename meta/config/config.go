// Package config owns HoraeMeta's configuration: upstream's TOML keys and
// environment variables (shared/reference/horaemeta.md §1.11) with their
// defaults, the loader, environment overrides and validation.
//
// Precedence is environment > file > defaults, as upstream:
//
//	cfg := config.Default()                // or config.Load(path)
//	err := cfg.ApplyEnv(os.Getenv)
//	err = cfg.Validate()
//
// Keys named *-ms and *-sec keep upstream's integer units (Millis, Seconds);
// keys this implementation adds take duration strings ("10s", "5m").
// Unknown keys are errors naming the key and its line.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/horaego/horaedb/internal/units"
)

// ErrInvalid is matched (errors.Is) by every error about a config's content.
var ErrInvalid = errors.New("config: invalid")

// Topology types, the values of topology-type.
const (
	// TopologyStatic pins shards to the nodes they were first assigned to.
	TopologyStatic = "static"
	// TopologyDynamic moves the shards of dead nodes and rebalances.
	TopologyDynamic = "dynamic"
)

// Millis is a duration written as an integer number of milliseconds, for
// upstream's *-ms keys.
type Millis int64

// D returns m as a time.Duration.
func (m Millis) D() time.Duration { return time.Duration(m) * time.Millisecond }

// Seconds is a duration written as an integer number of seconds, for
// upstream's *-sec keys.
type Seconds int64

// D returns s as a time.Duration.
func (s Seconds) D() time.Duration { return time.Duration(s) * time.Second }

// Config is the complete configuration of one meta member. The TOML key of a
// field is in its toml tag, its environment variable in its env tag.
type Config struct {
	// Log is HoraeMeta's own log.
	Log LogConfig `toml:"log" env:"-"`
	// EtcdLog is the embedded etcd's log, routed into the same logger.
	EtcdLog LogConfig `toml:"etcd-log" env:"-"`
	// FlowLimiter limits CreateTable, DropTable and RouteTables.
	FlowLimiter FlowLimiterConfig `toml:"flow-limiter" env:"-"`

	// EnableEmbedEtcd runs etcd inside the process. Default true; false
	// (an external etcd) is not supported yet and is refused.
	EnableEmbedEtcd bool `toml:"enable-embed-etcd" env:"ENABLE_EMBED_ETCD"`
	// EtcdCACertPath, EtcdKeyPath and EtcdCertPath secure the connection to
	// an external etcd. Default "". Refused with the embedded etcd.
	EtcdCACertPath string `toml:"etcd-ca-cert-path" env:"ETCD_CA_CERT_PATH"`
	EtcdKeyPath    string `toml:"etcd-key-path" env:"ETCD_KEY_PATH"`
	EtcdCertPath   string `toml:"etcd-cert-path" env:"ETCD_CERT_PATH"`
	// EtcdStartTimeoutMs bounds the wait for etcd to be ready (it needs a
	// quorum of members). Default 60000.
	EtcdStartTimeoutMs Millis `toml:"etcd-start-timeout-ms" env:"ETCD_START_TIMEOUT_MS"`
	// EtcdCallTimeoutMs bounds every etcd request HoraeMeta makes. Default
	// 5000.
	EtcdCallTimeoutMs Millis `toml:"etcd-call-timeout-ms" env:"ETCD_CALL_TIMEOUT_MS"`
	// EtcdMaxTxnOps is etcd's limit of operations per transaction. Default
	// 128.
	EtcdMaxTxnOps uint `toml:"etcd-max-txn-ops" env:"ETCD_MAX_TXN_OPS"`

	// GrpcHandleTimeoutMs bounds how long a MetaService call may run (a
	// CreateTable waits for its procedure at most this long, or less when
	// the caller's deadline is earlier). Default 60000.
	GrpcHandleTimeoutMs Millis `toml:"grpc-handle-timeout-ms" env:"GRPC_HANDLER_TIMEOUT_MS"`
	// GrpcServiceMaxSendMsgSize is the largest message HoraeMeta sends to
	// data nodes (events), in bytes. Default 200 MiB.
	GrpcServiceMaxSendMsgSize int `toml:"grpc-service-max-send-msg-size" env:"GRPC_SERVICE_MAX_SEND_MSG_SIZE"`
	// GrpcServiceMaxRecvMsgSize is the largest reply HoraeMeta accepts from
	// data nodes, in bytes. Default 100 MiB. (Requests to MetaService are
	// bounded by max-request-bytes: they share etcd's gRPC server.)
	GrpcServiceMaxRecvMsgSize int `toml:"grpc-service-max-recv-msg-size" env:"GRPC_SERVICE_MAX_RECV_MSG_SIZE"`
	// GrpcServiceKeepAlivePingMinIntervalSec is the shortest keepalive ping
	// interval clients may use on the gRPC port. Default 20.
	GrpcServiceKeepAlivePingMinIntervalSec Seconds `toml:"grpc-service-keep-alive-ping-min-interval-sec" env:"GRPC_SERVICE_KEEP_ALIVE_PING_MIN_INTERVAL_SEC"`

	// LeaseSec is the meta leader's lease: a leader that stops renewing it
	// (crashed, cut off) is replaced after this long. Default 10.
	LeaseSec Seconds `toml:"lease-sec" env:"LEASE_SEC"`
	// NodeName is this member's name in the etcd cluster. Default
	// "horaemeta-<hostname>".
	NodeName string `toml:"node-name" env:"NODE_NAME"`
	// Addr is the member's address when etcd is external. Default
	// "127.0.0.1". Unused with the embedded etcd.
	Addr string `toml:"addr" env:"ADDR"`
	// DataDir holds etcd's data (<data-dir>/etcd) and WAL (<data-dir>/wal).
	// Default "data/horaemeta".
	DataDir string `toml:"data-dir" env:"DATA_DIR"`
	// StorageRootPath prefixes every key HoraeMeta writes to etcd; data
	// nodes must use the same root for their shard locks. Default "/horaedb".
	StorageRootPath string `toml:"storage-root-path" env:"STORAGE_ROOT_PATH"`

	// InitialCluster lists the etcd members, "name=peerURL,...". Default "":
	// this member alone, "<node-name>=<first advertise peer URL>".
	InitialCluster string `toml:"initial-cluster" env:"INITIAL_CLUSTER"`
	// InitialClusterState is "new" or "existing". Default "new".
	InitialClusterState string `toml:"initial-cluster-state" env:"INITIAL_CLUSTER_STATE"`
	// InitialClusterToken tells etcd clusters apart. Default
	// "horaemeta-cluster".
	InitialClusterToken string `toml:"initial-cluster-token" env:"INITIAL_CLUSTER_TOKEN"`
	// TickIntervalMs is etcd's heartbeat interval. Default 500.
	TickIntervalMs Millis `toml:"tick-interval-ms" env:"TICK_INTERVAL_MS"`
	// ElectionTimeoutMs is etcd's election timeout; at least 5 ticks.
	// Default 3000.
	ElectionTimeoutMs Millis `toml:"election-timeout-ms" env:"ELECTION_TIMEOUT_MS"`
	// QuotaBackendBytes is etcd's size limit, in bytes. Default 8 GiB.
	QuotaBackendBytes int64 `toml:"quota-backend-bytes" env:"QUOTA_BACKEND_BYTES"`
	// AutoCompactionMode is "periodic" or "revision". Default "periodic".
	// Env AUTO_COMPACTION_MODE, or upstream's AUTO-COMPACTION-MODE.
	AutoCompactionMode string `toml:"auto-compaction-mode" env:"AUTO_COMPACTION_MODE,AUTO-COMPACTION-MODE"`
	// AutoCompactionRetention is a duration ("1h") for periodic and a
	// revision count for revision. Default "1h".
	AutoCompactionRetention string `toml:"auto-compaction-retention" env:"AUTO_COMPACTION_RETENTION"`
	// MaxRequestBytes is the largest request etcd (and MetaService)
	// accepts, in bytes. Default 2 MiB.
	MaxRequestBytes uint `toml:"max-request-bytes" env:"MAX_REQUEST_BYTES"`
	// MaxScanLimit is the page size of HoraeMeta's range reads. Default
	// 100.
	MaxScanLimit int `toml:"max-scan-limit" env:"MAX_SCAN_LIMIT"`
	// MinScanLimit is the smallest page a range read falls back to when a
	// page of MaxScanLimit values is too large for one response. Default
	// 20.
	MinScanLimit int `toml:"min-scan-limit" env:"MIN_SCAN_LIMIT"`
	// MaxOpsPerTxn caps the operations HoraeMeta puts in one etcd
	// transaction (a partitioned table's sub-tables must fit). Default 32.
	MaxOpsPerTxn int `toml:"max-ops-per-txn" env:"MAX_OPS_PER_TXN"`
	// IDAllocatorStep is how many ids the leader reserves in etcd at a
	// time. Ids are never reused; a new leader starts a new range. Default
	// 20.
	IDAllocatorStep uint64 `toml:"id-allocator-step" env:"ID_ALLOCATOR_STEP"`

	// DefaultClusterName is the cluster created at start. Default
	// "defaultCluster".
	DefaultClusterName string `toml:"default-cluster-name" env:"DEFAULT_CLUSTER_NAME"`
	// DefaultClusterNodeCount is how many data nodes the default cluster
	// waits for before it assigns shards. Default 2.
	DefaultClusterNodeCount int `toml:"default-cluster-node-count" env:"DEFAULT_CLUSTER_NODE_COUNT"`
	// DefaultClusterShardTotal is the default cluster's number of shards.
	// Default 8.
	DefaultClusterShardTotal int `toml:"default-cluster-shard-total" env:"DEFAULT_CLUSTER_SHARD_TOTAL"`
	// EnableSchedule lets the default cluster's scheduler open, close and
	// move shards by itself (reopen on a returning node; failover and
	// rebalancing in dynamic topology). The initial assignment happens
	// either way. Default true.
	EnableSchedule bool `toml:"enable-schedule" env:"ENABLE_SCHEDULE"`
	// TopologyType of the default cluster: "static" or "dynamic". Default
	// "static".
	TopologyType string `toml:"topology-type" env:"TOPOLOGY_TYPE"`
	// ProcedureExecutingBatchSize caps the scheduler procedures running at
	// once in a cluster. Default 4294967295 (no cap).
	ProcedureExecutingBatchSize uint32 `toml:"procedure-executing-batch-size" env:"PROCEDURE_EXECUTING_BATCH_SIZE"`

	// ClientUrls are the URLs etcd — and MetaService — listen on,
	// comma-separated. Default "http://0.0.0.0:2379".
	ClientUrls string `toml:"client-urls" env:"CLIENT_URLS"`
	// AdvertiseClientUrls are the client URLs other members and data nodes
	// use. Default "": the client URLs, with 0.0.0.0 read as 127.0.0.1 (set
	// them when members run on several hosts).
	AdvertiseClientUrls string `toml:"advertise-client-urls" env:"ADVERTISE_CLIENT_URLS"`
	// PeerUrls are the URLs etcd's peers connect to. Default
	// "http://0.0.0.0:2380".
	PeerUrls string `toml:"peer-urls" env:"PEER_URLS"`
	// AdvertisePeerUrls default to the peer URLs, with 0.0.0.0 read as
	// 127.0.0.1.
	AdvertisePeerUrls string `toml:"advertise-peer-urls" env:"ADVERTISE_PEER_URLS"`
	// HTTPPort is the admin HTTP port (all interfaces). Default 8080.
	HTTPPort int `toml:"http-port" env:"HTTP_PORT"`
	// GrpcPort is MetaService's port when etcd is external. Default 2379.
	// With the embedded etcd, MetaService is served on the client URLs.
	GrpcPort int `toml:"grpc-port" env:"GRPC_PORT"`

	// NodeHeartbeatTimeout: a data node silent this long is dead. Default
	// "10s".
	NodeHeartbeatTimeout units.Duration `toml:"node-heartbeat-timeout" env:"NODE_HEARTBEAT_TIMEOUT"`
	// ScheduleInterval is how often the scheduler looks at each cluster
	// (heartbeats that change something wake it early). Default "5s".
	ScheduleInterval units.Duration `toml:"schedule-interval" env:"SCHEDULE_INTERVAL"`
	// ProcedureTimeout bounds a procedure; one that has not finished by then
	// fails with a timeout error. Default "30s".
	ProcedureTimeout units.Duration `toml:"procedure-timeout" env:"PROCEDURE_TIMEOUT"`
	// EventDispatchTimeout bounds one event sent to a data node; failed
	// sends are retried with backoff until the procedure times out.
	// Default "5s".
	EventDispatchTimeout units.Duration `toml:"event-dispatch-timeout" env:"EVENT_DISPATCH_TIMEOUT"`
	// ProcedureRetention is how long finished procedures are kept, for
	// idempotent retries and for the admin API. Default "10m".
	ProcedureRetention units.Duration `toml:"procedure-retention" env:"PROCEDURE_RETENTION"`
}

// LogConfig is [log] and [etcd-log].
type LogConfig struct {
	// Level is debug, info, warn or error. Default "info" for [log] and
	// "warn" for [etcd-log] (etcd is chatty at info).
	Level string `toml:"level" env:"-"`
}

// FlowLimiterConfig is [flow-limiter]: a token bucket in front of
// CreateTable, DropTable and RouteTables.
type FlowLimiterConfig struct {
	// Enable turns the limiter on. Default true.
	Enable bool `toml:"enable" env:"FLOW_LIMITER_ENABLE"`
	// Limit is the sustained rate, requests per second. Default 10000.
	Limit int `toml:"limit" env:"FLOW_LIMITER_LIMIT"`
	// Burst is the bucket size. Default 100000.
	Burst int `toml:"burst" env:"FLOW_LIMITER_BURST"`
}

// Default returns the configuration of a single-member meta that needs no
// file: etcd on 2379/2380, admin HTTP on 8080, data under data/horaemeta.
func Default() Config {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return Config{
		Log:         LogConfig{Level: "info"},
		EtcdLog:     LogConfig{Level: "warn"},
		FlowLimiter: FlowLimiterConfig{Enable: true, Limit: 10000, Burst: 100000},

		EnableEmbedEtcd:    true,
		EtcdStartTimeoutMs: 60000,
		EtcdCallTimeoutMs:  5000,
		EtcdMaxTxnOps:      128,

		GrpcHandleTimeoutMs:                    60000,
		GrpcServiceMaxSendMsgSize:              200 << 20,
		GrpcServiceMaxRecvMsgSize:              100 << 20,
		GrpcServiceKeepAlivePingMinIntervalSec: 20,

		LeaseSec:        10,
		NodeName:        "horaemeta-" + host,
		Addr:            "127.0.0.1",
		DataDir:         "data/horaemeta",
		StorageRootPath: "/horaedb",

		InitialClusterState:     "new",
		InitialClusterToken:     "horaemeta-cluster",
		TickIntervalMs:          500,
		ElectionTimeoutMs:       3000,
		QuotaBackendBytes:       8 << 30,
		AutoCompactionMode:      "periodic",
		AutoCompactionRetention: "1h",
		MaxRequestBytes:         2 << 20,
		MaxScanLimit:            100,
		MinScanLimit:            20,
		MaxOpsPerTxn:            32,
		IDAllocatorStep:         20,

		DefaultClusterName:          "defaultCluster",
		DefaultClusterNodeCount:     2,
		DefaultClusterShardTotal:    8,
		EnableSchedule:              true,
		TopologyType:                TopologyStatic,
		ProcedureExecutingBatchSize: 1<<32 - 1,

		ClientUrls: "http://0.0.0.0:2379",
		PeerUrls:   "http://0.0.0.0:2380",
		HTTPPort:   8080,
		GrpcPort:   2379,

		NodeHeartbeatTimeout: units.Duration(10 * time.Second),
		ScheduleInterval:     units.Duration(5 * time.Second),
		ProcedureTimeout:     units.Duration(30 * time.Second),
		EventDispatchTimeout: units.Duration(5 * time.Second),
		ProcedureRetention:   units.Duration(10 * time.Minute),
	}
}

// Error is one problem with a config. It matches ErrInvalid.
type Error struct {
	// File is the path given to Load; empty otherwise.
	File string
	// Line and Column locate the problem (1-based); 0 when unknown.
	Line, Column int
	// Key is the TOML key or the environment variable.
	Key string
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Validate checks the config and returns every problem found, joined; each
// names its key and matches ErrInvalid.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	positive := func(key string, n int64) {
		if n <= 0 {
			bad(key, "must be positive, got %d", n)
		}
	}
	for _, l := range []struct {
		key, level string
	}{{"log.level", c.Log.Level}, {"etcd-log.level", c.EtcdLog.Level}} {
		if _, err := ParseLevel(l.level); err != nil {
			bad(l.key, "%v", err)
		}
	}
	if c.FlowLimiter.Enable {
		positive("flow-limiter.limit", int64(c.FlowLimiter.Limit))
		positive("flow-limiter.burst", int64(c.FlowLimiter.Burst))
	}
	if !c.EnableEmbedEtcd {
		bad("enable-embed-etcd", "an external etcd is not supported yet; HoraeMeta runs etcd inside itself (set true)")
	}
	for _, k := range []struct{ key, v string }{
		{"etcd-ca-cert-path", c.EtcdCACertPath}, {"etcd-key-path", c.EtcdKeyPath}, {"etcd-cert-path", c.EtcdCertPath},
	} {
		if k.v != "" && c.EnableEmbedEtcd {
			bad(k.key, "applies only to an external etcd (enable-embed-etcd = false)")
		}
	}
	positive("etcd-start-timeout-ms", int64(c.EtcdStartTimeoutMs))
	positive("etcd-call-timeout-ms", int64(c.EtcdCallTimeoutMs))
	if c.EtcdMaxTxnOps < 8 {
		bad("etcd-max-txn-ops", "must be at least 8, got %d", c.EtcdMaxTxnOps)
	}
	positive("grpc-handle-timeout-ms", int64(c.GrpcHandleTimeoutMs))
	positive("grpc-service-max-send-msg-size", int64(c.GrpcServiceMaxSendMsgSize))
	positive("grpc-service-max-recv-msg-size", int64(c.GrpcServiceMaxRecvMsgSize))
	positive("grpc-service-keep-alive-ping-min-interval-sec", int64(c.GrpcServiceKeepAlivePingMinIntervalSec))
	positive("lease-sec", int64(c.LeaseSec))
	if strings.TrimSpace(c.NodeName) == "" {
		bad("node-name", "is required")
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", "is required")
	}
	if !strings.HasPrefix(c.StorageRootPath, "/") || len(c.StorageRootPath) < 2 || strings.HasSuffix(c.StorageRootPath, "/") {
		bad("storage-root-path", "%q must start with / and not end with /", c.StorageRootPath)
	}
	if c.InitialClusterState != "new" && c.InitialClusterState != "existing" {
		bad("initial-cluster-state", "%q: want new or existing", c.InitialClusterState)
	}
	if c.InitialCluster != "" {
		if _, err := ParseInitialCluster(c.InitialCluster); err != nil {
			bad("initial-cluster", "%v", err)
		}
	}
	positive("tick-interval-ms", int64(c.TickIntervalMs))
	if c.TickIntervalMs > 0 && c.ElectionTimeoutMs < 5*c.TickIntervalMs {
		bad("election-timeout-ms", "%d must be at least 5 × tick-interval-ms (%d)", c.ElectionTimeoutMs, 5*c.TickIntervalMs)
	}
	if c.ElectionTimeoutMs > 50000 {
		bad("election-timeout-ms", "%d is above etcd's maximum of 50000", c.ElectionTimeoutMs)
	}
	if c.QuotaBackendBytes < 0 {
		bad("quota-backend-bytes", "must not be negative")
	}
	switch c.AutoCompactionMode {
	case "periodic":
		if c.AutoCompactionRetention != "0" {
			if _, err := time.ParseDuration(c.AutoCompactionRetention); err != nil {
				bad("auto-compaction-retention", "%q is not a duration such as 1h", c.AutoCompactionRetention)
			}
		}
	case "revision":
		if _, err := strconv.ParseUint(c.AutoCompactionRetention, 10, 64); err != nil {
			bad("auto-compaction-retention", "%q is not a revision count", c.AutoCompactionRetention)
		}
	default:
		bad("auto-compaction-mode", "%q: want periodic or revision", c.AutoCompactionMode)
	}
	if c.MaxRequestBytes < 64<<10 {
		bad("max-request-bytes", "must be at least 64KiB, got %d", c.MaxRequestBytes)
	}
	positive("min-scan-limit", int64(c.MinScanLimit))
	if c.MaxScanLimit < c.MinScanLimit {
		bad("max-scan-limit", "%d is below min-scan-limit (%d)", c.MaxScanLimit, c.MinScanLimit)
	}
	if c.MaxOpsPerTxn < 8 || uint(c.MaxOpsPerTxn) > c.EtcdMaxTxnOps {
		bad("max-ops-per-txn", "%d must be between 8 and etcd-max-txn-ops (%d)", c.MaxOpsPerTxn, c.EtcdMaxTxnOps)
	}
	if c.IDAllocatorStep == 0 {
		bad("id-allocator-step", "must be positive")
	}
	if err := CheckClusterName(c.DefaultClusterName); err != nil {
		bad("default-cluster-name", "%v", err)
	}
	positive("default-cluster-node-count", int64(c.DefaultClusterNodeCount))
	if c.DefaultClusterShardTotal < 1 || c.DefaultClusterShardTotal > MaxShardTotal {
		bad("default-cluster-shard-total", "%d out of range 1..%d", c.DefaultClusterShardTotal, MaxShardTotal)
	}
	if c.TopologyType != TopologyStatic && c.TopologyType != TopologyDynamic {
		bad("topology-type", "%q: want static or dynamic", c.TopologyType)
	}
	positive("procedure-executing-batch-size", int64(c.ProcedureExecutingBatchSize))
	for _, u := range []struct{ key, v string }{
		{"client-urls", c.ClientUrls}, {"peer-urls", c.PeerUrls},
		{"advertise-client-urls", c.AdvertiseClientUrls}, {"advertise-peer-urls", c.AdvertisePeerUrls},
	} {
		if u.v == "" && strings.HasPrefix(u.key, "advertise") {
			continue
		}
		if _, err := ParseURLs(u.v); err != nil {
			bad(u.key, "%v", err)
		}
	}
	if c.HTTPPort < 0 || c.HTTPPort > 65535 {
		bad("http-port", "%d out of range 0..65535", c.HTTPPort)
	}
	if c.GrpcPort < 0 || c.GrpcPort > 65535 {
		bad("grpc-port", "%d out of range 0..65535", c.GrpcPort)
	}
	for _, d := range []struct {
		key string
		v   units.Duration
	}{
		{"node-heartbeat-timeout", c.NodeHeartbeatTimeout}, {"schedule-interval", c.ScheduleInterval},
		{"procedure-timeout", c.ProcedureTimeout}, {"event-dispatch-timeout", c.EventDispatchTimeout},
		{"procedure-retention", c.ProcedureRetention},
	} {
		if d.v <= 0 {
			bad(d.key, "must be positive, got %s", d.v)
		}
	}
	if c.EventDispatchTimeout > 0 && c.ProcedureTimeout < c.EventDispatchTimeout {
		bad("procedure-timeout", "%s is below event-dispatch-timeout (%s)", c.ProcedureTimeout, c.EventDispatchTimeout)
	}
	return errors.Join(errs...)
}

// MaxShardTotal bounds a cluster's shard count.
const MaxShardTotal = 4096

// CheckClusterName accepts names that are safe in etcd keys and URLs:
// letters, digits, '-', '_' and '.', at most 128 bytes.
func CheckClusterName(name string) error {
	if name == "" {
		return errors.New("empty cluster name")
	}
	if len(name) > 128 {
		return fmt.Errorf("cluster name %q is longer than 128 bytes", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("cluster name %q: only letters, digits, '-', '_' and '.' are allowed", name)
		}
	}
	return nil
}

// ParseURLs parses a comma-separated list of http(s)://host:port URLs.
func ParseURLs(s string) ([]url.URL, error) {
	var out []url.URL
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a URL: %v", part, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("%q: scheme must be http or https", part)
		}
		if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
			return nil, fmt.Errorf("%q: want scheme://host:port", part)
		}
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("%q: a URL here has no path", part)
		}
		out = append(out, *u)
	}
	if len(out) == 0 {
		return nil, errors.New("no URL given")
	}
	return out, nil
}

// ParseInitialCluster parses "name=url,name=url" into name → URLs (a name
// may be listed several times, once per peer URL).
func ParseInitialCluster(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, u, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: want name=peerURL", part)
		}
		if _, err := ParseURLs(u); err != nil {
			return nil, fmt.Errorf("member %s: %v", name, err)
		}
		out[name] = append(out[name], u)
	}
	if len(out) == 0 {
		return nil, errors.New("no member given")
	}
	return out, nil
}

// ClientURLs returns the parsed client-urls.
func (c *Config) ClientURLs() []url.URL { u, _ := ParseURLs(c.ClientUrls); return u }

// PeerURLs returns the parsed peer-urls.
func (c *Config) PeerURLs() []url.URL { u, _ := ParseURLs(c.PeerUrls); return u }

// AdvertisedClientURLs returns advertise-client-urls, or the client URLs
// with unspecified hosts (0.0.0.0, ::) read as 127.0.0.1.
func (c *Config) AdvertisedClientURLs() []url.URL {
	if c.AdvertiseClientUrls != "" {
		u, _ := ParseURLs(c.AdvertiseClientUrls)
		return u
	}
	return loopback(c.ClientURLs())
}

// AdvertisedPeerURLs returns advertise-peer-urls, or the peer URLs with
// unspecified hosts read as 127.0.0.1.
func (c *Config) AdvertisedPeerURLs() []url.URL {
	if c.AdvertisePeerUrls != "" {
		u, _ := ParseURLs(c.AdvertisePeerUrls)
		return u
	}
	return loopback(c.PeerURLs())
}

// EffectiveInitialCluster returns initial-cluster, or this member alone.
func (c *Config) EffectiveInitialCluster() string {
	if c.InitialCluster != "" {
		return c.InitialCluster
	}
	var parts []string
	for _, u := range c.AdvertisedPeerURLs() {
		parts = append(parts, c.NodeName+"="+u.String())
	}
	return strings.Join(parts, ",")
}

// loopback replaces unspecified hosts by 127.0.0.1.
func loopback(us []url.URL) []url.URL {
	out := make([]url.URL, len(us))
	for i, u := range us {
		host, port, _ := net.SplitHostPort(u.Host)
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			u.Host = net.JoinHostPort("127.0.0.1", port)
		}
		out[i] = u
	}
	return out
}
