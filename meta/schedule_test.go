package meta

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/config"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

// restartNode starts a fresh double (no shards) on n's endpoint.
func restartNode(t *testing.T, tc *testCluster, n *metatest.Node) *metatest.Node {
	t.Helper()
	port := n.Endpoint()[len("127.0.0.1:"):]
	var nd *metatest.Node
	waitFor(t, 5*time.Second, "the node's port", func() bool {
		var err error
		nd, err = metatest.StartNode(metatest.NodeOptions{Meta: tc.endpoints(), Cluster: "defaultCluster", Port: atoi(port),
			Interval: 100 * time.Millisecond, Logger: testLogger(t, "node")})
		return err == nil
	})
	t.Cleanup(nd.Close)
	return nd
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// nodeAlive asks the leader whether a node is alive.
func nodeAlive(t *testing.T, tc *testCluster, name string) bool {
	t.Helper()
	term := tc.leader().Term()
	if term == nil {
		return false
	}
	co, err := term.Cluster("defaultCluster")
	if err != nil {
		t.Fatal(err)
	}
	alive, _ := co.Cluster().NodeAlive(name)
	return alive
}

// hasShards says whether n serves every shard the leader assigns to it, at
// the leader's versions.
func hasShards(t *testing.T, tc *testCluster, n *metatest.Node) bool {
	term := tc.leader().Term()
	if term == nil {
		return false
	}
	co, _ := term.Cluster("defaultCluster")
	snap := co.Cluster().Snapshot()
	got := n.Shards()
	want := 0
	for _, sn := range snap.View.ShardNodes {
		if sn.Node != n.Endpoint() {
			continue
		}
		want++
		if got[sn.ShardId] != snap.Versions[sn.ShardId] {
			return false
		}
	}
	return want > 0 && len(got) == want
}

// TestReturningNodeReopened: in a static cluster a dead node keeps its
// shards; DDL on them fails fast and clearly; new tables go to live
// shards; when the node comes back empty, its shards are reopened on it,
// tables included.
func TestReturningNodeReopened(t *testing.T) {
	tc := startCluster(t, 1, nil)
	nodes := startNodes(t, tc, 2)
	waitStable(t, tc)
	c := newClient(t, tc.endpoints())
	ctx := ctxTimeout(t, time.Minute)
	var onX *metapb.CreateTableResponse
	for i := 0; onX == nil; i++ {
		r, err := c.CreateTable(ctx, createReq("t"+string(rune('a'+i))))
		if err != nil {
			t.Fatal(err)
		}
		if nodeOf(nodes, r.ShardInfo.Id) == nodes[0] {
			onX = r
		}
	}
	x := nodes[0]
	x.Close()
	waitFor(t, 10*time.Second, "the node to be declared dead", func() bool { return !nodeAlive(t, tc, x.Endpoint()) })

	start := time.Now()
	_, err := c.DropTable(ctx, &metapb.DropTableRequest{SchemaName: "public", Name: onX.CreatedTable.Name})
	if !errors.Is(err, client.ErrNodeDown) || time.Since(start) > 2*time.Second {
		t.Fatalf("drop on a dead node: %v after %s, want ErrNodeDown at once", err, time.Since(start))
	}
	for i := range 3 {
		r, err := c.CreateTable(ctx, createReq("live"+string(rune('0'+i))))
		if err != nil {
			t.Fatal(err)
		}
		if nodeOf(nodes[1:], r.ShardInfo.Id) == nil {
			t.Errorf("new table on shard %d of the dead node", r.ShardInfo.Id)
		}
	}

	x2 := restartNode(t, tc, x)
	waitFor(t, 10*time.Second, "the returning node's shards to be reopened", func() bool { return hasShards(t, tc, x2) })
	if !slices.Contains(x2.Tables(onX.ShardInfo.Id), onX.CreatedTable.Name) {
		t.Fatalf("reopened shard %d lacks its table: %v", onX.ShardInfo.Id, x2.Tables(onX.ShardInfo.Id))
	}
	if _, err := c.DropTable(ctx, &metapb.DropTableRequest{SchemaName: "public", Name: onX.CreatedTable.Name}); err != nil {
		t.Fatalf("drop after the node returned: %v", err)
	}
}

// TestScheduleOff: with scheduling off a returning node's shards stay
// closed; turning it on reopens them. The initial assignment happens
// regardless.
func TestScheduleOff(t *testing.T) {
	tc := startCluster(t, 1, func(c *config.Config) { c.EnableSchedule = false })
	nodes := startNodes(t, tc, 2)
	waitStable(t, tc)
	x := nodes[0]
	x.Close()
	x2 := restartNode(t, tc, x)
	admin, err := client.NewAdmin(tc.servers[0].HTTPAddr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxTimeout(t, 30*time.Second)
	waitFor(t, 10*time.Second, "the leader to see the node without its shards", func() bool {
		d, err := admin.Diagnose(ctx, "defaultCluster")
		if err != nil || len(d.UnreadyShards) != 2 {
			return false
		}
		for _, u := range d.UnreadyShards {
			if u.Status != "opening" || u.NodeName != x2.Endpoint() {
				return false
			}
		}
		return true
	})
	// A negative check: several scheduler rounds (100ms each) pass without
	// a reopen.
	time.Sleep(500 * time.Millisecond)
	if len(x2.Shards()) != 0 {
		t.Fatalf("shards reopened with scheduling off: %v", x2.Shards())
	}
	if err := admin.SetSchedule(ctx, "defaultCluster", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the shards to be reopened", func() bool { return hasShards(t, tc, x2) })
}

// TestDynamicFailover: in dynamic topology the shards of a dead node move
// to the live one, and a new node gets its share.
func TestDynamicFailover(t *testing.T) {
	tc := startCluster(t, 1, func(c *config.Config) { c.TopologyType = config.TopologyDynamic })
	nodes := startNodes(t, tc, 2)
	waitStable(t, tc)
	c := newClient(t, tc.endpoints())
	ctx := ctxTimeout(t, time.Minute)
	r, err := c.CreateTable(ctx, createReq("cpu"))
	if err != nil {
		t.Fatal(err)
	}
	x, y := nodes[0], nodes[1]
	if nodeOf(nodes, r.ShardInfo.Id) == y {
		x, y = y, x
	}
	x.Close()
	waitFor(t, 15*time.Second, "every shard on the live node", func() bool {
		return len(y.Shards()) == 4 && hasShards(t, tc, y)
	})
	if !slices.Contains(y.Tables(r.ShardInfo.Id), "cpu") {
		t.Fatalf("moved shard lacks its table: %v", y.Tables(r.ShardInfo.Id))
	}
	route, err := c.RouteTables(ctx, "public", []string{"cpu"})
	if err != nil || route.Entries["cpu"].NodeShards[0].Endpoint != y.Endpoint() {
		t.Fatalf("route after failover: %v %v", route, err)
	}
	z := startNodes(t, tc, 1)[0]
	waitFor(t, 15*time.Second, "the new node's share", func() bool {
		return len(z.Shards()) == 2 && hasShards(t, tc, z) && hasShards(t, tc, y)
	})
}
