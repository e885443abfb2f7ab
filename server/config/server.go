package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/horaego/horaedb/internal/units"
)

// NodeConfig is [node]: what this node advertises. The node's name in the
// cluster is "{addr}:{server.grpc_port}".
type NodeConfig struct {
	// Addr is the host (IP or name) other nodes and HoraeMeta reach this node
	// at. Default "127.0.0.1". Env HORAEDB_SERVER_ADDR overrides it.
	Addr string `toml:"addr"`
	// Zone is reported to HoraeMeta. Default "".
	Zone string `toml:"zone"`
	// IDC is reported to HoraeMeta. Default "".
	IDC string `toml:"idc"`
	// BinaryVersion is reported to HoraeMeta. Default "".
	BinaryVersion string `toml:"binary_version"`
}

func defaultNode() NodeConfig {
	return NodeConfig{Addr: "127.0.0.1"}
}

func (n *NodeConfig) check(v *validator, key string) {
	hostOnly(v, key+".addr", n.Addr)
}

// hostOnly requires a host (IP or name) without a port.
func hostOnly(v *validator, key, s string) {
	if strings.TrimSpace(s) == "" {
		v.add(key, "is required")
		return
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		v.add(key, "%q has a port; give the host only", s)
	}
}

// ServerConfig is [server]: listeners and request handling.
type ServerConfig struct {
	// BindAddr is the address all listeners bind to. Default "127.0.0.1";
	// use "0.0.0.0" to listen on every interface.
	BindAddr string `toml:"bind_addr"`
	// HTTPPort serves the HTTP API (SQL, InfluxDB, OpenTSDB, Prometheus,
	// /debug, /metrics). Default 5440.
	HTTPPort int `toml:"http_port"`
	// GRPCPort serves every gRPC service. Default 8831.
	GRPCPort int `toml:"grpc_port"`
	// MySQLPort serves the MySQL wire protocol. Default 3307.
	MySQLPort int `toml:"mysql_port"`
	// PostgreSQLPort serves the PostgreSQL wire protocol. Default 5433.
	PostgreSQLPort int `toml:"postgresql_port"`
	// Timeout bounds a gRPC, MySQL or PostgreSQL request (HTTP /sql ignores
	// it). Default 0: no timeout.
	Timeout units.Duration `toml:"timeout,omitzero"`
	// HTTPMaxBodySize is the largest accepted HTTP request body. Default 64MB.
	HTTPMaxBodySize units.Size `toml:"http_max_body_size"`
	// GRPCServerCQCount is the number of gRPC completion queues (upstream's
	// grpcio knob; we use it to size the gRPC handler pool). Default 20.
	GRPCServerCQCount int `toml:"grpc_server_cq_count"`
	// RespCompressMinLength is the Arrow payload size above which query
	// responses are zstd-compressed. Default 4MB.
	RespCompressMinLength units.Size `toml:"resp_compress_min_length"`
	// AutoCreateTable makes gRPC, InfluxDB, OpenTSDB and Prometheus writes
	// create missing tables and add missing columns. Default true.
	AutoCreateTable bool `toml:"auto_create_table"`
	// Auth configures authentication.
	Auth AuthConfig `toml:"auth"`
	// Forward configures forwarding requests to the node owning a table.
	Forward ForwardConfig `toml:"forward"`
	// DefaultSchemaConfig is used for tables created implicitly.
	DefaultSchemaConfig SchemaConfig `toml:"default_schema_config"`
	// RouteCache caches table routes.
	RouteCache RouteCacheConfig `toml:"route_cache"`
	// Hotspot records the most queried and written tables.
	Hotspot HotspotConfig `toml:"hotspot"`
	// RemoteClient configures calls to other data nodes.
	RemoteClient RemoteEngineClientConfig `toml:"remote_client"`
	// QueryDedup merges identical concurrent queries.
	QueryDedup QueryDedupConfig `toml:"query_dedup"`
	// SubTableAccessPerm says which front ends may query partition
	// sub-tables (__t_N) directly.
	SubTableAccessPerm SubTableAccessPermConfig `toml:"sub_table_access_perm"`
}

func defaultServer() ServerConfig {
	return ServerConfig{
		BindAddr:              "127.0.0.1",
		HTTPPort:              5440,
		GRPCPort:              8831,
		MySQLPort:             3307,
		PostgreSQLPort:        5433,
		HTTPMaxBodySize:       64 << 20,
		GRPCServerCQCount:     20,
		RespCompressMinLength: 4 << 20,
		AutoCreateTable:       true,
		Auth:                  AuthConfig{AuthType: AuthTypeFile},
		Forward: ForwardConfig{
			ConnectTimeout:     seconds(3),
			KeepAliveInterval:  seconds(600),
			KeepAliveTimeout:   seconds(3),
			KeepAliveWhileIdle: true,
		},
		DefaultSchemaConfig: defaultSchemaConfig(),
		RouteCache: RouteCacheConfig{
			TTL:      seconds(5),
			TTI:      seconds(5),
			Capacity: 10000,
		},
		Hotspot: HotspotConfig{
			QueryCap:         10000,
			WriteCap:         10000,
			EnableAutoDump:   true,
			AutoDumpInterval: seconds(60),
			AutoDumpNumItems: 10,
		},
		RemoteClient: defaultRemoteEngineClient(),
		QueryDedup: QueryDedupConfig{
			NotifyTimeout:  seconds(1),
			NotifyQueueCap: 1000,
		},
		SubTableAccessPerm: SubTableAccessPermConfig{EnableHTTP: true, EnableOthers: true},
	}
}

func (s *ServerConfig) check(v *validator, key string) {
	hostOnly(v, key+".bind_addr", s.BindAddr)
	ports := []struct {
		name string
		port int
	}{
		{"http_port", s.HTTPPort},
		{"grpc_port", s.GRPCPort},
		{"mysql_port", s.MySQLPort},
		{"postgresql_port", s.PostgreSQLPort},
	}
	seen := map[int]string{}
	for _, p := range ports {
		k := key + "." + p.name
		v.port(k, p.port)
		if other, dup := seen[p.port]; dup {
			v.add(k, "port %d is also %s.%s", p.port, key, other)
		}
		seen[p.port] = p.name
	}
	if s.Timeout < 0 {
		v.add(key+".timeout", "must not be negative")
	}
	if s.HTTPMaxBodySize == 0 {
		v.add(key+".http_max_body_size", "must be positive")
	}
	v.positive(key+".grpc_server_cq_count", s.GRPCServerCQCount)
	s.Auth.check(v, key+".auth")
	s.Forward.check(v, key+".forward")
	s.DefaultSchemaConfig.check(v, key+".default_schema_config")
	s.RouteCache.check(v, key+".route_cache")
	s.Hotspot.check(v, key+".hotspot")
	s.RemoteClient.check(v, key+".remote_client")
	s.QueryDedup.check(v, key+".query_dedup")
}

// AuthTypeFile reads users from a CSV file of "user,password" lines.
const AuthTypeFile = "file"

// AuthConfig is [server.auth]: HTTP Basic auth (header and gRPC metadata
// "authorization").
type AuthConfig struct {
	// Enable turns authentication on. Default false.
	Enable bool `toml:"enable"`
	// AuthType is where users come from; only "file". Default "file".
	AuthType string `toml:"auth_type"`
	// Source is the path of the users file for auth_type "file". Default "";
	// required when enabled.
	Source string `toml:"source"`
}

func (a *AuthConfig) check(v *validator, key string) {
	v.oneOf(key+".auth_type", "auth type", a.AuthType, AuthTypeFile)
	if a.Enable {
		v.required(key+".source", a.Source)
	}
}

// ForwardConfig is [server.forward]: the connections used to forward requests
// to the node that owns a table.
type ForwardConfig struct {
	// ConnectTimeout bounds connecting to the owner. Default 3s.
	ConnectTimeout units.Duration `toml:"connect_timeout"`
	// ForwardTimeout bounds a forwarded request. Default 0: none.
	ForwardTimeout units.Duration `toml:"forward_timeout,omitzero"`
	// KeepAliveInterval is the HTTP/2 ping interval. Default 10m.
	KeepAliveInterval units.Duration `toml:"keep_alive_interval"`
	// KeepAliveTimeout is how long a ping may stay unanswered. Default 3s.
	KeepAliveTimeout units.Duration `toml:"keep_alive_timeout"`
	// KeepAliveWhileIdle pings idle connections too. Default true.
	KeepAliveWhileIdle bool `toml:"keep_alive_while_idle"`
}

func (f *ForwardConfig) check(v *validator, key string) {
	durPositive(v, key+".connect_timeout", f.ConnectTimeout)
	durPositive(v, key+".keep_alive_interval", f.KeepAliveInterval)
	durPositive(v, key+".keep_alive_timeout", f.KeepAliveTimeout)
	if f.ForwardTimeout < 0 {
		v.add(key+".forward_timeout", "must not be negative")
	}
}

// EngineAnalytic is the only table engine.
const EngineAnalytic = "Analytic"

// SchemaConfig is [server.default_schema_config], also the per-schema
// defaults of a static topology.
type SchemaConfig struct {
	// DefaultEngineType is the engine of implicitly created tables; only
	// "Analytic". Default "Analytic".
	DefaultEngineType string `toml:"default_engine_type"`
	// DefaultTimestampColumnName names the timestamp column of implicitly
	// created tables. Default "timestamp".
	DefaultTimestampColumnName string `toml:"default_timestamp_column_name"`
}

func defaultSchemaConfig() SchemaConfig {
	return SchemaConfig{DefaultEngineType: EngineAnalytic, DefaultTimestampColumnName: "timestamp"}
}

func (s *SchemaConfig) check(v *validator, key string) {
	v.oneOf(key+".default_engine_type", "engine type", s.DefaultEngineType, EngineAnalytic)
	v.required(key+".default_timestamp_column_name", s.DefaultTimestampColumnName)
}

// RouteCacheConfig is [server.route_cache].
type RouteCacheConfig struct {
	// Enable turns the route cache on. Default false.
	Enable bool `toml:"enable"`
	// TTL is how long an entry lives after it is written. Default 5s.
	TTL units.Duration `toml:"ttl"`
	// TTI is how long an entry lives after it was last read. Default 5s.
	TTI units.Duration `toml:"tti"`
	// Capacity is the maximum number of routes kept. Default 10000.
	Capacity int `toml:"capacity"`
}

func (r *RouteCacheConfig) check(v *validator, key string) {
	if !r.Enable {
		return
	}
	durPositive(v, key+".ttl", r.TTL)
	durPositive(v, key+".tti", r.TTI)
	v.positive(key+".capacity", r.Capacity)
}

// HotspotConfig is [server.hotspot]: counting of the hottest tables.
type HotspotConfig struct {
	// QueryCap is how many queried tables are tracked; 0 disables. Default
	// 10000.
	QueryCap int `toml:"query_cap"`
	// WriteCap is how many written tables are tracked; 0 disables. Default
	// 10000.
	WriteCap int `toml:"write_cap"`
	// EnableAutoDump logs the hottest tables periodically. Default true.
	EnableAutoDump bool `toml:"enable_auto_dump"`
	// AutoDumpInterval is the period of the dump. Default 1m.
	AutoDumpInterval units.Duration `toml:"auto_dump_interval"`
	// AutoDumpNumItems is how many tables each dump lists. Default 10.
	AutoDumpNumItems int `toml:"auto_dump_num_items"`
}

func (h *HotspotConfig) check(v *validator, key string) {
	v.nonNegative(key+".query_cap", h.QueryCap)
	v.nonNegative(key+".write_cap", h.WriteCap)
	if h.EnableAutoDump {
		durPositive(v, key+".auto_dump_interval", h.AutoDumpInterval)
		v.positive(key+".auto_dump_num_items", h.AutoDumpNumItems)
	}
}

// Compression methods of node-to-node responses.
const (
	CompressionNone = "None"
	CompressionZstd = "Zstd"
)

// RemoteEngineClientConfig is [server.remote_client] and
// [analytic.remote_engine_client]: the client a node uses to read from and
// write to tables on other nodes.
type RemoteEngineClientConfig struct {
	// ConnectTimeout bounds connecting to another node. Default 3s.
	ConnectTimeout units.Duration `toml:"connect_timeout"`
	// ChannelPoolMaxSizePerPartition caps connections per pool partition.
	// Default 16.
	ChannelPoolMaxSizePerPartition int `toml:"channel_pool_max_size_per_partition"`
	// ChannelPoolPartitionNum is the number of pool partitions. Default 16.
	ChannelPoolPartitionNum int `toml:"channel_pool_partition_num"`
	// ChannelKeepAliveWhileIdle pings idle connections. Default true.
	ChannelKeepAliveWhileIdle bool `toml:"channel_keep_alive_while_idle"`
	// ChannelKeepAliveTimeout is how long a ping may stay unanswered.
	// Default 3s.
	ChannelKeepAliveTimeout units.Duration `toml:"channel_keep_alive_timeout"`
	// ChannelKeepAliveInterval is the ping interval. Default 600s.
	ChannelKeepAliveInterval units.Duration `toml:"channel_keep_alive_interval"`
	// RouteCacheMaxSizePerPartition caps cached routes per partition.
	// Default 16.
	RouteCacheMaxSizePerPartition int `toml:"route_cache_max_size_per_partition"`
	// RouteCachePartitionNum is the number of route cache partitions.
	// Default 16.
	RouteCachePartitionNum int `toml:"route_cache_partition_num"`
	// Compression compresses payloads between nodes.
	Compression CompressionConfig `toml:"compression"`
	// MaxRetry is how often a failed call is retried. Default 5.
	MaxRetry int `toml:"max_retry"`
	// RetryInterval is the pause between retries. Default 5s.
	RetryInterval units.Duration `toml:"retry_interval"`
}

// CompressionConfig is the compression of node-to-node payloads.
type CompressionConfig struct {
	// CompressMinLength is the payload size from which payloads are
	// compressed. Default 80KB.
	CompressMinLength units.Size `toml:"compress_min_length"`
	// Method is "None" or "Zstd". Default "Zstd".
	Method string `toml:"method"`
}

func defaultRemoteEngineClient() RemoteEngineClientConfig {
	return RemoteEngineClientConfig{
		ConnectTimeout:                 seconds(3),
		ChannelPoolMaxSizePerPartition: 16,
		ChannelPoolPartitionNum:        16,
		ChannelKeepAliveWhileIdle:      true,
		ChannelKeepAliveTimeout:        seconds(3),
		ChannelKeepAliveInterval:       seconds(600),
		RouteCacheMaxSizePerPartition:  16,
		RouteCachePartitionNum:         16,
		Compression:                    CompressionConfig{CompressMinLength: 80 << 10, Method: CompressionZstd},
		MaxRetry:                       5,
		RetryInterval:                  seconds(5),
	}
}

func (r *RemoteEngineClientConfig) check(v *validator, key string) {
	durPositive(v, key+".connect_timeout", r.ConnectTimeout)
	v.positive(key+".channel_pool_max_size_per_partition", r.ChannelPoolMaxSizePerPartition)
	v.positive(key+".channel_pool_partition_num", r.ChannelPoolPartitionNum)
	durPositive(v, key+".channel_keep_alive_timeout", r.ChannelKeepAliveTimeout)
	durPositive(v, key+".channel_keep_alive_interval", r.ChannelKeepAliveInterval)
	v.positive(key+".route_cache_max_size_per_partition", r.RouteCacheMaxSizePerPartition)
	v.positive(key+".route_cache_partition_num", r.RouteCachePartitionNum)
	v.oneOf(key+".compression.method", "compression method", r.Compression.Method, CompressionNone, CompressionZstd)
	v.nonNegative(key+".max_retry", r.MaxRetry)
	durNonNegative(v, key+".retry_interval", r.RetryInterval)
}

// QueryDedupConfig is [server.query_dedup]: identical queries running at the
// same time are executed once.
type QueryDedupConfig struct {
	// Enable turns deduplication on. Default false.
	Enable bool `toml:"enable"`
	// NotifyTimeout bounds how long waiting queries wait for the result.
	// Default 1s.
	NotifyTimeout units.Duration `toml:"notify_timeout"`
	// NotifyQueueCap is the number of queries that can wait for one result.
	// Default 1000.
	NotifyQueueCap int `toml:"notify_queue_cap"`
}

func (q *QueryDedupConfig) check(v *validator, key string) {
	if !q.Enable {
		return
	}
	durPositive(v, key+".notify_timeout", q.NotifyTimeout)
	v.positive(key+".notify_queue_cap", q.NotifyQueueCap)
}

// SubTableAccessPermConfig is [server.sub_table_access_perm].
type SubTableAccessPermConfig struct {
	// EnableHTTP allows queries of sub-tables over HTTP. Default true.
	EnableHTTP bool `toml:"enable_http"`
	// EnableOthers allows them over gRPC, MySQL and PostgreSQL. Default
	// true.
	EnableOthers bool `toml:"enable_others"`
}

// seconds is a units.Duration of n seconds.
func seconds(n int64) units.Duration {
	return units.Duration(n * 1e9)
}

func durPositive(v *validator, key string, d units.Duration) {
	if d <= 0 {
		v.add(key, "must be a positive duration, got %s", d)
	}
}

func durNonNegative(v *validator, key string, d units.Duration) {
	if d < 0 {
		v.add(key, "must not be negative, got %s", d)
	}
}

// hostPort requires "host:port" with a port in 1..65535.
func hostPort(v *validator, key, s string) {
	if err := checkHostPort(s); err != nil {
		v.add(key, "%v", err)
	}
}

func checkHostPort(s string) error {
	host, port, err := splitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("%q: port out of range 1..65535", s)
	}
	return nil
}

// splitHostPort splits "host:port" and parses the port.
func splitHostPort(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port", s)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("%q: port %q is not a number", s, p)
	}
	return host, port, nil
}
