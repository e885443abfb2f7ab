package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/horaego/horaedb/internal/units"
)

// Deployment modes, the values of cluster_deployment.mode.
const (
	// ModeNoMeta routes tables by static rules in this file; with an empty
	// topology the node is standalone.
	ModeNoMeta = "NoMeta"
	// ModeWithMeta joins a cluster managed by HoraeMeta.
	ModeWithMeta = "WithMeta"
)

var modes = []string{ModeNoMeta, ModeWithMeta}

// Node types of a WithMeta cluster.
const (
	NodeTypeHoraeDB          = "HoraeDB"
	NodeTypeCompactionServer = "CompactionServer"
)

// ClusterDeploymentConfig is [cluster_deployment], tagged by mode. Without
// the section the node runs NoMeta with an empty topology (standalone). Parse
// sets only the pointer named by Mode; the other is ignored.
type ClusterDeploymentConfig struct {
	// Mode is NoMeta or WithMeta. Default "NoMeta".
	Mode string `toml:"mode"`
	// NoMeta is set for mode NoMeta: static routing.
	NoMeta *StaticRouteConfig `toml:"-"`
	// WithMeta is set for mode WithMeta: a HoraeMeta cluster.
	WithMeta *ClusterConfig `toml:"-"`
}

// StaticRouteConfig is mode NoMeta: which node serves which shard of which
// schema, and which shard a table belongs to.
type StaticRouteConfig struct {
	// Rules map tables to shards. Default: none.
	Rules RuleListConfig `toml:"rules"`
	// Topology lists the shards of every schema. Default: none.
	Topology TopologyConfig `toml:"topology"`
}

// RuleListConfig is [cluster_deployment.rules]. A table goes to the shard of
// the first prefix rule of its schema that matches its name, else to the
// first hash rule of its schema, else to hash(table) % number of shards.
type RuleListConfig struct {
	// PrefixRules: [[cluster_deployment.rules.prefix_rules]].
	PrefixRules []PrefixRule `toml:"prefix_rules"`
	// HashRules: [[cluster_deployment.rules.hash_rules]].
	HashRules []HashRule `toml:"hash_rules"`
}

// PrefixRule sends the tables of Schema whose name starts with Prefix to
// Shard.
type PrefixRule struct {
	// Schema the rule applies to; must be in the topology. Required.
	Schema string `toml:"schema"`
	// Prefix of the table names. Required.
	Prefix string `toml:"prefix"`
	// Shard id; must be a shard of Schema. Required.
	Shard uint32 `toml:"shard"`
}

// HashRule spreads the tables of Schema over Shards by the hash of their
// name.
type HashRule struct {
	// Schema the rule applies to; must be in the topology. Required.
	Schema string `toml:"schema"`
	// Shards ids; each must be a shard of Schema. Required.
	Shards []uint32 `toml:"shards"`
}

// TopologyConfig is [cluster_deployment.topology].
type TopologyConfig struct {
	// SchemaShards: [[cluster_deployment.topology.schema_shards]].
	SchemaShards []SchemaShardView `toml:"schema_shards"`
}

// SchemaShardView lists the shards of one schema.
type SchemaShardView struct {
	// Schema is the schema (database) name. Required.
	Schema string `toml:"schema"`
	// DefaultEngineType of the schema's tables. Default "Analytic".
	DefaultEngineType string `toml:"default_engine_type"`
	// DefaultTimestampColumnName of implicitly created tables. Default
	// "timestamp".
	DefaultTimestampColumnName string `toml:"default_timestamp_column_name"`
	// ShardViews: [[...schema_shards.shard_views]].
	ShardViews []ShardView `toml:"shard_views"`
}

// ShardView says which node serves a shard.
type ShardView struct {
	// ShardID is unique within the schema. Default 0.
	ShardID uint32 `toml:"shard_id"`
	// Endpoint is the node serving the shard.
	Endpoint EndpointConfig `toml:"endpoint"`
}

// EndpointConfig is a node's gRPC endpoint.
type EndpointConfig struct {
	// Addr is the host. Required.
	Addr string `toml:"addr"`
	// Port is the gRPC port. Required.
	Port int `toml:"port"`
}

// String returns "addr:port".
func (e EndpointConfig) String() string {
	if strings.Contains(e.Addr, ":") {
		return fmt.Sprintf("[%s]:%d", e.Addr, e.Port)
	}
	return fmt.Sprintf("%s:%d", e.Addr, e.Port)
}

// ClusterConfig is mode WithMeta.
type ClusterConfig struct {
	// CmdChannelBufferSize is the length of the queue of meta events
	// waiting to be handled. Default 10.
	CmdChannelBufferSize int `toml:"cmd_channel_buffer_size"`
	// NodeType is "HoraeDB" (serves tables) or "CompactionServer" (runs
	// offloaded compactions). Default "HoraeDB".
	NodeType string `toml:"node_type"`
	// MetaClient says how to reach HoraeMeta.
	MetaClient MetaClientConfig `toml:"meta_client"`
	// EtcdClient says how to reach HoraeMeta's etcd, which holds the shard
	// locks.
	EtcdClient EtcdClientConfig `toml:"etcd_client"`
}

// MetaClientConfig is [cluster_deployment.meta_client].
type MetaClientConfig struct {
	// ClusterName is the cluster to join. Default "". Env CLUSTER_NAME
	// overrides it.
	ClusterName string `toml:"cluster_name"`
	// MetaAddr is HoraeMeta's gRPC address, "host:port" or a URL such as
	// "http://127.0.0.1:2379", or the addresses of several meta members
	// separated by commas; the node uses whichever answers. Default
	// "127.0.0.1:8080". Env HORAEMETA_SERVER_ADDR overrides it.
	MetaAddr string `toml:"meta_addr"`
	// Lease is the heartbeat lease of this node. Default 10s.
	Lease units.Duration `toml:"lease"`
	// Timeout bounds a call to HoraeMeta. Default 5s.
	Timeout units.Duration `toml:"timeout"`
	// CQCount is the number of completion queues of the client. Default 8.
	CQCount int `toml:"cq_count"`
}

// EtcdClientConfig is [cluster_deployment.etcd_client].
type EtcdClientConfig struct {
	// ServerAddrs are the etcd endpoints. Default ["127.0.0.1:2379"]. Env
	// ETCD_ADDRS (comma-separated) overrides them.
	ServerAddrs []string `toml:"server_addrs"`
	// RootPath is the key prefix of the cluster in etcd. Default "/horaedb".
	RootPath string `toml:"root_path"`
	// ConnectTimeout bounds connecting to etcd. Default 5s.
	ConnectTimeout units.Duration `toml:"connect_timeout"`
	// TLS secures the connection.
	TLS EtcdTLSConfig `toml:"tls"`
	// ShardLockLeaseTTLSec is the lease of a shard lock, in seconds; at
	// least 15. Default 30.
	ShardLockLeaseTTLSec int `toml:"shard_lock_lease_ttl_sec"`
	// ShardLockLeaseCheckInterval is how often the lease is checked; below
	// the TTL. Default 200ms.
	ShardLockLeaseCheckInterval units.Duration `toml:"shard_lock_lease_check_interval"`
	// EnableShardLockFastReacquire lets a restarted node take back its
	// shard locks without waiting for the old lease to expire. Default
	// false.
	EnableShardLockFastReacquire bool `toml:"enable_shard_lock_fast_reacquire"`
}

// minShardLockLeaseTTLSec is upstream's lower bound of the shard lock lease.
const minShardLockLeaseTTLSec = 15

// EtcdTLSConfig is [cluster_deployment.etcd_client.tls].
type EtcdTLSConfig struct {
	// Enable turns TLS on. Default false.
	Enable bool `toml:"enable"`
	// Domain is the server name checked in etcd's certificate. Default "":
	// the host of the endpoint.
	Domain string `toml:"domain"`
	// CACertPath is the CA certificate (PEM). Required when enabled.
	CACertPath string `toml:"ca_cert_path"`
	// ClientKeyPath is the client key (PEM). Required when enabled.
	ClientKeyPath string `toml:"client_key_path"`
	// ClientCertPath is the client certificate (PEM). Required when
	// enabled.
	ClientCertPath string `toml:"client_cert_path"`
}

func defaultStaticRoute() *StaticRouteConfig {
	return &StaticRouteConfig{
		Rules:    RuleListConfig{PrefixRules: []PrefixRule{}, HashRules: []HashRule{}},
		Topology: TopologyConfig{SchemaShards: []SchemaShardView{}},
	}
}

func defaultCluster() *ClusterConfig {
	return &ClusterConfig{
		CmdChannelBufferSize: 10,
		NodeType:             NodeTypeHoraeDB,
		MetaClient: MetaClientConfig{
			MetaAddr: "127.0.0.1:8080",
			Lease:    seconds(10),
			Timeout:  seconds(5),
			CQCount:  8,
		},
		EtcdClient: EtcdClientConfig{
			ServerAddrs:                 []string{"127.0.0.1:2379"},
			RootPath:                    "/horaedb",
			ConnectTimeout:              seconds(5),
			ShardLockLeaseTTLSec:        30,
			ShardLockLeaseCheckInterval: units.Duration(200e6),
		},
	}
}

// DefaultClusterDeployment returns the defaults of mode m, or a config with
// only Mode set if m is unknown.
func DefaultClusterDeployment(m string) ClusterDeploymentConfig {
	c := ClusterDeploymentConfig{Mode: m}
	switch m {
	case ModeNoMeta:
		c.NoMeta = defaultStaticRoute()
	case ModeWithMeta:
		c.WithMeta = defaultCluster()
	}
	return c
}

// normalize fills the per-schema defaults that array elements do not get
// from Default.
func (s *StaticRouteConfig) normalize() {
	for i := range s.Topology.SchemaShards {
		v := &s.Topology.SchemaShards[i]
		if v.DefaultEngineType == "" {
			v.DefaultEngineType = EngineAnalytic
		}
		if v.DefaultTimestampColumnName == "" {
			v.DefaultTimestampColumnName = "timestamp"
		}
	}
}

func (c *ClusterDeploymentConfig) check(v *validator, key string) {
	switch c.Mode {
	case ModeNoMeta:
		if c.NoMeta == nil {
			v.add(key, "mode %s has no settings", c.Mode)
			return
		}
		c.NoMeta.check(v, key)
	case ModeWithMeta:
		if c.WithMeta == nil {
			v.add(key, "mode %s has no settings", c.Mode)
			return
		}
		c.WithMeta.check(v, key)
	default:
		v.oneOf(key+".mode", "mode", c.Mode, modes...)
	}
}

func (s *StaticRouteConfig) check(v *validator, key string) {
	shards := map[string]map[uint32]bool{} // schema -> shard ids
	for i, view := range s.Topology.SchemaShards {
		k := fmt.Sprintf("%s.topology.schema_shards[%d]", key, i)
		v.required(k+".schema", view.Schema)
		if _, dup := shards[view.Schema]; dup {
			v.add(k+".schema", "schema %q is listed twice", view.Schema)
		}
		if view.DefaultEngineType != "" {
			v.oneOf(k+".default_engine_type", "engine type", view.DefaultEngineType, EngineAnalytic)
		}
		ids := map[uint32]bool{}
		for j, sv := range view.ShardViews {
			sk := fmt.Sprintf("%s.shard_views[%d]", k, j)
			if ids[sv.ShardID] {
				v.add(sk+".shard_id", "shard %d of schema %q is listed twice", sv.ShardID, view.Schema)
			}
			ids[sv.ShardID] = true
			v.required(sk+".endpoint.addr", sv.Endpoint.Addr)
			v.port(sk+".endpoint.port", sv.Endpoint.Port)
		}
		if len(view.ShardViews) == 0 {
			v.add(k+".shard_views", "schema %q has no shards", view.Schema)
		}
		shards[view.Schema] = ids
	}
	known := func(k, schema string, shard uint32) {
		ids, ok := shards[schema]
		switch {
		case !ok:
			v.add(k, "schema %q is not in topology.schema_shards", schema)
		case !ids[shard]:
			v.add(k, "shard %d is not a shard of schema %q", shard, schema)
		}
	}
	for i, r := range s.Rules.PrefixRules {
		k := fmt.Sprintf("%s.rules.prefix_rules[%d]", key, i)
		v.required(k+".prefix", r.Prefix)
		known(k+".shard", r.Schema, r.Shard)
	}
	for i, r := range s.Rules.HashRules {
		k := fmt.Sprintf("%s.rules.hash_rules[%d]", key, i)
		if len(r.Shards) == 0 {
			v.add(k+".shards", "is required")
		}
		for _, sh := range r.Shards {
			known(k+".shards", r.Schema, sh)
		}
	}
	// Without a hash rule a table's shard id is hash % number of shards,
	// so the ids must be 0..n-1.
	hashed := map[string]bool{}
	for _, r := range s.Rules.HashRules {
		hashed[r.Schema] = true
	}
	for i, view := range s.Topology.SchemaShards {
		if hashed[view.Schema] {
			continue
		}
		for id := range uint32(len(view.ShardViews)) {
			if !shards[view.Schema][id] {
				v.add(fmt.Sprintf("%s.topology.schema_shards[%d].shard_views", key, i),
					"schema %q has no hash rule, so its shard ids must be 0 to %d (tables go to hash %% %d); shard %d is missing",
					view.Schema, len(view.ShardViews)-1, len(view.ShardViews), id)
				break
			}
		}
	}
}

func (c *ClusterConfig) check(v *validator, key string) {
	v.positive(key+".cmd_channel_buffer_size", c.CmdChannelBufferSize)
	v.oneOf(key+".node_type", "node type", c.NodeType, NodeTypeHoraeDB, NodeTypeCompactionServer)

	m := &c.MetaClient
	k := key + ".meta_client"
	if len(m.MetaAddrs()) == 0 {
		v.add(k+".meta_addr", "is required in mode %s", ModeWithMeta)
	}
	for _, a := range m.MetaAddrs() {
		if err := checkAddr(a); err != nil {
			v.add(k+".meta_addr", "%v", err)
		}
	}
	durPositive(v, k+".lease", m.Lease)
	durPositive(v, k+".timeout", m.Timeout)
	v.positive(k+".cq_count", m.CQCount)

	e := &c.EtcdClient
	k = key + ".etcd_client"
	if len(e.ServerAddrs) == 0 {
		v.add(k+".server_addrs", "is required in mode %s", ModeWithMeta)
	}
	for i, a := range e.ServerAddrs {
		if err := checkAddr(a); err != nil {
			v.add(fmt.Sprintf("%s.server_addrs[%d]", k, i), "%v", err)
		}
	}
	if !strings.HasPrefix(e.RootPath, "/") || len(e.RootPath) < 2 {
		v.add(k+".root_path", "%q must start with / and name a prefix", e.RootPath)
	}
	durPositive(v, k+".connect_timeout", e.ConnectTimeout)
	if e.TLS.Enable {
		v.required(k+".tls.ca_cert_path", e.TLS.CACertPath)
		v.required(k+".tls.client_cert_path", e.TLS.ClientCertPath)
		v.required(k+".tls.client_key_path", e.TLS.ClientKeyPath)
	}
	if e.ShardLockLeaseTTLSec < minShardLockLeaseTTLSec {
		v.add(k+".shard_lock_lease_ttl_sec", "must be at least %d, got %d", minShardLockLeaseTTLSec, e.ShardLockLeaseTTLSec)
	}
	durPositive(v, k+".shard_lock_lease_check_interval", e.ShardLockLeaseCheckInterval)
	if e.ShardLockLeaseCheckInterval >= seconds(int64(e.ShardLockLeaseTTLSec)) {
		v.add(k+".shard_lock_lease_check_interval", "%s must be below shard_lock_lease_ttl_sec (%ds)",
			e.ShardLockLeaseCheckInterval, e.ShardLockLeaseTTLSec)
	}
}

// MetaAddrs splits MetaAddr at commas, dropping empty parts.
func (m *MetaClientConfig) MetaAddrs() []string {
	var out []string
	for _, a := range strings.Split(m.MetaAddr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// checkAddr accepts "host:port" or an http(s) URL with a host.
func checkAddr(s string) error {
	if !strings.Contains(s, "://") {
		return checkHostPort(s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme %q is not http or https", s, u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}
