package cluster

import (
	"context"
	"fmt"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// Snapshot is a consistent copy of a cluster for the scheduler and the
// admin API.
type Snapshot struct {
	Info *metapb.ClusterRecord
	View *metapb.ClusterView
	// Versions of every shard.
	Versions map[uint32]uint64
	// Tables per shard (ordinary tables and sub-tables).
	TableCounts map[uint32]int
	// Nodes sorted by name.
	Nodes []NodeStatus
	Now   time.Time
}

// Snapshot copies the cluster.
func (c *Cluster) Snapshot() *Snapshot {
	c.mu.RLock()
	defer c.mu.RUnlock()
	now := c.opts.Now()
	s := &Snapshot{
		Info:        proto.Clone(c.mu.info).(*metapb.ClusterRecord),
		View:        proto.Clone(c.mu.view).(*metapb.ClusterView),
		Versions:    make(map[uint32]uint64, len(c.mu.shards)),
		TableCounts: make(map[uint32]int, len(c.mu.shards)),
		Nodes:       c.nodesLocked(now),
		Now:         now,
	}
	for id, sh := range c.mu.shards {
		s.Versions[id] = sh.view.Version
		s.TableCounts[id] = len(sh.tables)
	}
	return s
}

// NodeOf returns the node a snapshot's view assigns shard to ("" if none).
func (s *Snapshot) NodeOf(shard uint32) string {
	for _, sn := range s.View.ShardNodes {
		if sn.ShardId == shard {
			return sn.Node
		}
	}
	return ""
}

// ShardNode returns the node shard is assigned to ("" if none) and the
// shard's version.
func (c *Cluster) ShardNode(shardID uint32) (node string, version uint64, err error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	sh := c.mu.shards[shardID]
	if sh == nil {
		return "", 0, client.Errorf(metapb.Reason_SHARD_NOT_FOUND, "cluster %s has no shard %d", c.mu.info.Name, shardID)
	}
	return c.nodeOfLocked(shardID), sh.view.Version, nil
}

func (c *Cluster) nodeOfLocked(shardID uint32) string {
	for _, sn := range c.mu.view.ShardNodes {
		if sn.ShardId == shardID {
			return sn.Node
		}
	}
	return ""
}

// AssignShards sets the node of the given shards, raises the view version
// and moves the cluster to state (unless state is nil).
func (c *Cluster) AssignShards(ctx context.Context, assign map[uint32]string, state *metapb.ClusterState) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.RLock()
	view := proto.Clone(c.mu.view).(*metapb.ClusterView)
	viewRev := c.mu.viewRev
	c.mu.RUnlock()
	setShardNodes(view, assign)
	if state != nil {
		view.State = *state
	}
	view.Version++
	view.UpdatedAtMs = c.opts.Now().UnixMilli()
	key := c.keys.ClusterView(c.id)
	conds := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", viewRev)}
	return c.commit(ctx, conds, []clientv3.Op{storage.Put(key, view)}, func(rev int64) {
		c.mu.view, c.mu.viewRev = view, rev
	})
}

// SetState moves the cluster to state.
func (c *Cluster) SetState(ctx context.Context, state metapb.ClusterState) error {
	return c.AssignShards(ctx, nil, &state)
}

// setShardNodes updates view's entries (node "" removes one), sorted by
// shard.
func setShardNodes(view *metapb.ClusterView, assign map[uint32]string) {
	if len(assign) == 0 {
		return
	}
	m := map[uint32]*metapb.ShardNode{}
	for _, sn := range view.ShardNodes {
		m[sn.ShardId] = sn
	}
	for id, n := range assign {
		if n == "" {
			delete(m, id)
		} else {
			m[id] = &metapb.ShardNode{ShardId: id, Node: n, Role: metapb.ShardRole_SHARD_ROLE_LEADER}
		}
	}
	view.ShardNodes = view.ShardNodes[:0]
	for _, sn := range m {
		view.ShardNodes = append(view.ShardNodes, sn)
	}
	sort.Slice(view.ShardNodes, func(i, j int) bool { return view.ShardNodes[i].ShardId < view.ShardNodes[j].ShardId })
}

// RaiseShard raises shard's version by one and, when node is not "", makes
// node its owner; extra (a procedure record) commits with it. It returns
// the new version.
func (c *Cluster) RaiseShard(ctx context.Context, shardID uint32, node string, extra func(version uint64) []clientv3.Op) (uint64, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.RLock()
	sh := c.mu.shards[shardID]
	if sh == nil {
		c.mu.RUnlock()
		return 0, client.Errorf(metapb.Reason_SHARD_NOT_FOUND, "cluster %s has no shard %d", c.mu.info.Name, shardID)
	}
	sv := proto.Clone(sh.view).(*metapb.ShardView)
	shardRev := sh.modRev
	var view *metapb.ClusterView
	viewRev := c.mu.viewRev
	if node != "" && c.nodeOfLocked(shardID) != node {
		view = proto.Clone(c.mu.view).(*metapb.ClusterView)
	}
	c.mu.RUnlock()

	now := c.opts.Now().UnixMilli()
	sv.Version++
	sv.UpdatedAtMs = now
	shardKey := c.keys.Shard(c.id, shardID)
	conds := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(shardKey), "=", shardRev)}
	ops := []clientv3.Op{storage.Put(shardKey, sv)}
	if view != nil {
		setShardNodes(view, map[uint32]string{shardID: node})
		view.Version++
		view.UpdatedAtMs = now
		viewKey := c.keys.ClusterView(c.id)
		conds = append(conds, clientv3.Compare(clientv3.ModRevision(viewKey), "=", viewRev))
		ops = append(ops, storage.Put(viewKey, view))
	}
	if extra != nil {
		ops = append(ops, extra(sv.Version)...)
	}
	err := c.commit(ctx, conds, ops, func(rev int64) {
		c.mu.shards[shardID].view, c.mu.shards[shardID].modRev = sv, rev
		if view != nil {
			c.mu.view, c.mu.viewRev = view, rev
		}
	})
	if err != nil {
		return 0, fmt.Errorf("raise shard %d: %w", shardID, err)
	}
	return sv.Version, nil
}

// ShardVersion returns a shard's version.
func (c *Cluster) ShardVersion(shardID uint32) (uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	sh := c.mu.shards[shardID]
	if sh == nil {
		return 0, false
	}
	return sh.view.Version, true
}

// NodeShards returns the view as NodeShards, and its version.
func (c *Cluster) NodeShards() (uint64, []*metapb.NodeShard) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*metapb.NodeShard, 0, len(c.mu.view.ShardNodes))
	for _, sn := range c.mu.view.ShardNodes {
		out = append(out, &metapb.NodeShard{Endpoint: sn.Node, ShardInfo: c.shardInfoLocked(sn.ShardId, sn.Role)})
	}
	return c.mu.view.Version, out
}

// shardInfoLocked returns the ShardInfo of a shard at meta's version.
func (c *Cluster) shardInfoLocked(shardID uint32, role metapb.ShardRole) *metapb.ShardInfo {
	info := &metapb.ShardInfo{Id: shardID, Role: role}
	if sh := c.mu.shards[shardID]; sh != nil {
		info.Version = sh.view.Version
	}
	return info
}
