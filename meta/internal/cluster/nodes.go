package cluster

import (
	"context"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// eventGrace is how long the result of an event (a shard opened, closed,
// or at a new version) outranks heartbeats: a heartbeat sent before the
// event may arrive after it.
const eventGrace = time.Second

// node is a registered data node.
type node struct {
	rec         *metapb.NodeRecord
	lastSeen    time.Time
	persistedAt time.Time
	// heard is set once the node has heartbeated to this leader: until
	// then its shards are unknown.
	heard bool
	// shards the node has open, as last reported (or as an event left
	// them).
	shards map[uint32]*reported
	// incarnation is the process the node last heartbeated from (0:
	// unknown).
	incarnation uint64
}

// reported is a shard as a node has it.
type reported struct {
	info    *metapb.ShardInfo
	at      time.Time
	byEvent bool
}

// aliveLocked says whether n has heartbeated within NodeTimeout (counting
// from the leader's start for nodes not heard from since).
func (c *Cluster) aliveLocked(n *node, now time.Time) bool {
	last := n.lastSeen
	if last.Before(c.since) {
		last = c.since
	}
	return now.Sub(last) <= c.opts.NodeTimeout
}

// HeartbeatResult is what a heartbeat changed.
type HeartbeatResult struct {
	// Response answers the node.
	Response *metapb.NodeHeartbeatResponse
	// Changed is set when the scheduler should look again: a new node, a
	// node back from the dead, or a different set of shards.
	Changed bool
}

// Heartbeat records a node's heartbeat. A new node is written to etcd at
// once; a known one at most every NodeTimeout/2.
func (c *Cluster) Heartbeat(ctx context.Context, info *metapb.NodeInfo) (HeartbeatResult, error) {
	if err := checkNodeName(info.GetEndpoint()); err != nil {
		return HeartbeatResult{}, err
	}
	now := c.opts.Now()
	c.mu.Lock()
	n := c.mu.nodes[info.Endpoint]
	isNew := n == nil
	changed := isNew
	if isNew {
		n = &node{rec: &metapb.NodeRecord{Name: info.Endpoint, RegisteredAtMs: now.UnixMilli()}, shards: map[uint32]*reported{}}
	} else if !c.aliveLocked(n, now) {
		changed = true
	}
	rec := proto.Clone(n.rec).(*metapb.NodeRecord)
	rec.Zone, rec.BinaryVersion, rec.Load, rec.LastHeartbeatMs = info.Zone, info.BinaryVersion, info.Load, now.UnixMilli()
	persist := isNew || now.Sub(n.persistedAt) >= c.opts.NodeTimeout/2 || rec.Zone != n.rec.Zone || rec.BinaryVersion != n.rec.BinaryVersion
	if !isNew {
		n.rec, n.lastSeen = rec, now
		changed = c.applyReportLocked(n, info.Shards, info.Incarnation, now) || !n.heard || changed
		n.heard = true
	}
	c.mu.Unlock()

	if persist {
		c.writeMu.Lock()
		err := c.commit(ctx, nil, []clientv3.Op{storage.Put(c.keys.Node(c.id, rec.Name), rec)}, func(int64) {
			if isNew {
				if c.mu.nodes[rec.Name] == nil {
					c.mu.nodes[rec.Name] = n
				}
				n = c.mu.nodes[rec.Name]
				n.rec, n.lastSeen, n.heard = rec, now, true
				c.applyReportLocked(n, info.Shards, info.Incarnation, now)
			}
			n.persistedAt = now
		})
		c.writeMu.Unlock()
		if err != nil && isNew {
			return HeartbeatResult{}, err
		}
		if err != nil {
			c.logger.Warn("cannot persist node record", "node", rec.Name, "err", err)
		}
	}
	if isNew {
		c.logger.Info("data node registered", "cluster", c.Name(), "node", rec.Name)
	}

	c.mu.RLock()
	defer c.mu.RUnlock()
	resp := &metapb.NodeHeartbeatResponse{ClusterState: c.mu.view.State}
	for _, sn := range c.mu.view.ShardNodes {
		if sn.Node == info.Endpoint {
			resp.AssignedShards = append(resp.AssignedShards, &metapb.ShardInfo{
				Id: sn.ShardId, Role: sn.Role, Version: c.mu.shards[sn.ShardId].view.Version})
		}
	}
	return HeartbeatResult{Response: resp, Changed: changed}, nil
}

// applyReportLocked replaces n's shards by a heartbeat's, except those an
// event changed within eventGrace, unless the heartbeat comes from a new
// process (incarnation): a restarted node has only what it reports. It
// says whether the open shards or their versions changed.
func (c *Cluster) applyReportLocked(n *node, shards []*metapb.ShardInfo, incarnation uint64, now time.Time) bool {
	restarted := incarnation != 0 && n.incarnation != 0 && incarnation != n.incarnation
	if incarnation != 0 {
		n.incarnation = incarnation
	}
	next := make(map[uint32]*reported, len(shards))
	for _, s := range shards {
		next[s.Id] = &reported{info: proto.Clone(s).(*metapb.ShardInfo), at: now}
	}
	for id, r := range n.shards {
		if !restarted && r.byEvent && now.Sub(r.at) < eventGrace {
			next[id] = r
		}
	}
	if restarted {
		c.logger.Info("data node restarted", "cluster", c.mu.info.Name, "node", n.rec.GetName(), "shards", len(shards))
	}
	changed := !sameShards(n.shards, next)
	n.shards = next
	return changed
}

// sameShards compares the open shards (not tombstones) of two reports.
func sameShards(a, b map[uint32]*reported) bool {
	count := func(m map[uint32]*reported) int {
		k := 0
		for _, r := range m {
			if r.info != nil {
				k++
			}
		}
		return k
	}
	if count(a) != count(b) {
		return false
	}
	for id, r := range a {
		if r.info == nil {
			continue
		}
		o := b[id]
		if o == nil || o.info == nil || o.info.Version != r.info.Version || o.info.Status != r.info.Status || o.info.Role != r.info.Role {
			return false
		}
	}
	return true
}

// NoteShard records the result of an event: node has shard at info (nil:
// the node closed it).
func (c *Cluster) NoteShard(nodeName string, shardID uint32, info *metapb.ShardInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.mu.nodes[nodeName]
	if n == nil {
		return
	}
	now := c.opts.Now()
	if info == nil {
		// A tombstone: the close outranks heartbeats for the grace period.
		n.shards[shardID] = &reported{at: now, byEvent: true}
		return
	}
	n.shards[shardID] = &reported{info: proto.Clone(info).(*metapb.ShardInfo), at: now, byEvent: true}
}

// NodeShardVersion returns the version at which node last had shard (by
// its heartbeat or an event); known is false when the node has not been
// heard from by this leader, open is false when it does not have the shard.
func (c *Cluster) NodeShardVersion(nodeName string, shardID uint32) (version uint64, open, known bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.mu.nodes[nodeName]
	if n == nil || !n.heard {
		return 0, false, false
	}
	r := n.shards[shardID]
	if r == nil || r.info == nil {
		return 0, false, true
	}
	return r.info.Version, true, true
}

// NodeAlive says whether a registered node is alive; ok is false for an
// unknown node.
func (c *Cluster) NodeAlive(name string) (alive, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := c.mu.nodes[name]
	if n == nil {
		return false, false
	}
	return c.aliveLocked(n, c.opts.Now()), true
}

// checkNodeName requires host:port.
func checkNodeName(name string) error {
	i := strings.LastIndexByte(name, ':')
	if name == "" || i <= 0 || i == len(name)-1 || strings.ContainsAny(name, "/ ") {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "node endpoint %q: want host:port", name)
	}
	return nil
}

// NodeStatus is a node as the snapshot shows it.
type NodeStatus struct {
	Record *metapb.NodeRecord
	Alive  bool
	// Reported is set once the node has heartbeated to this leader; until
	// then Shards is empty because unknown, and the scheduler leaves the
	// node alone.
	Reported bool
	LastSeen time.Time
	// Shards the node has open (tombstones of closes are left out).
	Shards map[uint32]*metapb.ShardInfo
}

// nodesLocked returns the nodes sorted by name.
func (c *Cluster) nodesLocked(now time.Time) []NodeStatus {
	out := make([]NodeStatus, 0, len(c.mu.nodes))
	for _, n := range c.mu.nodes {
		ns := NodeStatus{Record: proto.Clone(n.rec).(*metapb.NodeRecord), Alive: c.aliveLocked(n, now), Reported: n.heard, LastSeen: n.lastSeen,
			Shards: map[uint32]*metapb.ShardInfo{}}
		for id, r := range n.shards {
			if r.info != nil {
				ns.Shards[id] = proto.Clone(r.info).(*metapb.ShardInfo)
			}
		}
		out = append(out, ns)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Record.Name < out[j].Record.Name })
	return out
}
