package metatest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/metapb"
)

// Node is a data-node double: it serves MetaEventService with the fencing
// rules of meta/docs/protocol.md, keeps its shards and tables in memory,
// and heartbeats to HoraeMeta. Hook lets a test delay or fail events.
type Node struct {
	metapb.UnimplementedMetaEventServiceServer
	endpoint string
	meta     *client.Client
	logger   *slog.Logger
	interval time.Duration

	lis  net.Listener
	srv  *grpc.Server
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once

	epoch client.EpochFence

	mu struct {
		sync.Mutex
		shards map[uint32]*nodeShard
		hook   func(method string, req proto.Message) error
		events []string
	}
}

type nodeShard struct {
	version uint64
	tables  map[uint64]*metapb.TableInfo
}

// held returns the version held, 0 for a shard that is not open.
func (s *nodeShard) held() uint64 {
	if s == nil {
		return 0
	}
	return s.version
}

// NodeOptions configure a Node.
type NodeOptions struct {
	// Meta are the meta members' endpoints.
	Meta []string
	// Cluster is the cluster to join.
	Cluster string
	// Port to listen on; 0 picks a free one.
	Port int
	// Interval between heartbeats. Default 100ms.
	Interval time.Duration
	Logger   *slog.Logger
}

// StartNode starts serving and heartbeating.
func StartNode(opts NodeOptions) (*Node, error) {
	if opts.Interval <= 0 {
		opts.Interval = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", opts.Port))
	if err != nil {
		return nil, err
	}
	endpoint := lis.Addr().String()
	mc, err := client.New(client.Config{Endpoints: opts.Meta, ClusterName: opts.Cluster, Node: endpoint, Timeout: 2 * time.Second})
	if err != nil {
		lis.Close()
		return nil, err
	}
	n := &Node{endpoint: endpoint, meta: mc, logger: opts.Logger.With("node", endpoint), interval: opts.Interval,
		lis: lis, srv: grpc.NewServer(), stop: make(chan struct{})}
	n.mu.shards = map[uint32]*nodeShard{}
	metapb.RegisterMetaEventServiceServer(n.srv, n)
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		_ = n.srv.Serve(lis)
	}()
	go func() {
		defer n.wg.Done()
		n.heartbeatLoop()
	}()
	return n, nil
}

// Endpoint is the node's name, host:port.
func (n *Node) Endpoint() string { return n.endpoint }

// SetHook installs a function called before every event is handled; a
// non-nil error is returned to meta instead. It may block.
func (n *Node) SetHook(h func(method string, req proto.Message) error) {
	n.mu.Lock()
	n.mu.hook = h
	n.mu.Unlock()
}

// Close stops heartbeats and the server, like a crash.
func (n *Node) Close() {
	n.once.Do(func() {
		close(n.stop)
		n.srv.Stop()
		n.wg.Wait()
		_ = n.meta.Close()
	})
}

// Shards returns the node's shards and versions.
func (n *Node) Shards() map[uint32]uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[uint32]uint64{}
	for id, s := range n.mu.shards {
		out[id] = s.version
	}
	return out
}

// Tables returns the names of the tables of a shard, sorted ("" if the
// shard is not open).
func (n *Node) Tables(shard uint32) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.mu.shards[shard]
	if s == nil {
		return nil
	}
	var out []string
	for _, t := range s.tables {
		out = append(out, t.Name)
	}
	sort.Strings(out)
	return out
}

// Events returns the events handled so far, as "Method shard".
func (n *Node) Events() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.mu.events...)
}

func (n *Node) heartbeatLoop() {
	t := time.NewTicker(n.interval)
	defer t.Stop()
	for {
		n.heartbeat()
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

func (n *Node) heartbeat() {
	n.mu.Lock()
	info := &metapb.NodeInfo{Endpoint: n.endpoint, BinaryVersion: "test", Load: &metapb.NodeLoad{}}
	for id, s := range n.mu.shards {
		info.Shards = append(info.Shards, &metapb.ShardInfo{Id: id, Version: s.version})
		info.Load.TableCount += uint64(len(s.tables))
	}
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := n.meta.Heartbeat(ctx, info)
	if err != nil {
		n.logger.Debug("heartbeat failed", "err", err)
		return
	}
	n.epoch.Observe(resp.MetaEpoch)
}

// begin runs the hook and checks the epoch.
func (n *Node) begin(method string, h *metapb.EventHeader, req proto.Message, shard uint32) error {
	n.mu.Lock()
	hook := n.mu.hook
	n.mu.Unlock()
	if hook != nil {
		if err := hook(method, req); err != nil {
			return err
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.epoch.Admit(h.GetMetaEpoch()); err != nil {
		return client.Status(err)
	}
	n.mu.events = append(n.mu.events, fmt.Sprintf("%s %d", method, shard))
	return nil
}

// OpenShard implements MetaEventService.
func (n *Node) OpenShard(ctx context.Context, req *metapb.OpenShardRequest) (*metapb.OpenShardResponse, error) {
	id, v := req.Shard.GetId(), req.Shard.GetVersion()
	if err := n.begin("OpenShard", req.Header, req, id); err != nil {
		return nil, err
	}
	n.mu.Lock()
	s := n.mu.shards[id]
	act, err := client.DecideOpen(id, s != nil, s.held(), v)
	n.mu.Unlock()
	if err != nil {
		return nil, client.Status(err)
	}
	if act == client.OpenRepeat {
		return &metapb.OpenShardResponse{Shard: req.Shard}, nil
	}
	resp, err := n.meta.GetTablesOfShards(ctx, []uint32{id})
	if err != nil {
		return nil, client.Status(err)
	}
	ts := resp.TablesByShard[id]
	ns := &nodeShard{version: v, tables: map[uint64]*metapb.TableInfo{}}
	for _, t := range ts.GetTables() {
		ns.tables[t.Id] = t
	}
	n.mu.Lock()
	n.mu.shards[id] = ns
	n.mu.Unlock()
	return &metapb.OpenShardResponse{Shard: req.Shard}, nil
}

// CloseShard implements MetaEventService.
func (n *Node) CloseShard(ctx context.Context, req *metapb.CloseShardRequest) (*metapb.CloseShardResponse, error) {
	id := req.Shard.GetId()
	if err := n.begin("CloseShard", req.Header, req, id); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.mu.shards[id]
	if _, err := client.DecideClose(id, s != nil, s.held(), req.Shard.GetVersion()); err != nil {
		return nil, client.Status(err)
	}
	delete(n.mu.shards, id)
	return &metapb.CloseShardResponse{}, nil
}

// change applies a shard version update: apply runs when the node holds
// prev_version, done says whether a repeat was already applied.
func (n *Node) change(u *metapb.ShardVersionUpdate, apply func(s *nodeShard), done func(s *nodeShard) bool) (uint64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.mu.shards[u.GetShardId()]
	doIt, err := client.DecideUpdate(n.endpoint, u, s != nil, s.held(), s != nil && done(s))
	if err != nil {
		return 0, client.Status(err)
	}
	if doIt {
		apply(s)
		s.version = u.GetVersion()
	}
	return s.version, nil
}

// CreateTableOnShard implements MetaEventService.
func (n *Node) CreateTableOnShard(ctx context.Context, req *metapb.CreateTableOnShardRequest) (*metapb.CreateTableOnShardResponse, error) {
	if err := n.begin("CreateTableOnShard", req.Header, req, req.Update.GetShardId()); err != nil {
		return nil, err
	}
	v, err := n.change(req.Update, func(s *nodeShard) { s.tables[req.Table.Id] = req.Table },
		func(s *nodeShard) bool { return s.tables[req.Table.Id] != nil })
	if err != nil {
		return nil, err
	}
	return &metapb.CreateTableOnShardResponse{ShardVersion: v}, nil
}

// DropTableOnShard implements MetaEventService.
func (n *Node) DropTableOnShard(ctx context.Context, req *metapb.DropTableOnShardRequest) (*metapb.DropTableOnShardResponse, error) {
	if err := n.begin("DropTableOnShard", req.Header, req, req.Update.GetShardId()); err != nil {
		return nil, err
	}
	v, err := n.change(req.Update, func(s *nodeShard) { delete(s.tables, req.Table.Id) },
		func(s *nodeShard) bool { return s.tables[req.Table.Id] == nil })
	if err != nil {
		return nil, err
	}
	return &metapb.DropTableOnShardResponse{ShardVersion: v}, nil
}
