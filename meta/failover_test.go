package meta

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/metapb"
)

// TestLeaderKilledDuringCreateTable: three members; the meta leader dies
// (no resignation) while its create-table procedure waits on the node. A
// new leader is elected, resumes the procedure from etcd and completes it;
// the client, retrying with its request id, gets the table.
func TestLeaderKilledDuringCreateTable(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := startNodes(t, tc, 2)
	waitStable(t, tc)
	old := tc.leader()
	oldEpoch := old.Term().Epoch()

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var creates []uint64 // epochs of the CreateTableOnShard events
	hook := func(method string, req proto.Message) error {
		if method != "CreateTableOnShard" {
			return nil
		}
		r := req.(*metapb.CreateTableOnShardRequest)
		mu.Lock()
		creates = append(creates, r.Header.MetaEpoch)
		mu.Unlock()
		first := false
		once.Do(func() { first = true; close(entered) })
		if first {
			<-release // the old leader's event is lost
			return status.Error(codes.Unavailable, "node busy")
		}
		return nil
	}
	for _, n := range nodes {
		n.SetHook(hook)
	}

	c := newClient(t, tc.endpoints())
	ctx := ctxTimeout(t, time.Minute)
	type result struct {
		resp *metapb.CreateTableResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		req := createReq("t1")
		req.RequestId = "req-1"
		resp, err := c.CreateTable(ctx, req)
		done <- result{resp, err}
	}()
	select {
	case <-entered:
	case r := <-done:
		t.Fatalf("create finished before the event reached the node: %v", r.err)
	case <-time.After(20 * time.Second):
		t.Fatal("the create-table event never reached a node")
	}
	old.kill()
	close(release)

	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("create table did not complete under the new leader")
	}
	if r.err != nil {
		t.Fatalf("create table: %v", r.err)
	}
	nl := tc.leader()
	if nl == old || nl.Term().Epoch() <= oldEpoch {
		t.Fatalf("new leader %s epoch %d, old epoch %d", nl.cfg.NodeName, nl.Term().Epoch(), oldEpoch)
	}
	sh := r.resp.ShardInfo
	owner := nodeOf(nodes, sh.Id)
	if owner == nil || !slices.Contains(owner.Tables(sh.Id), "t1") || owner.Shards()[sh.Id] != sh.Version {
		t.Fatalf("t1 not on its node at v%d: %v", sh.Version, owner.Shards())
	}
	mu.Lock()
	if len(creates) < 2 || creates[0] != oldEpoch || creates[len(creates)-1] <= oldEpoch {
		t.Errorf("create events by epoch: %v (old epoch %d)", creates, oldEpoch)
	}
	mu.Unlock()

	// The procedure is recorded as finished, once; the table has one id.
	co, err := nl.Term().Cluster("defaultCluster")
	if err != nil {
		t.Fatal(err)
	}
	var found int
	for _, p := range co.Procedures().List() {
		if p.RequestId == "req-1" {
			found++
			if p.State != metapb.ProcedureState_PROCEDURE_STATE_FINISHED {
				t.Errorf("procedure %d state %s", p.Id, p.State)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d procedures for req-1, want 1", found)
	}
	route, err := c.RouteTables(ctx, "public", []string{"t1"})
	if err != nil || route.Entries["t1"].GetTable().GetId() != r.resp.CreatedTable.Id {
		t.Fatalf("route after failover: %v %v", route, err)
	}
	// DDL keeps working under the new leader, and ids are not reused.
	r2, err := c.CreateTable(ctx, createReq("t2"))
	if err != nil || r2.CreatedTable.Id <= r.resp.CreatedTable.Id {
		t.Fatalf("t2: %v %v", r2, err)
	}
}

// TestFollowerForwards: a client that knows only a follower is served by
// the leader through it, for reads and DDL.
func TestFollowerForwards(t *testing.T) {
	tc := startCluster(t, 3, nil)
	startNodes(t, tc, 2)
	waitStable(t, tc)
	l := tc.leader()
	var follower string
	for i, s := range tc.servers {
		if s != l {
			follower = tc.cfgs[i].ClientUrls
			break
		}
	}
	c := newClient(t, []string{follower})
	ctx := ctxTimeout(t, 30*time.Second)
	resp, err := c.CreateTable(ctx, createReq("fwd"))
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := c.GetNodes(ctx)
	if err != nil || len(nodes.NodeShards) != 4 {
		t.Fatalf("get nodes via follower: %v %v", nodes, err)
	}
	ts, err := c.GetTablesOfShards(ctx, []uint32{resp.ShardInfo.Id})
	if err != nil {
		t.Fatal(err)
	}
	got := ts.TablesByShard[resp.ShardInfo.Id]
	if len(got.Tables) != 1 || got.Tables[0].Name != "fwd" || got.ShardInfo.Version != resp.ShardInfo.Version {
		t.Fatalf("tables of shard: %v", got)
	}
	if _, err := c.GetTablesOfShards(ctx, []uint32{99}); !errors.Is(err, client.ErrShardNotFound) {
		t.Errorf("unknown shard: %v", err)
	}
	id, err := c.AllocSchemaID(ctx, "other")
	if err != nil || id == 0 {
		t.Fatalf("alloc schema: %d %v", id, err)
	}
	if again, err := c.AllocSchemaID(ctx, "other"); err != nil || again != id {
		t.Errorf("alloc schema again: %d %v, want %d", again, err, id)
	}
	if _, err := c.RouteTables(ctx, "public", []string{"fwd"}); err != nil {
		t.Fatal(err)
	}
}
