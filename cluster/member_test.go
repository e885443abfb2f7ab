package cluster_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/horaego/horaedb/cluster"
	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/meta"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/proto/metapb"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/wal/local"
)

const clusterName = "defaultCluster"

// startMeta starts a one-member HoraeMeta whose default cluster wants
// nodes data nodes and shards shards; it returns the MetaService endpoint.
func startMeta(t *testing.T, nodes, shards int) string {
	t.Helper()
	cfgs, err := metatest.Configs(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cfgs[0]
	cfg.DefaultClusterNodeCount, cfg.DefaultClusterShardTotal = nodes, shards
	ms, err := meta.New(cfg, meta.Options{Logger: slog.New(slog.DiscardHandler), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ms.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ms.Close() })
	waitFor(t, "a meta leader", ms.IsLeader)
	return ms.GRPCEndpoint()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// node is a data node reduced to what a Member needs: an engine on a
// local WAL and object store in dir, the Member serving MetaEventService
// on a gRPC server, and a query executor over the Member's catalog.
type node struct {
	t        *testing.T
	dir      string
	metaAddr string
	endpoint string

	w    *local.WAL
	b    objstore.Bucket
	e    *engine.Engine
	mc   *client.Client
	m    *cluster.Member
	gs   *grpc.Server
	exec *query.Executor

	locks   cluster.LockOptions // shard locks, if a client is set
	noStart bool                // no heartbeats: meta never sees the node
}

func startNode(t *testing.T, metaAddr string) *node {
	return startNodeWith(t, &node{metaAddr: metaAddr})
}

// startNodeWith starts n, a node with its metaAddr and options set.
func startNodeWith(t *testing.T, n *node) *node {
	n.t, n.dir = t, t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.endpoint = ln.Addr().String()
	n.start(ln)
	t.Cleanup(n.crash)
	return n
}

func (n *node) start(ln net.Listener) {
	t := n.t
	t.Helper()
	var err error
	if n.w, err = local.Open(filepath.Join(n.dir, "wal"), local.Options{}); err != nil {
		t.Fatal(err)
	}
	if n.b, err = objstore.OpenLocal(filepath.Join(n.dir, "store")); err != nil {
		t.Fatal(err)
	}
	if n.e, err = engine.Open(engine.Options{WAL: n.w, Store: n.b, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	if n.mc, err = client.New(client.Config{Endpoints: []string{n.metaAddr}, ClusterName: clusterName, Node: n.endpoint}); err != nil {
		t.Fatal(err)
	}
	n.m, err = cluster.New(cluster.Options{Engine: n.e, Meta: n.mc, Endpoint: n.endpoint,
		HeartbeatInterval: 100 * time.Millisecond, Locks: n.locks, Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	n.gs = grpc.NewServer()
	metapb.RegisterMetaEventServiceServer(n.gs, n.m)
	go func() { _ = n.gs.Serve(ln) }()
	n.exec = query.NewExecutor(query.Options{Catalog: n.m.Catalog(), Logger: slog.New(slog.DiscardHandler), TimeZone: time.UTC})
	if !n.noStart {
		if err := n.m.Start(); err != nil {
			t.Fatal(err)
		}
	}
}

// crash stops the node without flushing: unflushed rows are only in the
// WAL.
func (n *node) crash() {
	if n.gs == nil {
		return
	}
	n.gs.Stop()
	n.m.Close()
	_ = n.mc.Close()
	_ = n.e.Close()
	_ = n.w.Close()
	_ = n.b.Close()
	n.gs = nil
}

// restart crashes the node and starts it again on the same endpoint.
func (n *node) restart() {
	n.t.Helper()
	n.crash()
	var ln net.Listener
	waitFor(n.t, "the endpoint to be free", func() bool {
		var err error
		ln, err = net.Listen("tcp", n.endpoint)
		return err == nil
	})
	n.start(ln)
}

func (n *node) sql(stmt string) (*query.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return n.exec.Execute(ctx, query.Session{Database: "public"}, stmt)
}

func (n *node) mustSQL(stmt string) *query.Result {
	n.t.Helper()
	r, err := n.sql(stmt)
	if err != nil {
		n.t.Fatalf("%s: %v", stmt, err)
	}
	return r
}

// createTable retries CREATE TABLE until the cluster is Stable.
func (n *node) createTable(stmt string) {
	n.t.Helper()
	var err error
	waitFor(n.t, "CREATE TABLE to succeed", func() bool {
		_, err = n.sql(stmt)
		if err != nil && !errors.Is(err, client.ErrClusterNotStable) {
			n.t.Fatalf("%s: %v", stmt, err)
		}
		return err == nil
	})
}

func (n *node) count(table string) int64 {
	n.t.Helper()
	r := n.mustSQL("SELECT * FROM " + table)
	return r.NumRows()
}

// TestMemberOpensShardsAndReplaysWAL: meta opens its shards on the node;
// a table created through the catalog lands there; after a crash (no
// flush) meta reopens the shards and the rows come back from the WAL.
func TestMemberOpensShardsAndReplaysWAL(t *testing.T) {
	n := startNode(t, startMeta(t, 1, 2))
	waitFor(t, "2 shards open", func() bool { return len(n.m.ShardVersions()) == 2 })
	n.createTable(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`)
	n.mustSQL(`INSERT INTO cpu (t, host, v) VALUES (1000, 'a', 1), (2000, 'b', 2), (3000, 'c', 3)`)
	if got := n.count("cpu"); got != 3 {
		t.Fatalf("rows before crash: %d", got)
	}
	before := n.m.ShardVersions()

	n.restart()
	waitFor(t, "the shards to be reopened", func() bool { return len(n.m.ShardVersions()) == 2 })
	if got := n.count("cpu"); got != 3 {
		t.Fatalf("rows after crash and reopen: %d, want 3 (WAL replay)", got)
	}
	for id, v := range n.m.ShardVersions() {
		if v <= before[id] {
			t.Errorf("shard %d reopened at version %d, was %d: reopening raises the version", id, v, before[id])
		}
	}
}

// TestMemberFencing sends events that the fencing rules refuse or treat as
// repeats straight to a Member whose shards meta has opened.
func TestMemberFencing(t *testing.T) {
	n := startNode(t, startMeta(t, 1, 2))
	waitFor(t, "2 shards open", func() bool { return len(n.m.ShardVersions()) == 2 })
	n.createTable(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`)
	ctx := context.Background()

	tbl, err := n.e.Table("public", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	shard := tbl.ShardID()
	held := n.m.ShardVersions()[shard]
	resp, err := n.mc.GetTablesOfShards(ctx, []uint32{shard})
	if err != nil {
		t.Fatal(err)
	}
	info := resp.GetTablesByShard()[shard].GetTables()[0]
	waitFor(t, "a heartbeat answer", func() bool { return n.m.MetaEpoch() > 0 })
	epoch := n.m.MetaEpoch()
	h := &metapb.EventHeader{ClusterName: clusterName, MetaEpoch: epoch}
	code := func(err error) metapb.Reason {
		var e *client.Error
		if errors.As(client.FromStatus(err), &e) {
			return e.Reason()
		}
		return metapb.Reason_REASON_UNSPECIFIED
	}

	for _, tc := range []struct {
		name string
		call func() error
		want metapb.Reason
	}{
		{"stale epoch", func() error {
			_, err := n.m.OpenShard(ctx, &metapb.OpenShardRequest{Header: &metapb.EventHeader{MetaEpoch: epoch - 1},
				Shard: &metapb.ShardInfo{Id: shard, Version: held}})
			return err
		}, metapb.Reason_STALE_EPOCH},
		{"open repeat", func() error {
			_, err := n.m.OpenShard(ctx, &metapb.OpenShardRequest{Header: h, Shard: &metapb.ShardInfo{Id: shard, Version: held}})
			return err
		}, metapb.Reason_REASON_UNSPECIFIED},
		{"open older", func() error {
			_, err := n.m.OpenShard(ctx, &metapb.OpenShardRequest{Header: h, Shard: &metapb.ShardInfo{Id: shard, Version: held - 1}})
			return err
		}, metapb.Reason_SHARD_VERSION_MISMATCH},
		{"close older", func() error {
			_, err := n.m.CloseShard(ctx, &metapb.CloseShardRequest{Header: h, Shard: &metapb.ShardInfo{Id: shard, Version: held - 1}})
			return err
		}, metapb.Reason_SHARD_VERSION_MISMATCH},
		{"create repeat", func() error {
			_, err := n.m.CreateTableOnShard(ctx, &metapb.CreateTableOnShardRequest{Header: h, Table: info,
				Update: &metapb.ShardVersionUpdate{ShardId: shard, PrevVersion: held - 1, Version: held}})
			return err
		}, metapb.Reason_REASON_UNSPECIFIED},
		{"create out of order", func() error {
			_, err := n.m.CreateTableOnShard(ctx, &metapb.CreateTableOnShardRequest{Header: h, Table: info,
				Update: &metapb.ShardVersionUpdate{ShardId: shard, PrevVersion: held + 1, Version: held + 2}})
			return err
		}, metapb.Reason_SHARD_VERSION_MISMATCH},
		{"create on a shard not open", func() error {
			_, err := n.m.CreateTableOnShard(ctx, &metapb.CreateTableOnShardRequest{Header: h, Table: info,
				Update: &metapb.ShardVersionUpdate{ShardId: 99, PrevVersion: 1, Version: 2}})
			return err
		}, metapb.Reason_SHARD_NOT_FOUND},
		{"drop whose table is still there", func() error {
			_, err := n.m.DropTableOnShard(ctx, &metapb.DropTableOnShardRequest{Header: h, Table: info,
				Update: &metapb.ShardVersionUpdate{ShardId: shard, PrevVersion: held - 1, Version: held}})
			return err
		}, metapb.Reason_SHARD_VERSION_MISMATCH},
	} {
		err := tc.call()
		if tc.want == metapb.Reason_REASON_UNSPECIFIED {
			if err != nil {
				t.Errorf("%s: %v, want success", tc.name, err)
			}
			continue
		}
		if got := code(err); got != tc.want {
			t.Errorf("%s: %v (reason %v), want %v", tc.name, err, got, tc.want)
		}
	}
	if got := n.m.ShardVersions()[shard]; got != held {
		t.Errorf("shard %d at version %d after refused events, want %d", shard, got, held)
	}
	if _, err := n.e.Table("public", "cpu"); err != nil {
		t.Errorf("table gone after refused events: %v", err)
	}
}

func TestSchemaEncoding(t *testing.T) {
	s, err := schema.Build(schema.TableDef{Columns: []schema.ColumnDef{
		{Name: "host", Kind: schema.String, IsTag: true},
		{Name: "v", Kind: schema.Double},
		{Name: "t", Kind: schema.Timestamp, NotNull: true, TimestampKey: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cluster.EncodeSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cluster.DecodeSchema(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != s.String() || got.Index("v") != s.Index("v") {
		t.Errorf("round trip: %s, want %s", got, s)
	}
	for _, bad := range []string{"", "{", `{"columns":[]}`, `{"columns":[{"name":"a","kind":200}],"num_keys":1}`} {
		if _, err := cluster.DecodeSchema([]byte(bad)); err == nil {
			t.Errorf("DecodeSchema(%q) accepted it", bad)
		}
	}
}

// TestMemberReloadDropsUnlistedTables: an OpenShard at a newer version
// makes the node serve exactly the tables meta lists: a table meta does
// not know (left by a failed create) stops being served, the listed ones
// keep their rows.
func TestMemberReloadDropsUnlistedTables(t *testing.T) {
	n := startNode(t, startMeta(t, 1, 1))
	waitFor(t, "the shard open", func() bool { return len(n.m.ShardVersions()) == 1 })
	n.createTable(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`)
	n.mustSQL(`INSERT INTO cpu (t, host, v) VALUES (1000, 'a', 1), (2000, 'b', 2)`)
	waitFor(t, "a heartbeat answer", func() bool { return n.m.MetaEpoch() > 0 })

	ctx := context.Background()
	ghostSchema, err := cluster.DecodeSchema(mustEncode(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.e.CreateTable(ctx, engine.CreateTableRequest{ID: 1 << 40, Database: "public", Name: "ghost",
		ShardID: 0, Schema: ghostSchema}); err != nil {
		t.Fatal(err)
	}
	held := n.m.ShardVersions()[0]
	_, err = n.m.OpenShard(ctx, &metapb.OpenShardRequest{Header: &metapb.EventHeader{MetaEpoch: n.m.MetaEpoch()},
		Shard: &metapb.ShardInfo{Id: 0, Version: held + 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.e.Table("public", "ghost"); !errors.Is(err, engine.ErrTableNotFound) {
		t.Errorf("the unlisted table is still served: %v", err)
	}
	if got := n.count("cpu"); got != 2 {
		t.Errorf("rows of cpu after the reload: %d, want 2", got)
	}
	if got := n.m.ShardVersions()[0]; got != held+1 {
		t.Errorf("version after the reload: %d, want %d", got, held+1)
	}
}

func mustEncode(t *testing.T) []byte {
	t.Helper()
	s, err := schema.Build(schema.TableDef{Columns: []schema.ColumnDef{
		{Name: "v", Kind: schema.Double},
		{Name: "t", Kind: schema.Timestamp, NotNull: true, TimestampKey: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cluster.EncodeSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
