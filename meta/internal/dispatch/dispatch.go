// Package dispatch sends meta events to data nodes: MetaEventService calls
// over cached gRPC connections, one per node endpoint. Errors come back
// decoded (client.FromStatus), so callers can tell a version mismatch from
// a node that is down.
package dispatch

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/metapb"
)

// Options configure a Dispatcher.
type Options struct {
	// MaxSendMsgSize and MaxRecvMsgSize bound messages, in bytes.
	MaxSendMsgSize, MaxRecvMsgSize int
}

// Dispatcher sends events to nodes.
type Dispatcher struct {
	opts Options
	mu   struct {
		sync.Mutex
		conns  map[string]*grpc.ClientConn
		closed bool
	}
}

// New returns a Dispatcher; it connects lazily.
func New(opts Options) *Dispatcher {
	d := &Dispatcher{opts: opts}
	d.mu.conns = map[string]*grpc.ClientConn{}
	return d
}

func (d *Dispatcher) client(node string) (metapb.MetaEventServiceClient, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mu.closed {
		return nil, status.Error(codes.Canceled, "dispatch: closed")
	}
	if cc, ok := d.mu.conns[node]; ok {
		return metapb.NewMetaEventServiceClient(cc), nil
	}
	callOpts := []grpc.CallOption{}
	if d.opts.MaxSendMsgSize > 0 {
		callOpts = append(callOpts, grpc.MaxCallSendMsgSize(d.opts.MaxSendMsgSize))
	}
	if d.opts.MaxRecvMsgSize > 0 {
		callOpts = append(callOpts, grpc.MaxCallRecvMsgSize(d.opts.MaxRecvMsgSize))
	}
	cc, err := grpc.NewClient("passthrough:///"+node, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(callOpts...))
	if err != nil {
		return nil, err
	}
	d.mu.conns[node] = cc
	return metapb.NewMetaEventServiceClient(cc), nil
}

// OpenShard sends OpenShard to node.
func (d *Dispatcher) OpenShard(ctx context.Context, node string, req *metapb.OpenShardRequest) (*metapb.OpenShardResponse, error) {
	c, err := d.client(node)
	if err != nil {
		return nil, err
	}
	resp, err := c.OpenShard(ctx, req)
	return resp, client.FromStatus(err)
}

// CloseShard sends CloseShard to node.
func (d *Dispatcher) CloseShard(ctx context.Context, node string, req *metapb.CloseShardRequest) (*metapb.CloseShardResponse, error) {
	c, err := d.client(node)
	if err != nil {
		return nil, err
	}
	resp, err := c.CloseShard(ctx, req)
	return resp, client.FromStatus(err)
}

// CreateTableOnShard sends CreateTableOnShard to node.
func (d *Dispatcher) CreateTableOnShard(ctx context.Context, node string, req *metapb.CreateTableOnShardRequest) (*metapb.CreateTableOnShardResponse, error) {
	c, err := d.client(node)
	if err != nil {
		return nil, err
	}
	resp, err := c.CreateTableOnShard(ctx, req)
	return resp, client.FromStatus(err)
}

// DropTableOnShard sends DropTableOnShard to node.
func (d *Dispatcher) DropTableOnShard(ctx context.Context, node string, req *metapb.DropTableOnShardRequest) (*metapb.DropTableOnShardResponse, error) {
	c, err := d.client(node)
	if err != nil {
		return nil, err
	}
	resp, err := c.DropTableOnShard(ctx, req)
	return resp, client.FromStatus(err)
}

// Close closes every connection.
func (d *Dispatcher) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mu.closed = true
	for _, cc := range d.mu.conns {
		_ = cc.Close()
	}
	d.mu.conns = nil
	return nil
}
