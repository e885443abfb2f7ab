package cluster

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T) (*storage.Storage, storage.Guard, *clock) {
	t.Helper()
	m, err := metatest.Etcd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	st := storage.New(m.Client, "/horaedb", storage.Options{})
	resp, err := m.Client.Put(context.Background(), st.Keys().Election()+"t", "x")
	if err != nil {
		t.Fatal(err)
	}
	return st, storage.Guard{Key: st.Keys().Election() + "t", Rev: resp.Header.Revision}, &clock{now: time.Unix(1000, 0)}
}

// TestLoadRoundTrip: what a term writes, the next term loads.
func TestLoadRoundTrip(t *testing.T) {
	st, g, clk := setup(t)
	ctx := context.Background()
	opts := Options{NodeTimeout: 10 * time.Second, IDStep: 2, Now: clk.Now}
	mgr := NewManager(st, g, slog.New(slog.DiscardHandler), opts)
	l, err := mgr.Create(ctx, Spec{Name: "c", NodeCount: 1, ShardTotal: 3, Topology: metapb.TopologyType_TOPOLOGY_TYPE_DYNAMIC})
	if err != nil {
		t.Fatal(err)
	}
	c := l.Cluster
	if _, err := mgr.Create(ctx, Spec{Name: "c", NodeCount: 1, ShardTotal: 3}); !errors.Is(err, client.ErrClusterExists) {
		t.Errorf("create twice: %v", err)
	}
	if _, err := c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1", Zone: "z", Load: &metapb.NodeLoad{TableCount: 3}}); err != nil {
		t.Fatal(err)
	}
	stable := metapb.ClusterState_CLUSTER_STATE_STABLE
	if err := c.AssignShards(ctx, map[uint32]string{0: "n:1", 1: "n:1", 2: "n:1"}, &stable); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RaiseShard(ctx, 1, "", nil); err != nil {
		t.Fatal(err)
	}
	s, err := c.EnsureSchema(ctx, "public")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.AllocTableIDs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	tb := &metapb.TableRecord{Info: &metapb.TableInfo{Id: ids[0], Name: "cpu", SchemaId: s.Id, SchemaName: "public"}, ShardId: 1}
	if err := c.CommitTables(ctx, TableChange{Create: []*metapb.TableRecord{tb}, Versions: map[uint32]uint64{1: 2}}); err != nil {
		t.Fatal(err)
	}
	// A version must go up.
	if err := c.CommitTables(ctx, TableChange{Versions: map[uint32]uint64{1: 2}}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("same version again: %v", err)
	}

	l2, err := Load(ctx, st, c.ID(), g, slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Snapshot(), l2.Cluster.Snapshot()
	if !proto.Equal(a.Info, b.Info) || !proto.Equal(a.View, b.View) || a.Versions[1] != 2 || b.Versions[1] != 2 ||
		b.TableCounts[1] != 1 || len(b.Nodes) != 1 || b.Nodes[0].Record.Zone != "z" {
		t.Fatalf("loaded\n%v\nwant\n%v", b, a)
	}
	if got, ok := l2.Cluster.Table("public", "cpu"); !ok || !proto.Equal(got.Info, tb.Info) {
		t.Fatalf("table %v", got)
	}
	// A node loaded from etcd is alive for NodeTimeout after the load, but
	// its shards are unknown until it heartbeats.
	if !b.Nodes[0].Alive || b.Nodes[0].Reported {
		t.Errorf("loaded node alive=%v reported=%v", b.Nodes[0].Alive, b.Nodes[0].Reported)
	}
	clk.add(11 * time.Second)
	if alive, _ := l2.Cluster.NodeAlive("n:1"); alive {
		t.Error("a silent node stays alive")
	}
}

// TestHeartbeat: registration is persisted at once, later heartbeats at
// most every NodeTimeout/2; liveness and reported shards follow.
func TestHeartbeat(t *testing.T) {
	st, g, clk := setup(t)
	ctx := context.Background()
	mgr := NewManager(st, g, slog.New(slog.DiscardHandler), Options{NodeTimeout: 10 * time.Second, Now: clk.Now})
	l, err := mgr.Create(ctx, Spec{Name: "c", NodeCount: 1, ShardTotal: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := l.Cluster
	if _, err := c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "no-port"}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("bad endpoint: %v", err)
	}
	persisted := func() int64 {
		v, _, ok, err := st.Get(ctx, st.Keys().Node(c.ID(), "n:1"))
		if err != nil || !ok {
			return 0
		}
		var rec metapb.NodeRecord
		_ = storage.Unmarshal("n", v, &rec)
		return rec.LastHeartbeatMs
	}
	res, err := c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1"})
	if err != nil || !res.Changed || persisted() != clk.Now().UnixMilli() {
		t.Fatalf("register: %v %v, persisted %d", res, err, persisted())
	}
	first := clk.Now().UnixMilli()
	clk.add(2 * time.Second)
	res, _ = c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1"})
	if res.Changed || persisted() != first {
		t.Errorf("an unchanged heartbeat was persisted or changed something: %v", res.Changed)
	}
	clk.add(4 * time.Second)
	res, _ = c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1", Shards: []*metapb.ShardInfo{{Id: 1, Version: 3}}})
	if !res.Changed || persisted() != clk.Now().UnixMilli() {
		t.Errorf("changed=%v persisted %d", res.Changed, persisted())
	}
	if v, open, known := c.NodeShardVersion("n:1", 1); !known || !open || v != 3 {
		t.Errorf("reported shard: v%d open=%v known=%v", v, open, known)
	}
	// An event's result outranks a heartbeat sent before it.
	c.NoteShard("n:1", 0, &metapb.ShardInfo{Id: 0, Version: 1})
	c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1", Shards: []*metapb.ShardInfo{{Id: 1, Version: 3}}})
	if _, open, _ := c.NodeShardVersion("n:1", 0); !open {
		t.Error("a stale heartbeat undid an event")
	}
	clk.add(2 * time.Second)
	c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1", Shards: []*metapb.ShardInfo{{Id: 1, Version: 3}}})
	if _, open, _ := c.NodeShardVersion("n:1", 0); open {
		t.Error("an old event outranks a newer heartbeat")
	}
	// A heartbeat from the same process right after an event keeps the
	// event's result; one from a new process (the node restarted) has all
	// the node holds.
	c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1", Incarnation: 7, Shards: []*metapb.ShardInfo{{Id: 1, Version: 3}}})
	c.NoteShard("n:1", 0, &metapb.ShardInfo{Id: 0, Version: 2})
	c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1", Incarnation: 7, Shards: []*metapb.ShardInfo{{Id: 1, Version: 3}}})
	if _, open, _ := c.NodeShardVersion("n:1", 0); !open {
		t.Error("a late heartbeat of the same process undid an event")
	}
	c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1", Incarnation: 9})
	for _, id := range []uint32{0, 1} {
		if _, open, _ := c.NodeShardVersion("n:1", id); open {
			t.Errorf("shard %d still open on a node that restarted without it", id)
		}
	}
	clk.add(11 * time.Second)
	if alive, ok := c.NodeAlive("n:1"); alive || !ok {
		t.Errorf("alive=%v registered=%v after 11s of silence", alive, ok)
	}
	res, _ = c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "n:1"})
	if !res.Changed {
		t.Error("a node back from the dead is not a change")
	}
}

// TestPickShards: fewest tables first, only shards of live nodes,
// counting tables in flight.
func TestPickShards(t *testing.T) {
	st, g, clk := setup(t)
	ctx := context.Background()
	mgr := NewManager(st, g, slog.New(slog.DiscardHandler), Options{NodeTimeout: 10 * time.Second, Now: clk.Now})
	l, err := mgr.Create(ctx, Spec{Name: "c", NodeCount: 2, ShardTotal: 4})
	if err != nil {
		t.Fatal(err)
	}
	c := l.Cluster
	if _, err := c.PickShards(1, nil); !errors.Is(err, client.ErrNodeDown) {
		t.Errorf("no nodes: %v", err)
	}
	if err := c.CheckDDL(); !errors.Is(err, client.ErrClusterNotStable) {
		t.Errorf("DDL in an empty cluster: %v", err)
	}
	c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "a:1"})
	clk.add(9 * time.Second)
	c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: "b:1"})
	if err := c.AssignShards(ctx, map[uint32]string{0: "a:1", 1: "b:1", 2: "a:1", 3: "b:1"}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.PickShards(3, map[uint32]int{0: 1})
	if err != nil || len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("picked %v %v, want [1 2 3]", got, err)
	}
	clk.add(2 * time.Second) // a:1 dies
	got, _ = c.PickShards(3, nil)
	for _, id := range got {
		if id%2 == 0 {
			t.Errorf("picked shard %d of the dead node: %v", id, got)
		}
	}
}
