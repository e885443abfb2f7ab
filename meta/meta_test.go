package meta

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

// TestStaticClusterDDL: a single member, two nodes; the cluster waits for
// both, assigns the shards evenly, opens them, becomes Stable, and then
// creates, routes and drops tables.
func TestStaticClusterDDL(t *testing.T) {
	tc := startCluster(t, 1, nil)
	c := newClient(t, tc.endpoints())
	ctx := ctxTimeout(t, time.Minute)

	// DDL before the nodes come: a clear error.
	tc.leader()
	_, err := c.CreateTable(ctx, createReq("early"))
	if !errors.Is(err, client.ErrClusterNotStable) {
		t.Fatalf("create before stable: %v, want ErrClusterNotStable", err)
	}
	t.Logf("before stable: %v", err)

	nodes := startNodes(t, tc, 2)
	waitStable(t, tc)
	for _, n := range nodes {
		if got := len(n.Shards()); got != 2 {
			t.Errorf("node %s has %d shards, want 2 (even)", n.Endpoint(), got)
		}
	}

	resp, err := c.CreateTable(ctx, createReq("cpu"))
	if err != nil {
		t.Fatal(err)
	}
	tb, sh := resp.CreatedTable, resp.ShardInfo
	if tb.Id == 0 || tb.SchemaName != "public" || sh == nil {
		t.Fatalf("created %v on %v", tb, sh)
	}
	owner := nodeOf(nodes, sh.Id)
	if owner == nil || !slices.Contains(owner.Tables(sh.Id), "cpu") || owner.Shards()[sh.Id] != sh.Version {
		t.Fatalf("table not on its node: shard %d v%d", sh.Id, sh.Version)
	}

	// Exists, and create_if_not_exist.
	if _, err := c.CreateTable(ctx, createReq("cpu")); !errors.Is(err, client.ErrTableExists) {
		t.Fatalf("second create: %v", err)
	}
	again := createReq("cpu")
	again.CreateIfNotExist = true
	if r, err := c.CreateTable(ctx, again); err != nil || !r.AlreadyExists || r.CreatedTable.Id != tb.Id {
		t.Fatalf("create if not exists: %v %v", r, err)
	}

	route, err := c.RouteTables(ctx, "public", []string{"cpu", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	e := route.Entries["cpu"]
	if len(route.Entries) != 1 || e == nil || e.NodeShards[0].Endpoint != owner.Endpoint() || e.Table.Id != tb.Id {
		t.Fatalf("route: %v", route)
	}

	// A second table goes to another shard (fewest tables).
	r2, err := c.CreateTable(ctx, createReq("mem"))
	if err != nil {
		t.Fatal(err)
	}
	if r2.ShardInfo.Id == sh.Id || r2.CreatedTable.Id <= tb.Id {
		t.Errorf("mem on shard %d id %d; cpu on %d id %d", r2.ShardInfo.Id, r2.CreatedTable.Id, sh.Id, tb.Id)
	}

	dr, err := c.DropTable(ctx, &metapb.DropTableRequest{SchemaName: "public", Name: "cpu"})
	if err != nil || dr.DroppedTable.Id != tb.Id {
		t.Fatalf("drop: %v %v", dr, err)
	}
	if slices.Contains(owner.Tables(sh.Id), "cpu") {
		t.Error("table still on the node after drop")
	}
	if _, err := c.DropTable(ctx, &metapb.DropTableRequest{SchemaName: "public", Name: "cpu"}); !errors.Is(err, client.ErrTableNotFound) {
		t.Errorf("drop again: %v", err)
	}
	// The id is not reused.
	r3, err := c.CreateTable(ctx, createReq("cpu"))
	if err != nil || r3.CreatedTable.Id <= r2.CreatedTable.Id {
		t.Fatalf("recreate: %v %v", r3, err)
	}
}

func nodeOf(nodes []*metatest.Node, shard uint32) *metatest.Node {
	for _, n := range nodes {
		if _, ok := n.Shards()[shard]; ok {
			return n
		}
	}
	return nil
}
