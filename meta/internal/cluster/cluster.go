// Package cluster is the meta leader's model of a cluster: its settings,
// the shard → node mapping (cluster view) and its state, shard versions,
// schemas, tables and data nodes. The model lives in etcd
// (meta/docs/etcd-layout.md); the leader loads it when it is elected and
// keeps a copy in memory. Every change is one etcd transaction guarded by the
// leader's term, applied to memory only once it is committed, so the copy
// never runs ahead of etcd and a deposed leader cannot write.
package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// Options configure a Cluster.
type Options struct {
	// NodeTimeout: a node silent this long is dead.
	NodeTimeout time.Duration
	// IDStep is the size of the id ranges reserved in etcd.
	IDStep uint64
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Cluster is one cluster on the meta leader.
type Cluster struct {
	st     *storage.Storage
	keys   storage.Keys
	guard  storage.Guard
	logger *slog.Logger
	opts   Options
	id     uint32
	// since is when this leader loaded the cluster: nodes count as alive
	// for NodeTimeout after it even if their last heartbeat is older.
	since time.Time

	schemaIDs, tableIDs, procIDs *storage.IDAlloc

	// writeMu serialises changes: a change reads memory, commits to etcd
	// and applies to memory without another change in between.
	writeMu sync.Mutex
	mu      struct {
		sync.RWMutex
		info    *metapb.ClusterRecord
		view    *metapb.ClusterView
		viewRev int64
		shards  map[uint32]*shard
		schemas map[uint32]*metapb.SchemaRecord
		schemaN map[string]uint32
		tables  map[uint64]*metapb.TableRecord
		tableN  map[tableKey]uint64
		nodes   map[string]*node
	}
}

type tableKey struct {
	schema uint32
	name   string
}

// shard is a shard's version and tables.
type shard struct {
	view   *metapb.ShardView
	modRev int64 // of its key; 0 when the key does not exist yet
	tables map[uint64]struct{}
}

// Loaded is a cluster read from etcd and the procedures it had.
type Loaded struct {
	Cluster    *Cluster
	Procedures []*metapb.Procedure
}

// Load reads cluster cid from etcd.
func Load(ctx context.Context, st *storage.Storage, cid uint32, g storage.Guard, logger *slog.Logger, opts Options) (*Loaded, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	keys := st.Keys()
	c := &Cluster{st: st, keys: keys, guard: g, logger: logger, opts: opts, id: cid, since: opts.Now()}
	c.schemaIDs = storage.NewIDAlloc(st, keys.IDs(cid, storage.IDSchema), opts.IDStep, g)
	c.tableIDs = storage.NewIDAlloc(st, keys.IDs(cid, storage.IDTable), opts.IDStep, g)
	c.procIDs = storage.NewIDAlloc(st, keys.IDs(cid, storage.IDProcedure), opts.IDStep, g)
	c.mu.shards = map[uint32]*shard{}
	c.mu.schemas = map[uint32]*metapb.SchemaRecord{}
	c.mu.schemaN = map[string]uint32{}
	c.mu.tables = map[uint64]*metapb.TableRecord{}
	c.mu.tableN = map[tableKey]uint64{}
	c.mu.nodes = map[string]*node{}
	var procs []*metapb.Procedure
	err := st.Scan(ctx, keys.Cluster(cid), func(key string, v []byte, modRev int64) error {
		kind, _ := keys.Kind(cid, key)
		switch kind {
		case "info":
			c.mu.info = &metapb.ClusterRecord{}
			return storage.Unmarshal(key, v, c.mu.info)
		case "view":
			c.mu.view, c.mu.viewRev = &metapb.ClusterView{}, modRev
			return storage.Unmarshal(key, v, c.mu.view)
		case "shards":
			sv := &metapb.ShardView{}
			if err := storage.Unmarshal(key, v, sv); err != nil {
				return err
			}
			c.mu.shards[sv.ShardId] = &shard{view: sv, modRev: modRev, tables: map[uint64]struct{}{}}
		case "schemas":
			s := &metapb.SchemaRecord{}
			if err := storage.Unmarshal(key, v, s); err != nil {
				return err
			}
			c.mu.schemas[s.Id], c.mu.schemaN[s.Name] = s, s.Id
		case "tables":
			t := &metapb.TableRecord{}
			if err := storage.Unmarshal(key, v, t); err != nil {
				return err
			}
			c.mu.tables[t.Info.Id] = t
		case "nodes":
			n := &metapb.NodeRecord{}
			if err := storage.Unmarshal(key, v, n); err != nil {
				return err
			}
			c.mu.nodes[n.Name] = &node{rec: n, lastSeen: time.UnixMilli(n.LastHeartbeatMs), persistedAt: time.UnixMilli(n.LastHeartbeatMs),
				shards: map[uint32]*reported{}}
		case "procedures":
			p := &metapb.Procedure{}
			if err := storage.Unmarshal(key, v, p); err != nil {
				return err
			}
			procs = append(procs, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.mu.info == nil {
		return nil, fmt.Errorf("%w: cluster %d has no info record", storage.ErrCorrupt, cid)
	}
	if c.mu.view == nil {
		c.mu.view = &metapb.ClusterView{}
	}
	for i := range c.mu.info.ShardTotal {
		if c.mu.shards[i] == nil {
			c.mu.shards[i] = &shard{view: &metapb.ShardView{ShardId: i}, tables: map[uint64]struct{}{}}
		}
	}
	for _, t := range c.mu.tables {
		if s := c.mu.schemas[t.Info.SchemaId]; s != nil {
			t.Info.SchemaName = s.Name
		}
		c.mu.tableN[tableKey{t.Info.SchemaId, t.Info.Name}] = t.Info.Id
		if t.Info.PartitionInfo == nil {
			if sh := c.mu.shards[t.ShardId]; sh != nil {
				sh.tables[t.Info.Id] = struct{}{}
			}
		}
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i].Id < procs[j].Id })
	return &Loaded{Cluster: c, Procedures: procs}, nil
}

// ID returns the cluster id.
func (c *Cluster) ID() uint32 { return c.id }

// Name returns the cluster name.
func (c *Cluster) Name() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.info.Name
}

// Info returns a copy of the cluster's settings.
func (c *Cluster) Info() *metapb.ClusterRecord {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return proto.Clone(c.mu.info).(*metapb.ClusterRecord)
}

// State returns the cluster state.
func (c *Cluster) State() metapb.ClusterState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.view.State
}

// Keys returns the key builder.
func (c *Cluster) Keys() storage.Keys { return c.keys }

// NextProcedureID allocates a procedure id.
func (c *Cluster) NextProcedureID(ctx context.Context) (uint64, error) { return c.procIDs.Next(ctx) }

// commit runs a change: ops (and conds) in one guarded transaction, then
// apply (under the write lock of memory) if it committed. The caller holds
// writeMu.
func (c *Cluster) commit(ctx context.Context, conds []clientv3.Cmp, ops []clientv3.Op, apply func(rev int64)) error {
	rev, err := c.st.Commit(ctx, c.guard, conds, ops...)
	if err != nil {
		return err
	}
	c.mu.Lock()
	apply(rev)
	c.mu.Unlock()
	return nil
}

// Commit commits ops (typically a procedure record) alone.
func (c *Cluster) Commit(ctx context.Context, ops ...clientv3.Op) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err := c.st.Commit(ctx, c.guard, nil, ops...)
	return err
}

// SetEnableSchedule turns the cluster's scheduler on or off.
func (c *Cluster) SetEnableSchedule(ctx context.Context, on bool) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	info := c.Info()
	info.EnableSchedule = on
	info.ModifiedAtMs = c.opts.Now().UnixMilli()
	return c.commit(ctx, nil, []clientv3.Op{storage.Put(c.keys.ClusterInfo(c.id), info)}, func(int64) { c.mu.info = info })
}

// ensureStableLocked refuses DDL outside the Stable state.
func (c *Cluster) ensureStableLocked() error {
	if c.mu.view.State == metapb.ClusterState_CLUSTER_STATE_STABLE {
		return nil
	}
	alive := 0
	now := c.opts.Now()
	for _, n := range c.mu.nodes {
		if c.aliveLocked(n, now) {
			alive++
		}
	}
	switch c.mu.view.State {
	case metapb.ClusterState_CLUSTER_STATE_EMPTY:
		return client.Errorf(metapb.Reason_CLUSTER_NOT_STABLE,
			"cluster %s is not ready for DDL: waiting for %d data nodes, %d alive (default-cluster-node-count)",
			c.mu.info.Name, c.mu.info.NodeCount, alive)
	default:
		return client.Errorf(metapb.Reason_CLUSTER_NOT_STABLE,
			"cluster %s is not ready for DDL: its shards are being opened on the nodes", c.mu.info.Name)
	}
}
