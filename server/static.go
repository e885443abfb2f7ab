package server

import (
	"fmt"
	"strings"

	"github.com/horaego/horaedb/router"
	"github.com/horaego/horaedb/server/config"
)

// A node in mode NoMeta with a topology is one node of a static cluster:
// [cluster_deployment] lists the shards of each schema and the node of
// each, and rules place every table on a shard by its name (router.Static,
// upstream's placement and hash). Every node holds the same config, so
// every node knows every table's owner without asking anyone. A node
// serves the tables placed on its shards (its endpoint is node.addr with
// the gRPC port) and forwards statements and writes for the others once,
// as a WithMeta node does; CREATE and DROP TABLE run on the owner too.
// Tables of a schema the topology does not list stay on the node that
// receives them, as standalone. Moving a shard means editing every node's
// config and moving its data: a static cluster does not rebalance.

// openStaticLocked sets up the routing of a static cluster; with an empty
// topology the node is standalone and it does nothing.
func (s *Server) openStaticLocked() error {
	c := s.cfg.ClusterDeployment.NoMeta
	if c == nil || len(c.Topology.SchemaShards) == 0 {
		return nil
	}
	self, err := s.listenGRPCLocked()
	if err != nil {
		return err
	}
	st, err := router.NewStatic(self, staticTopology(c))
	if err != nil {
		return fmt.Errorf("server: cluster_deployment: %w", err)
	}
	rt, err := router.New(router.Options{Self: self, Local: st.Local, Resolver: st, DDL: true, Uncached: true,
		MaxMsgSize: max(int(s.cfg.Server.HTTPMaxBodySize), router.DefaultMaxMsgSize),
		Logger:     s.log.With("component", "router")})
	if err != nil {
		return err
	}
	s.mu.static, s.mu.router = st, rt
	serves := st.Serves()
	s.log.Info("routing by the static topology", "node", self, "serves", strings.Join(serves, ","))
	if len(serves) == 0 {
		s.log.Warn("this node serves no shard of cluster_deployment.topology: no endpoint there is node.addr:grpc_port; "+
			"every table of the listed schemas is forwarded", "node", self)
	}
	return nil
}

// staticTopology converts [cluster_deployment] of mode NoMeta.
func staticTopology(c *config.StaticRouteConfig) router.Topology {
	var t router.Topology
	for _, sc := range c.Topology.SchemaShards {
		shards := make(map[uint32]string, len(sc.ShardViews))
		for _, v := range sc.ShardViews {
			shards[v.ShardID] = v.Endpoint.String()
		}
		t.Schemas = append(t.Schemas, router.Schema{Name: sc.Schema, Shards: shards})
	}
	for _, r := range c.Rules.PrefixRules {
		t.PrefixRules = append(t.PrefixRules, router.PrefixRule{Schema: r.Schema, Prefix: r.Prefix, Shard: r.Shard})
	}
	for _, r := range c.Rules.HashRules {
		t.HashRules = append(t.HashRules, router.HashRule{Schema: r.Schema, Shards: r.Shards})
	}
	return t
}
