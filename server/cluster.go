package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/horaego/horaedb/cluster"
	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/router"
	"github.com/horaego/horaedb/server/config"
	"github.com/horaego/horaedb/server/grpcapi"
)

// A node in mode WithMeta opens no shard by itself: it registers with
// HoraeMeta (cluster.Member heartbeats), which opens shards on it with
// MetaEventService events served on the node's gRPC server, and its CREATE
// and DROP TABLE go through HoraeMeta (cluster.Member.Catalog).

// minHeartbeatInterval bounds the heartbeat interval derived from
// meta_client.lease from below.
const minHeartbeatInterval = 50 * time.Millisecond

// heartbeatInterval is a third of cluster_deployment.meta_client.lease
// (default 10s, so 3.3s; HoraeMeta's node-heartbeat-timeout is 10s by
// default, so a node survives two lost heartbeats). Upstream sent them at
// two thirds of the lease, where one lost heartbeat made the node dead.
func heartbeatInterval(c *config.ClusterConfig) time.Duration {
	return max(c.MetaClient.Lease.D()/3, minHeartbeatInterval)
}

// openClusterLocked creates the meta client and the cluster member of a
// WithMeta node and returns its catalog. The node's name is node.addr with
// the gRPC port, so the gRPC listener is opened here. It starts nothing.
func (s *Server) openClusterLocked(e *engine.Engine) (query.Catalog, error) {
	c := s.cfg.ClusterDeployment.WithMeta
	endpoint, err := s.listenGRPCLocked()
	if err != nil {
		return nil, err
	}
	mc, err := client.New(client.Config{
		Endpoints:   c.MetaClient.MetaAddrs(),
		ClusterName: c.MetaClient.ClusterName,
		Node:        endpoint,
		Timeout:     c.MetaClient.Timeout.D(),
	})
	if err != nil {
		return nil, fmt.Errorf("server: cluster_deployment.meta_client: %w", err)
	}
	s.mu.metaClient = mc
	locks, err := lockOptions(c)
	if err != nil {
		return nil, err
	}
	m, err := cluster.New(cluster.Options{
		Engine:            e,
		Meta:              mc,
		Endpoint:          endpoint,
		Zone:              s.cfg.Node.Zone,
		BinaryVersion:     binaryVersion(&s.cfg.Node),
		HeartbeatInterval: heartbeatInterval(c),
		Logger:            s.log.With("component", "cluster"),
		Locks:             locks,
	})
	if err != nil {
		return nil, err
	}
	s.mu.member = m
	rt, err := router.New(router.Options{Self: endpoint, Local: m.Serves, Resolver: m,
		MaxMsgSize: max(int(s.cfg.Server.HTTPMaxBodySize), router.DefaultMaxMsgSize),
		Logger:     s.log.With("component", "router")})
	if err != nil {
		return nil, err
	}
	s.mu.router = rt
	s.log.Info("joining a cluster managed by HoraeMeta", "node", endpoint, "meta", c.MetaClient.MetaAddrs(),
		"cluster", c.MetaClient.ClusterName)
	return m.Catalog(), nil
}

// listenGRPCLocked opens the gRPC listener (unless Options.GRPCListener
// gives one) and returns the node's name in a cluster: node.addr with the
// listener's port.
func (s *Server) listenGRPCLocked() (string, error) {
	gln := s.opts.GRPCListener
	if gln == nil {
		var err error
		addr := net.JoinHostPort(s.cfg.Server.BindAddr, strconv.Itoa(s.cfg.Server.GRPCPort))
		if gln, err = net.Listen("tcp", addr); err != nil {
			return "", fmt.Errorf("server: listen on server.bind_addr:server.grpc_port: %w", err)
		}
	}
	s.mu.grpcLn = gln
	port := s.cfg.Server.GRPCPort
	if a, ok := gln.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	return net.JoinHostPort(s.cfg.Node.Addr, strconv.Itoa(port)), nil
}

// lockOptions are the shard locks of [cluster_deployment.etcd_client]:
// keys <root_path>/<cluster_name>/shards/<shard id> in HoraeMeta's etcd.
func lockOptions(c *config.ClusterConfig) (cluster.LockOptions, error) {
	e := &c.EtcdClient
	o := cluster.LockOptions{
		Endpoints:     e.ServerAddrs,
		DialTimeout:   e.ConnectTimeout.D(),
		Prefix:        strings.TrimSuffix(e.RootPath, "/") + "/" + c.MetaClient.ClusterName + "/shards",
		TTL:           time.Duration(e.ShardLockLeaseTTLSec) * time.Second,
		CheckInterval: e.ShardLockLeaseCheckInterval.D(),
		FastReacquire: e.EnableShardLockFastReacquire,
	}
	if e.TLS.Enable {
		t, err := etcdTLS(&e.TLS)
		if err != nil {
			return o, fmt.Errorf("server: cluster_deployment.etcd_client.tls: %w", err)
		}
		o.TLS = t
	}
	return o, nil
}

// etcdTLS loads the client certificate and the CA of the etcd client.
func etcdTLS(c *config.EtcdTLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.ClientCertPath, c.ClientKeyPath)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(c.CACertPath)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("ca_cert_path %s: no PEM certificate", c.CACertPath)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: c.Domain, MinVersion: tls.VersionTLS12}, nil
}

// binaryVersion is node.binary_version, or this binary's version.
func binaryVersion(n *config.NodeConfig) string {
	if n.BinaryVersion != "" {
		return n.BinaryVersion
	}
	return Version()
}

// closeMemberLocked closes the connections to other nodes, stops
// heartbeating and closes the meta client.
func (s *Server) closeMemberLocked() {
	if rt := s.mu.router; rt != nil {
		_ = rt.Close()
		s.mu.router = nil
	}
	s.mu.static = nil
	if m := s.mu.member; m != nil {
		m.Close()
		s.mu.member = nil
	}
	if mc := s.mu.metaClient; mc != nil {
		_ = mc.Close()
		s.mu.metaClient = nil
	}
}

// resolverRouter answers the storage API's Route from the meta service
// (*cluster.Member) or the static topology (*router.Static).
type resolverRouter struct{ r router.Resolver }

// Route implements grpcapi.Router.
func (r resolverRouter) Route(ctx context.Context, database, table string) (grpcapi.Endpoint, error) {
	ep, err := r.r.Route(ctx, database, table)
	if err != nil {
		return grpcapi.Endpoint{}, err
	}
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return grpcapi.Endpoint{}, fmt.Errorf("server: route of %s: endpoint %q: %w", table, ep, err)
	}
	p, err := strconv.ParseUint(port, 10, 32)
	if err != nil {
		return grpcapi.Endpoint{}, fmt.Errorf("server: route of %s: endpoint %q: %w", table, ep, err)
	}
	return grpcapi.Endpoint{Host: host, Port: uint32(p)}, nil
}

// Member returns the node's cluster member in mode WithMeta (after Start),
// else nil.
func (s *Server) Member() *cluster.Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.member
}
