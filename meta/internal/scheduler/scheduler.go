// Package scheduler decides what a cluster needs: it is a pure function
// from a snapshot of the cluster to a plan (assign shards, open, close or
// move shards, change the cluster's state). The coordinator runs the plan
// as procedures.
//
// Rules (meta/docs/procedures.md):
//   - Empty: once node-count nodes are alive, spread the shards evenly over
//     the live nodes (shard i to the i-th node by name, round robin) and
//     move to Prepare.
//   - Prepare: open every shard on its node; once every node reports its
//     shards at meta's versions, move to Stable. Done whether scheduling is
//     enabled or not: a new cluster must come up.
//   - With scheduling enabled: open a shard again on its live node when the
//     node does not report it (a node that restarted) or reports another
//     version; close a shard a node reports but does not own.
//   - Dynamic topology with scheduling enabled: move the shards of dead
//     nodes to the live node with the fewest shards, and move one shard at
//     a time from the fullest live node to the emptiest while they differ by
//     more than one. Static topology never moves a shard by itself.
//
// Shards with a procedure in flight are left alone, and so are the shards
// of a node that has not heartbeated to this leader yet (after a leader
// change its shards are unknown, not missing). A plan starts at most Budget
// procedures.
package scheduler

import (
	"sort"

	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/proto/metapb"
)

// Input is what the scheduler looks at.
type Input struct {
	Snap *cluster.Snapshot
	// Busy shards have a procedure queued or running.
	Busy map[uint32]bool
	// Budget is how many procedures the plan may start.
	Budget int
}

// Move is a shard operation: Open on To, Close on From, Transfer from From
// (possibly "" or a dead node) to To.
type Move struct {
	Shard    uint32
	From, To string
}

// Plan is what to do.
type Plan struct {
	// Assign is the initial assignment of shards to nodes.
	Assign map[uint32]string
	// State, when set, is the cluster's next state.
	State     *metapb.ClusterState
	Opens     []Move
	Closes    []Move
	Transfers []Move
}

// Empty says whether the plan does nothing.
func (p Plan) Empty() bool {
	return len(p.Assign) == 0 && p.State == nil && len(p.Opens) == 0 && len(p.Closes) == 0 && len(p.Transfers) == 0
}

func state(s metapb.ClusterState) *metapb.ClusterState { return &s }

// Schedule computes the plan for in.
func Schedule(in Input) Plan {
	s := in.Snap
	var p Plan
	var alive []string
	status := map[string]*cluster.NodeStatus{}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		status[n.Record.Name] = n
		if n.Alive && n.Reported {
			alive = append(alive, n.Record.Name)
		}
	}
	sort.Strings(alive)
	if len(s.View.ShardNodes) == 0 {
		if len(alive) >= int(s.Info.NodeCount) && len(alive) > 0 {
			p.Assign = map[uint32]string{}
			for i := range s.Info.ShardTotal {
				p.Assign[i] = alive[int(i)%len(alive)]
			}
			p.State = state(metapb.ClusterState_CLUSTER_STATE_PREPARE)
		}
		return p
	}

	prepare := s.View.State != metapb.ClusterState_CLUSTER_STATE_STABLE
	enabled := s.Info.EnableSchedule
	dynamic := s.Info.TopologyType == metapb.TopologyType_TOPOLOGY_TYPE_DYNAMIC
	budget := in.Budget
	owner := map[uint32]string{}
	for _, sn := range s.View.ShardNodes {
		owner[sn.ShardId] = sn.Node
	}
	// load counts the shards each live node owns, including planned moves.
	load := map[string]int{}
	for _, n := range alive {
		load[n] = 0
	}
	for _, node := range owner {
		if _, ok := load[node]; ok {
			load[node]++
		}
	}
	emptiest := func(except string) string {
		best := ""
		for _, n := range alive {
			if n != except && (best == "" || load[n] < load[best]) {
				best = n
			}
		}
		return best
	}
	ready := true
	for id := range s.Info.ShardTotal {
		node := owner[id]
		ns := status[node]
		if node == "" || ns == nil || !ns.Alive || ns.Shards[id] == nil || ns.Shards[id].Version != s.Versions[id] {
			ready = false
		}
		if in.Busy[id] || budget <= 0 || ns != nil && ns.Alive && !ns.Reported {
			continue
		}
		switch {
		case node == "" && (prepare || enabled):
			if to := emptiest(""); to != "" {
				p.Transfers = append(p.Transfers, Move{Shard: id, To: to})
				load[to]++
				budget--
			}
		case ns != nil && ns.Alive:
			if rep := ns.Shards[id]; (rep == nil || rep.Version != s.Versions[id]) && (prepare || enabled) {
				p.Opens = append(p.Opens, Move{Shard: id, To: node})
				budget--
			}
		case dynamic && enabled:
			if to := emptiest(node); to != "" {
				p.Transfers = append(p.Transfers, Move{Shard: id, From: node, To: to})
				load[to]++
				budget--
			}
		}
	}
	if enabled {
		for _, n := range s.Nodes {
			if !n.Alive || !n.Reported {
				continue
			}
			ids := make([]uint32, 0, len(n.Shards))
			for id := range n.Shards {
				ids = append(ids, id)
			}
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
			for _, id := range ids {
				if owner[id] != n.Record.Name && !in.Busy[id] && budget > 0 {
					p.Closes = append(p.Closes, Move{Shard: id, From: n.Record.Name})
					budget--
				}
			}
		}
	}
	if prepare && ready && len(p.Opens)+len(p.Transfers)+len(p.Closes) == 0 {
		p.State = state(metapb.ClusterState_CLUSTER_STATE_STABLE)
	}
	if dynamic && enabled && !prepare && len(p.Transfers) == 0 {
		p.Transfers = append(p.Transfers, rebalance(s, alive, owner, load, in.Busy, budget)...)
	}
	return p
}

// rebalance moves one shard from the fullest live node to the emptiest when
// they differ by more than one.
func rebalance(s *cluster.Snapshot, alive []string, owner map[uint32]string, load map[string]int, busy map[uint32]bool, budget int) []Move {
	if budget <= 0 || len(alive) < 2 {
		return nil
	}
	fullest, emptiest := alive[0], alive[0]
	for _, n := range alive {
		if load[n] > load[fullest] {
			fullest = n
		}
		if load[n] < load[emptiest] {
			emptiest = n
		}
	}
	if load[fullest]-load[emptiest] <= 1 {
		return nil
	}
	for id := range s.Info.ShardTotal {
		if owner[id] == fullest && !busy[id] {
			return []Move{{Shard: id, From: fullest, To: emptiest}}
		}
	}
	return nil
}
