// Package client is how data nodes and tools talk to HoraeMeta.
//
// Client calls MetaService (NodeHeartbeat, AllocSchemaID, CreateTable,
// DropTable, RouteTables, GetNodes, GetTablesOfShards) on any meta member —
// followers forward to the leader — and moves on to the next member when
// one cannot serve. Admin speaks the admin HTTP API (horaectl uses it).
// errors.go is the error contract of the meta protocol, shared by both
// sides: a data node's MetaEventService returns VersionMismatch and
// StaleEpoch errors through Status. meta/docs/protocol.md describes what a
// data node must do with each event.
package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/proto/metapb"
)

// Config configures a Client.
type Config struct {
	// Endpoints are meta members' MetaService addresses, "host:port" or
	// "http://host:port" (the deployment guide's meta_addr =
	// 'http://127.0.0.1:2379'). At least one.
	Endpoints []string
	// ClusterName is the cluster the client works for. Required.
	ClusterName string
	// Node is the calling data node's endpoint ("host:port"), its name in
	// the cluster; empty for tools.
	Node string
	// Timeout bounds each call when the context has no earlier deadline.
	// Default 5s.
	Timeout time.Duration
}

// ErrNoEndpoint is returned by New without endpoints.
var ErrNoEndpoint = errors.New("meta client: no meta endpoint")

// Client calls MetaService. It is safe for concurrent use.
type Client struct {
	cfg     Config
	targets []string
	next    atomic.Uint32

	mu struct {
		sync.Mutex
		conns  []*grpc.ClientConn
		closed bool
	}
}

// ParseEndpoint turns "http://host:port" or "host:port" into "host:port".
func ParseEndpoint(s string) (string, error) {
	s = strings.TrimSpace(s)
	hostport := s
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("meta endpoint %q: %v", s, err)
		}
		if u.Scheme != "http" {
			return "", fmt.Errorf("meta endpoint %q: scheme %s is not supported (use http:// or host:port)", s, u.Scheme)
		}
		hostport = u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" || port == "" {
		return "", fmt.Errorf("meta endpoint %q: want host:port or http://host:port", s)
	}
	return hostport, nil
}

// New returns a client; it connects lazily.
func New(cfg Config) (*Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, ErrNoEndpoint
	}
	if cfg.ClusterName == "" {
		return nil, errors.New("meta client: cluster name is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	c := &Client{cfg: cfg}
	for _, e := range cfg.Endpoints {
		t, err := ParseEndpoint(e)
		if err != nil {
			return nil, err
		}
		c.targets = append(c.targets, t)
	}
	for _, t := range c.targets {
		cc, err := grpc.NewClient("passthrough:///"+t, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.mu.conns = append(c.mu.conns, cc)
	}
	return c, nil
}

// Close closes the connections.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.closed = true
	for _, cc := range c.mu.conns {
		_ = cc.Close()
	}
	c.mu.conns = nil
	return nil
}

func (c *Client) header() *metapb.RequestHeader {
	return &metapb.RequestHeader{Node: c.cfg.Node, ClusterName: c.cfg.ClusterName}
}

// call runs fn against the members in turn until one answers, or the
// call's deadline passes. A member that cannot serve (NOT_LEADER, not
// reachable) is skipped; any other answer is final.
func call[Resp any](ctx context.Context, c *Client, fn func(context.Context, metapb.MetaServiceClient) (Resp, error)) (Resp, error) {
	var zero Resp
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	backoff := 20 * time.Millisecond
	var last error
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		if c.mu.closed {
			c.mu.Unlock()
			return zero, errors.New("meta client: closed")
		}
		cur := c.next.Load()
		i := int(cur) % len(c.mu.conns)
		cc := c.mu.conns[i]
		c.mu.Unlock()
		resp, err := fn(ctx, metapb.NewMetaServiceClient(cc))
		if err == nil {
			return resp, nil
		}
		err = FromStatus(err)
		if !retryElsewhere(err) || ctx.Err() != nil {
			if ctx.Err() != nil && last != nil {
				return zero, fmt.Errorf("%w before the deadline: %w", ErrUnavailable, last)
			}
			return zero, err
		}
		last = err
		c.next.CompareAndSwap(cur, uint32((i+1)%len(c.targets)))
		if attempt >= len(c.targets)-1 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return zero, fmt.Errorf("%w before the deadline: %w", ErrUnavailable, last)
			case <-t.C:
			}
			backoff = min(2*backoff, 500*time.Millisecond)
		}
	}
}

// retryElsewhere says whether another member (or a later try) may serve.
func retryElsewhere(err error) bool {
	if errors.Is(err, ErrNotLeader) {
		return true
	}
	var e *Error
	if errors.As(err, &e) {
		return false
	}
	return status.Code(err) == codes.Unavailable
}

// Heartbeat sends a node heartbeat; info.Endpoint defaults to Config.Node.
func (c *Client) Heartbeat(ctx context.Context, info *metapb.NodeInfo) (*metapb.NodeHeartbeatResponse, error) {
	if info.Endpoint == "" {
		info.Endpoint = c.cfg.Node
	}
	req := &metapb.NodeHeartbeatRequest{Header: c.header(), Info: info}
	return call(ctx, c, func(ctx context.Context, m metapb.MetaServiceClient) (*metapb.NodeHeartbeatResponse, error) {
		return m.NodeHeartbeat(ctx, req)
	})
}

// AllocSchemaID returns the id of schema name, creating the schema if
// needed.
func (c *Client) AllocSchemaID(ctx context.Context, name string) (uint32, error) {
	req := &metapb.AllocSchemaIDRequest{Header: c.header(), Name: name}
	resp, err := call(ctx, c, func(ctx context.Context, m metapb.MetaServiceClient) (*metapb.AllocSchemaIDResponse, error) {
		return m.AllocSchemaID(ctx, req)
	})
	if err != nil {
		return 0, err
	}
	return resp.Id, nil
}

// NewRequestID returns a random idempotency key.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CreateTable creates a table. The header is filled in, and a request id
// is set when empty, so that the client's own retries (and a caller's, if
// it reuses req) wait for the same procedure instead of starting another.
func (c *Client) CreateTable(ctx context.Context, req *metapb.CreateTableRequest) (*metapb.CreateTableResponse, error) {
	req.Header = c.header()
	if req.RequestId == "" {
		req.RequestId = NewRequestID()
	}
	return call(ctx, c, func(ctx context.Context, m metapb.MetaServiceClient) (*metapb.CreateTableResponse, error) {
		return m.CreateTable(ctx, req)
	})
}

// DropTable drops a table; like CreateTable it sets a request id when
// empty.
func (c *Client) DropTable(ctx context.Context, req *metapb.DropTableRequest) (*metapb.DropTableResponse, error) {
	req.Header = c.header()
	if req.RequestId == "" {
		req.RequestId = NewRequestID()
	}
	return call(ctx, c, func(ctx context.Context, m metapb.MetaServiceClient) (*metapb.DropTableResponse, error) {
		return m.DropTable(ctx, req)
	})
}

// RouteTables says where tables of a schema live.
func (c *Client) RouteTables(ctx context.Context, schema string, tables []string) (*metapb.RouteTablesResponse, error) {
	req := &metapb.RouteTablesRequest{Header: c.header(), SchemaName: schema, TableNames: tables}
	return call(ctx, c, func(ctx context.Context, m metapb.MetaServiceClient) (*metapb.RouteTablesResponse, error) {
		return m.RouteTables(ctx, req)
	})
}

// GetNodes returns the shard → node mapping.
func (c *Client) GetNodes(ctx context.Context) (*metapb.GetNodesResponse, error) {
	req := &metapb.GetNodesRequest{Header: c.header()}
	return call(ctx, c, func(ctx context.Context, m metapb.MetaServiceClient) (*metapb.GetNodesResponse, error) {
		return m.GetNodes(ctx, req)
	})
}

// GetTablesOfShards lists the tables of shards with their versions.
func (c *Client) GetTablesOfShards(ctx context.Context, ids []uint32) (*metapb.GetTablesOfShardsResponse, error) {
	req := &metapb.GetTablesOfShardsRequest{Header: c.header(), ShardIds: ids}
	return call(ctx, c, func(ctx context.Context, m metapb.MetaServiceClient) (*metapb.GetTablesOfShardsResponse, error) {
		return m.GetTablesOfShards(ctx, req)
	})
}
