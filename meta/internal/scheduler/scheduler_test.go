package scheduler

import (
	"fmt"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/proto/metapb"
)

// snap builds a snapshot: shards 0..n-1 at version 1, view from owners
// ("" = unassigned), nodes with the shards they report (at version 1
// unless given as id:version).
type nodeSpec struct {
	name     string
	alive    bool
	reported bool
	shards   map[uint32]uint64
}

func snap(state metapb.ClusterState, topo metapb.TopologyType, enable bool, nodeCount uint32, owners []string, nodes ...nodeSpec) *cluster.Snapshot {
	s := &cluster.Snapshot{
		Info: &metapb.ClusterRecord{Name: "c", NodeCount: nodeCount, ShardTotal: uint32(len(owners)), TopologyType: topo,
			EnableSchedule: enable},
		View:     &metapb.ClusterView{State: state},
		Versions: map[uint32]uint64{},
		Now:      time.Unix(100, 0),
	}
	for i, o := range owners {
		s.Versions[uint32(i)] = 1
		if o != "" {
			s.View.ShardNodes = append(s.View.ShardNodes, &metapb.ShardNode{ShardId: uint32(i), Node: o})
		}
	}
	for _, n := range nodes {
		ns := cluster.NodeStatus{Record: &metapb.NodeRecord{Name: n.name}, Alive: n.alive, Reported: n.reported,
			Shards: map[uint32]*metapb.ShardInfo{}}
		for id, v := range n.shards {
			ns.Shards[id] = &metapb.ShardInfo{Id: id, Version: v}
		}
		s.Nodes = append(s.Nodes, ns)
	}
	return s
}

func up(name string, shards map[uint32]uint64) nodeSpec { return nodeSpec{name, true, true, shards} }
func down(name string) nodeSpec                         { return nodeSpec{name, false, true, nil} }
func unheard(name string) nodeSpec                      { return nodeSpec{name, true, false, nil} }

const (
	empty   = metapb.ClusterState_CLUSTER_STATE_EMPTY
	prepare = metapb.ClusterState_CLUSTER_STATE_PREPARE
	stable  = metapb.ClusterState_CLUSTER_STATE_STABLE
	static  = metapb.TopologyType_TOPOLOGY_TYPE_STATIC
	dynamic = metapb.TopologyType_TOPOLOGY_TYPE_DYNAMIC
)

func TestSchedule(t *testing.T) {
	all := map[uint32]uint64{0: 1, 1: 1, 2: 1, 3: 1}
	for _, tc := range []struct {
		name   string
		snap   *cluster.Snapshot
		busy   map[uint32]bool
		budget int
		want   Plan
	}{
		{
			name: "waits for its nodes",
			snap: snap(empty, static, true, 3, []string{"", "", "", ""}, up("a", nil), up("b", nil), down("c")),
		},
		{
			name: "assigns evenly once enough nodes are alive",
			snap: snap(empty, static, false, 2, []string{"", "", "", "", ""}, up("b", nil), up("a", nil)),
			want: Plan{Assign: map[uint32]string{0: "a", 1: "b", 2: "a", 3: "b", 4: "a"}, State: state(prepare)},
		},
		{
			name: "a node not heard by this leader does not count",
			snap: snap(empty, static, true, 2, []string{"", ""}, up("a", nil), unheard("b")),
		},
		{
			name: "prepare opens every shard, scheduling on or off",
			snap: snap(prepare, static, false, 2, []string{"a", "b", "a", "b"}, up("a", map[uint32]uint64{0: 1}), up("b", nil)),
			want: Plan{Opens: []Move{{Shard: 1, To: "b"}, {Shard: 2, To: "a"}, {Shard: 3, To: "b"}}},
		},
		{
			name:   "the budget caps a plan; busy shards wait",
			snap:   snap(prepare, static, true, 2, []string{"a", "b", "a", "b"}, up("a", nil), up("b", nil)),
			busy:   map[uint32]bool{0: true},
			budget: 2,
			want:   Plan{Opens: []Move{{Shard: 1, To: "b"}, {Shard: 2, To: "a"}}},
		},
		{
			name: "prepare becomes stable when every shard is open at meta's version",
			snap: snap(prepare, static, true, 2, []string{"a", "b", "a", "b"}, up("a", map[uint32]uint64{0: 1, 2: 1}),
				up("b", map[uint32]uint64{1: 1, 3: 1})),
			want: Plan{State: state(stable)},
		},
		{
			name: "stable and healthy: nothing to do",
			snap: snap(stable, static, true, 2, []string{"a", "b"}, up("a", map[uint32]uint64{0: 1}), up("b", map[uint32]uint64{1: 1})),
		},
		{
			name: "a returning node gets its shards reopened",
			snap: snap(stable, static, true, 2, []string{"a", "b", "a", "b"}, up("a", nil), up("b", map[uint32]uint64{1: 1, 3: 1})),
			want: Plan{Opens: []Move{{Shard: 0, To: "a"}, {Shard: 2, To: "a"}}},
		},
		{
			name: "a stale version is reopened",
			snap: snap(stable, static, true, 1, []string{"a", "a"}, up("a", map[uint32]uint64{0: 1, 1: 0})),
			want: Plan{Opens: []Move{{Shard: 1, To: "a"}}},
		},
		{
			name: "scheduling off: no reopen in a stable cluster",
			snap: snap(stable, static, false, 2, []string{"a", "b"}, up("a", nil), up("b", map[uint32]uint64{1: 1})),
		},
		{
			name: "static never moves the shards of a dead node",
			snap: snap(stable, static, true, 2, []string{"a", "b"}, down("a"), up("b", map[uint32]uint64{1: 1})),
		},
		{
			name: "a node serving a shard it does not own is told to close it",
			snap: snap(stable, static, true, 2, []string{"a", "b"}, up("a", map[uint32]uint64{0: 1, 1: 1}), up("b", map[uint32]uint64{1: 1})),
			want: Plan{Closes: []Move{{Shard: 1, From: "a"}}},
		},
		{
			name: "shards of a node not heard since the leader changed are left alone",
			snap: snap(stable, static, true, 2, []string{"a", "b"}, unheard("a"), up("b", map[uint32]uint64{1: 1})),
		},
		{
			name: "dynamic moves a dead node's shards to the emptiest live node",
			snap: snap(stable, dynamic, true, 2, []string{"a", "b", "a", "c"}, down("a"), up("b", map[uint32]uint64{1: 1}),
				up("c", map[uint32]uint64{3: 1})),
			want: Plan{Transfers: []Move{{Shard: 0, From: "a", To: "b"}, {Shard: 2, From: "a", To: "c"}}},
		},
		{
			name: "dynamic with scheduling off does not move",
			snap: snap(stable, dynamic, false, 2, []string{"a", "b"}, down("a"), up("b", map[uint32]uint64{1: 1})),
		},
		{
			name: "dynamic rebalances onto a new node, one shard at a time",
			snap: snap(stable, dynamic, true, 1, []string{"a", "a", "a", "a"}, up("a", all), up("b", nil)),
			want: Plan{Transfers: []Move{{Shard: 0, From: "a", To: "b"}}},
		},
		{
			name: "dynamic: balanced within one shard is balanced",
			snap: snap(stable, dynamic, true, 1, []string{"a", "a", "b"}, up("a", map[uint32]uint64{0: 1, 1: 1}), up("b", map[uint32]uint64{2: 1})),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget := tc.budget
			if budget == 0 {
				budget = 100
			}
			got := Schedule(Input{Snap: tc.snap, Busy: tc.busy, Budget: budget})
			if show(got) != show(tc.want) {
				t.Errorf("plan\n got %s\nwant %s", show(got), show(tc.want))
			}
		})
	}
}

func show(p Plan) string {
	s := ""
	if p.State != nil {
		s = p.State.String()
	}
	return fmt.Sprintf("assign=%v state=%s opens=%v closes=%v transfers=%v", p.Assign, s, p.Opens, p.Closes, p.Transfers)
}
