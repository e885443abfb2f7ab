// Package cluster is the data node's side of a cluster managed by HoraeMeta
// (cluster_deployment.mode = "WithMeta"): a Member registers the node with
// the meta service and heartbeats its shards and load, serves the
// MetaEventService that opens and closes shards and creates and drops
// tables on them (fenced by meta epochs and shard versions, the rules of
// meta/docs/protocol.md, decided by meta/client's pure Decide* functions),
// and provides the query.Catalog of a cluster node, through which CREATE
// and DROP TABLE go to the meta service. With shard locks (LockOptions)
// the node holds an etcd lease lock per shard it serves and stops serving
// a shard the moment its lock is lost (shardlock.go, fence.go).
//
// The node serves exactly the shards HoraeMeta opens on it and, in each,
// exactly the tables HoraeMeta lists (GetTablesOfShards); the engine's own
// per-shard registry in object storage holds the tables' schemas and data
// and is where WAL replay starts. docs/cluster-node.md describes the node
// side of the protocol.
package cluster

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/metapb"
)

// DefaultHeartbeatInterval is the default of Options.HeartbeatInterval.
const DefaultHeartbeatInterval = 3 * time.Second

// Options configure a Member.
type Options struct {
	// Engine serves the shards. Required.
	Engine *engine.Engine
	// Meta is the meta service's client; the Member does not close it.
	// Required.
	Meta *client.Client
	// Endpoint is this node's gRPC endpoint, host:port: its name in the
	// cluster. Required.
	Endpoint string
	// Zone and BinaryVersion are reported in heartbeats. Default "".
	Zone          string
	BinaryVersion string
	// HeartbeatInterval is the time between heartbeats. Default 3s (a
	// third of the meta service's default node-heartbeat-timeout).
	HeartbeatInterval time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Locks are the shard locks in etcd; without a client the node takes
	// none.
	Locks LockOptions
}

// ErrOptions is wrapped by New's errors.
var ErrOptions = errors.New("cluster: invalid options")

// Member is a data node's membership in a HoraeMeta cluster. New starts
// nothing; Start starts heartbeating; Close stops it. Register Member as
// the MetaEventService of the node's gRPC server.
type Member struct {
	metapb.UnimplementedMetaEventServiceServer

	o     Options
	log   *slog.Logger
	epoch client.EpochFence
	// incarnation tells HoraeMeta which process heartbeats: drawn at New,
	// so a restarted node is told apart from one whose heartbeat is late.
	incarnation uint64
	shardLocks  *shardLocks      // nil without shard locks
	ownEtcd     *clientv3.Client // dialled by Start, closed by Close; under mu

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu struct {
		sync.Mutex
		started bool
		// shards are the shards opened by an OpenShard event, with the
		// version held.
		shards map[uint32]*shardState
		// locks serialise the events of each shard.
		locks map[uint32]*sync.Mutex
		// registered is set by the first successful heartbeat.
		registered bool
		// heartbeatErr is the last heartbeat's failure, nil after success.
		heartbeatErr error
		// fenced are the shards whose lock was lost: their tables are
		// refused until the shard is closed in the engine or opened again.
		fenced map[uint32]*fence
		// closed is set by Close.
		closed bool
	}
}

// shardState is a shard the node serves.
type shardState struct {
	version uint64
	status  metapb.ShardStatus
}

// New checks o and returns a member that has started nothing.
func New(o Options) (*Member, error) {
	switch {
	case o.Engine == nil:
		return nil, errors.Join(ErrOptions, errors.New("cluster: Options.Engine is required"))
	case o.Meta == nil:
		return nil, errors.Join(ErrOptions, errors.New("cluster: Options.Meta is required"))
	case o.Endpoint == "":
		return nil, errors.Join(ErrOptions, errors.New("cluster: Options.Endpoint is required"))
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := o.Locks.ensureDefaults(); err != nil {
		return nil, errors.Join(ErrOptions, err)
	}
	m := &Member{o: o, log: o.Logger, stop: make(chan struct{}), incarnation: rand.Uint64() | 1}
	m.mu.shards = map[uint32]*shardState{}
	m.mu.locks = map[uint32]*sync.Mutex{}
	m.mu.fenced = map[uint32]*fence{}
	if o.Locks.enabled() {
		m.shardLocks = newShardLocks(o.Locks, o.Endpoint, o.Logger, m.lockLost)
	}
	return m, nil
}

// Endpoint returns the node's name in the cluster.
func (m *Member) Endpoint() string { return m.o.Endpoint }

// Start connects to the etcd of the shard locks (LockOptions.Endpoints)
// and starts heartbeating (the first heartbeat registers the node). It
// does not wait for the meta service or etcd: a node may start before
// them.
func (m *Member) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.started {
		return nil
	}
	if l := m.shardLocks; l != nil {
		cli, err := l.start()
		if err != nil {
			return err
		}
		m.ownEtcd = cli
	}
	m.mu.started = true
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.heartbeatLoop()
	}()
	return nil
}

// Close stops heartbeating and waits for it, then releases the shard
// locks. It closes no shard: the caller closes the engine, after flushing
// (with no writes coming in). Idempotent.
func (m *Member) Close() {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.mu.closed = true
		ownEtcd := m.ownEtcd
		m.mu.Unlock()
		close(m.stop)
		m.wg.Wait()
		if m.shardLocks != nil && m.shardLocks.client() != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			m.shardLocks.Close(ctx)
			cancel()
		}
		if ownEtcd != nil {
			_ = ownEtcd.Close()
		}
	})
}

// ShardVersions returns the shards the node serves and the version of
// each.
func (m *Member) ShardVersions() map[uint32]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[uint32]uint64, len(m.mu.shards))
	for id, s := range m.mu.shards {
		out[id] = s.version
	}
	return out
}

// MetaEpoch returns the largest meta epoch the node has seen.
func (m *Member) MetaEpoch() uint64 { return m.epoch.Epoch() }

// Registered reports whether a heartbeat has reached the meta service.
func (m *Member) Registered() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.registered
}

func (m *Member) heartbeatLoop() {
	t := time.NewTicker(m.o.HeartbeatInterval)
	defer t.Stop()
	for {
		m.heartbeat()
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
	}
}

// nodeInfo is what a heartbeat reports: the shards at the versions held,
// and the load.
func (m *Member) nodeInfo() *metapb.NodeInfo {
	info := &metapb.NodeInfo{Endpoint: m.o.Endpoint, Zone: m.o.Zone, BinaryVersion: m.o.BinaryVersion,
		Incarnation: m.incarnation}
	m.mu.Lock()
	for id, s := range m.mu.shards {
		info.Shards = append(info.Shards, &metapb.ShardInfo{Id: id, Role: metapb.ShardRole_SHARD_ROLE_LEADER,
			Version: s.version, Status: s.status})
	}
	m.mu.Unlock()
	sort.Slice(info.Shards, func(i, j int) bool { return info.Shards[i].Id < info.Shards[j].Id })
	var tables uint64
	for _, db := range m.o.Engine.Databases() {
		tables += uint64(len(m.o.Engine.Tables(db)))
	}
	info.Load = &metapb.NodeLoad{TableCount: tables, MemoryBytes: uint64(max(m.o.Engine.MemtableBytes(), 0))}
	return info
}

func (m *Member) heartbeat() {
	ctx, cancel := context.WithTimeout(context.Background(), max(m.o.HeartbeatInterval, time.Second))
	defer cancel()
	go func() { // stop waiting when the member closes
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	resp, err := m.o.Meta.Heartbeat(ctx, m.nodeInfo())
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if m.mu.heartbeatErr == nil {
			m.log.Warn("heartbeat to the meta service failed; retrying", "err", err)
		}
		m.mu.heartbeatErr = err
		return
	}
	m.epoch.Observe(resp.GetMetaEpoch())
	if !m.mu.registered || m.mu.heartbeatErr != nil {
		m.log.Info("heartbeating to the meta service", "node", m.o.Endpoint, "meta_epoch", resp.GetMetaEpoch(),
			"cluster_state", resp.GetClusterState().String())
	}
	m.mu.registered, m.mu.heartbeatErr = true, nil
}

// lockShard serialises the events of one shard.
func (m *Member) lockShard(id uint32) func() {
	m.mu.Lock()
	l := m.mu.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		m.mu.locks[id] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// held returns the version of a shard the node serves.
func (m *Member) held(id uint32) (uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.mu.shards[id]
	if !ok {
		return 0, false
	}
	return s.version, true
}

func (m *Member) setShard(id uint32, version uint64, status metapb.ShardStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mu.shards[id] = &shardState{version: version, status: status}
}

func (m *Member) setVersion(id uint32, version uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.mu.shards[id]; s != nil {
		s.version = version
	}
}

func (m *Member) forgetShard(id uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mu.shards, id)
}
