package procedure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

func TestCreateAndDropTable(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	rec := e.wait(e.m.CreateTable(ctx, createReq("cpu"), OriginGRPC))
	res := rec.GetCreateTable().Result
	sh := res.ShardInfo
	node, v, _ := e.c.ShardNode(sh.Id)
	if rec.State != metapb.ProcedureState_PROCEDURE_STATE_FINISHED || v != sh.Version {
		t.Fatalf("state %s, shard v%d, result v%d", rec.State, v, sh.Version)
	}
	fs := e.nodes.shard(node, sh.Id)
	if fs.version != sh.Version || !fs.tables[res.CreatedTable.Id] {
		t.Fatalf("node has v%d %v", fs.version, fs.tables)
	}
	// The record is in etcd, finished, with the result.
	raw, _, ok, err := e.st.Get(ctx, e.st.Keys().Procedure(e.c.ID(), rec.Id))
	var stored metapb.Procedure
	if err != nil || !ok || storage.Unmarshal("p", raw, &stored) != nil || stored.State != rec.State ||
		stored.GetCreateTable().Result.CreatedTable.Id != res.CreatedTable.Id {
		t.Fatalf("stored record %v %v %v", &stored, ok, err)
	}

	drop := e.wait(e.m.DropTable(ctx, &metapb.DropTableRequest{SchemaName: "public", Name: "cpu"}, OriginGRPC))
	if drop.GetDropTable().Result.DroppedTable.Id != res.CreatedTable.Id {
		t.Fatalf("dropped %v", drop.GetDropTable().Result)
	}
	if fs := e.nodes.shard(node, sh.Id); fs.tables[res.CreatedTable.Id] || fs.version != sh.Version+1 {
		t.Fatalf("after drop the node has v%d %v", fs.version, fs.tables)
	}
	if _, ok := e.c.Table("public", "cpu"); ok {
		t.Fatal("table still in the metadata")
	}
}

// TestDispatchRetried: events that fail for a while are sent again until
// they succeed.
func TestDispatchRetried(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	failures := 0
	e.nodes.setFail(func(event, node string, shard uint32) error {
		mu.Lock()
		defer mu.Unlock()
		if event == "CreateTableOnShard" && failures < 3 {
			failures++
			return status.Error(codes.Unavailable, "connection refused")
		}
		return nil
	})
	rec := e.wait(e.m.CreateTable(context.Background(), createReq("cpu"), OriginGRPC))
	if rec.State != metapb.ProcedureState_PROCEDURE_STATE_FINISHED || rec.Attempts != 4 || e.nodes.count("CreateTableOnShard") != 1 {
		t.Fatalf("state %s after %d attempts; %d applied", rec.State, rec.Attempts, e.nodes.count("CreateTableOnShard"))
	}
}

// TestTimeoutThenRetry: a node that never answers makes the procedure fail
// with a timeout that says why, leaves no table behind, and a retry
// succeeds once the node is back (upstream #228, #266).
func TestTimeoutThenRetry(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Timeout, o.DispatchTimeout = 400*time.Millisecond, 100*time.Millisecond })
	ctx := context.Background()
	e.nodes.setFail(func(event, node string, shard uint32) error {
		return status.Error(codes.Unavailable, "node down")
	})
	before := map[uint32]uint64{}
	for id := range uint32(4) {
		before[id], _ = e.c.ShardVersion(id)
	}
	_, err := e.waitErr(e.m.CreateTable(ctx, createReq("cpu"), OriginGRPC))
	if !errors.Is(err, client.ErrProcedureTimeout) || !strings.Contains(err.Error(), "CreateTableOnShard to node") ||
		!strings.Contains(err.Error(), "node down") {
		t.Fatalf("err = %v, want a timeout naming the event and the last error", err)
	}
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Detail.ProcedureId == 0 {
		t.Fatalf("error carries no procedure id: %v", err)
	}
	if _, ok := e.c.Table("public", "cpu"); ok {
		t.Fatal("a failed create left the table behind")
	}
	// The shard the event may have reached is at a version above any the
	// event used, so a late delivery is refused.
	raised := 0
	for id := range uint32(4) {
		if v, _ := e.c.ShardVersion(id); v == before[id]+2 {
			raised++
		}
	}
	if raised != 1 {
		t.Errorf("%d shards raised by two versions, want 1", raised)
	}

	e.nodes.setFail(nil)
	rec := e.wait(e.m.CreateTable(ctx, createReq("cpu"), OriginGRPC))
	res := rec.GetCreateTable().Result
	node, _, _ := e.c.ShardNode(res.ShardInfo.Id)
	if fs := e.nodes.shard(node, res.ShardInfo.Id); fs == nil || fs.version != res.ShardInfo.Version || !fs.tables[res.CreatedTable.Id] {
		t.Fatalf("retry: node has %+v, want v%d with the table", fs, res.ShardInfo.Version)
	}
}

// TestVersionMismatchFailsFast: a node that holds another version refuses
// the event; retrying cannot help, so the procedure fails at once.
func TestVersionMismatchFailsFast(t *testing.T) {
	e := newEnv(t, nil)
	e.nodes.setFail(func(event, node string, shard uint32) error {
		if event == "CreateTableOnShard" {
			return client.VersionMismatch(shard, 99, 1)
		}
		return nil
	})
	start := time.Now()
	rec, err := e.waitErr(e.m.CreateTable(context.Background(), createReq("cpu"), OriginGRPC))
	if !errors.Is(err, client.ErrShardVersionMismatch) || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %s (record %v)", err, time.Since(start), rec)
	}
}

// TestResume: a procedure stopped with its term (the record RUNNING in
// etcd) is resumed by the next term from its step and completes; the event
// it sends again carries the same versions.
func TestResume(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.nodes.setFail(func(event, node string, shard uint32) error {
		if event == "CreateTableOnShard" {
			once.Do(func() { close(entered) })
			<-release
		}
		return nil
	})
	first := createReq("cpu")
	first.RequestId = "r-resume"
	h, err := e.m.CreateTable(ctx, first, OriginGRPC)
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	closed := make(chan struct{})
	go func() { e.m.Close(); close(closed) }()
	for !e.m.isClosed() {
		time.Sleep(time.Millisecond)
	}
	close(release) // the first event applies, but its term is over
	<-closed
	if _, err := h.Wait(ctx); !errors.Is(err, client.ErrNotLeader) {
		t.Fatalf("first term's waiter: %v, want ErrNotLeader", err)
	}

	// The next term loads the cluster and its procedures from etcd.
	e.newTerm()
	e.nodes.setFail(nil)
	l, err := cluster.Load(ctx, e.st, e.c.ID(), e.guard, slog.New(slog.DiscardHandler), cluster.Options{NodeTimeout: time.Minute, IDStep: 3})
	if err != nil {
		t.Fatal(err)
	}
	var running []*metapb.Procedure
	for _, p := range l.Procedures {
		if p.State == metapb.ProcedureState_PROCEDURE_STATE_RUNNING {
			running = append(running, p)
		}
	}
	if len(running) != 1 || running[0].Step != stepDispatch || !running[0].GetCreateTable().Ops[0].Sent {
		t.Fatalf("running records: %v", running)
	}
	opts := e.opts
	opts.Epoch = uint64(e.guard.Rev)
	m2 := New(l.Cluster, e.nodes, slog.New(slog.DiscardHandler), opts)
	defer m2.Close()
	m2.Resume(l.Procedures)
	// A retry of the same request waits for the resumed procedure.
	req := createReq("cpu")
	req.RequestId = running[0].RequestId
	rec := e.wait(m2.CreateTable(ctx, req, OriginGRPC))
	if rec.Id != running[0].Id {
		t.Fatalf("the retry started procedure %d instead of waiting for %d", rec.Id, running[0].Id)
	}
	// Another create of the same name waits for the first (name lock)
	// and then finds the table.
	if _, err := e.waitErr(m2.CreateTable(ctx, createReq("cpu"), OriginGRPC)); !errors.Is(err, client.ErrTableExists) {
		t.Fatalf("second create: %v", err)
	}
	var resumed *metapb.Procedure
	for _, p := range m2.List() {
		if p.Id == running[0].Id {
			resumed = p
		}
	}
	if resumed == nil || resumed.State != metapb.ProcedureState_PROCEDURE_STATE_FINISHED {
		t.Fatalf("resumed procedure: %v", resumed)
	}
	op := resumed.GetCreateTable().Ops[0]
	if fs := e.nodes.shard(op.Node, op.ShardId); fs.version != op.Version || !fs.tables[op.Table.Id] {
		t.Fatalf("node has %+v", fs)
	}
	if v, _ := l.Cluster.ShardVersion(op.ShardId); v != op.Version {
		t.Fatalf("meta has v%d, want v%d", v, op.Version)
	}
}

// TestRequestIDIsIdempotent: the same request id returns the same
// procedure, running or finished.
func TestRequestIDIsIdempotent(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	req := createReq("cpu")
	req.RequestId = "r1"
	a := e.wait(e.m.CreateTable(ctx, req, OriginGRPC))
	b := e.wait(e.m.CreateTable(ctx, req, OriginGRPC))
	if a.Id != b.Id || b.State != metapb.ProcedureState_PROCEDURE_STATE_FINISHED {
		t.Fatalf("ids %d %d, state %s", a.Id, b.Id, b.State)
	}
	if n := e.nodes.count("CreateTableOnShard"); n != 1 {
		t.Errorf("%d creates sent, want 1", n)
	}
}

// TestConcurrentDDL: many creates at once serialise per shard; versions
// on meta and nodes agree, and tables spread evenly.
func TestConcurrentDDL(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.waitErr(e.m.CreateTable(ctx, createReq(fmt.Sprintf("t%d", i)), OriginGRPC)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	snap := e.c.Snapshot()
	for id := range uint32(4) {
		node := snap.NodeOf(id)
		fs := e.nodes.shard(node, id)
		if fs.version != snap.Versions[id] || len(fs.tables) != snap.TableCounts[id] || snap.TableCounts[id] != 4 {
			t.Errorf("shard %d: node v%d %d tables, meta v%d %d tables", id, fs.version, len(fs.tables), snap.Versions[id], snap.TableCounts[id])
		}
	}
}

// TestPartitionedTable: sub-tables spread over shards and commit in
// chunks that fit a transaction; dropping the parent drops them all.
func TestPartitionedTable(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxOps = 8 }) // one sub-table per transaction
	ctx := context.Background()
	req := createReq("p")
	req.PartitionTableInfo = &metapb.PartitionTableInfo{
		PartitionInfo: &metapb.PartitionInfo{Info: &metapb.PartitionInfo_Key{Key: &metapb.KeyPartitionInfo{PartitionKey: []string{"host"}}}},
		SubTableNames: []string{"__p_0", "__p_1", "__p_2", "__p_3", "__p_4"},
	}
	rec := e.wait(e.m.CreateTable(ctx, req, OriginGRPC))
	res := rec.GetCreateTable().Result
	if res.CreatedTable.PartitionInfo == nil || len(res.SubTables) != 5 || res.ShardInfo != nil {
		t.Fatalf("result %v", res)
	}
	shards := map[uint32]int{}
	for _, st := range res.SubTables {
		shards[st.ShardInfo.Id]++
		tb, ok := e.c.Table("public", st.Table.Name)
		if !ok || tb.ParentId != res.CreatedTable.Id {
			t.Errorf("sub-table %s: %v", st.Table.Name, tb)
		}
	}
	if len(shards) != 4 {
		t.Errorf("sub-tables on %d shards, want 4", len(shards))
	}
	parent, ok := e.c.Table("public", "p")
	if !ok || len(parent.SubTableIds) != 5 {
		t.Fatalf("parent %v", parent)
	}
	route := e.c.Route("public", []string{"p", "__p_0"})
	if len(route.Entries["p"].NodeShards) != 0 || len(route.Entries["__p_0"].NodeShards) != 1 {
		t.Errorf("route %v", route)
	}
	if _, err := e.waitErr(e.m.DropTable(ctx, &metapb.DropTableRequest{SchemaName: "public", Name: "__p_1"}, OriginGRPC)); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("dropping a sub-table: %v", err)
	}
	e.wait(e.m.DropTable(ctx, &metapb.DropTableRequest{SchemaName: "public", Name: "p"}, OriginGRPC))
	if n := len(e.c.Tables("public")); n != 0 {
		t.Errorf("%d tables left", n)
	}
}

// TestStaleEpochStopsTheTerm: a node that has seen a newer leader refuses
// the event; the procedure is not failed (the newer leader owns it) and
// the term is told to end.
func TestStaleEpochStopsTheTerm(t *testing.T) {
	e := newEnv(t, nil)
	e.nodes.mu.Lock()
	e.nodes.epoch = e.opts.Epoch + 100
	e.nodes.mu.Unlock()
	_, err := e.waitErr(e.m.CreateTable(context.Background(), createReq("cpu"), OriginGRPC))
	if !errors.Is(err, client.ErrNotLeader) {
		t.Fatalf("err = %v, want ErrNotLeader", err)
	}
	select {
	case err := <-e.errs:
		if !errors.Is(err, client.ErrStaleEpoch) {
			t.Errorf("term error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the term was not told")
	}
	for _, p := range e.m.List() {
		if p.Kind == metapb.ProcedureKind_PROCEDURE_KIND_CREATE_TABLE && p.State != metapb.ProcedureState_PROCEDURE_STATE_RUNNING {
			t.Errorf("procedure %d ended %s; the next leader must resume it", p.Id, p.State)
		}
	}
}

// TestTransferShard: close on the old node, raise the version and move the
// shard in the view, open on the new node.
func TestTransferShard(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, v0, _ := e.c.ShardNode(0)
	if _, err := e.m.TransferShard(ctx, 0, n2, n2, false, OriginHTTP, ""); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("wrong old leader: %v", err)
	}
	if _, err := e.m.TransferShard(ctx, 0, n1, "127.0.0.1:9", false, OriginHTTP, ""); !errors.Is(err, client.ErrNodeNotFound) {
		t.Errorf("unknown node: %v", err)
	}
	rec := e.wait(e.m.TransferShard(ctx, 0, n1, n2, false, OriginHTTP, ""))
	node, v, _ := e.c.ShardNode(0)
	if rec.State != metapb.ProcedureState_PROCEDURE_STATE_FINISHED || node != n2 || v != v0+1 {
		t.Fatalf("shard 0 on %s v%d (was v%d)", node, v, v0)
	}
	if e.nodes.shard(n1, 0) != nil || e.nodes.shard(n2, 0).version != v {
		t.Fatalf("nodes: n1 %v n2 %v", e.nodes.shard(n1, 0), e.nodes.shard(n2, 0))
	}
}
