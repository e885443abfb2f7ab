package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/horaego/horaedb/internal/units"
	"github.com/horaego/horaedb/meta"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/server/config"
)

// startMetaForTest starts a one-member HoraeMeta in-process (embedded etcd
// on free ports) whose default cluster wants nodes data nodes and shards
// shards, and returns its MetaService endpoint once it leads.
func startMetaForTest(t *testing.T, nodes, shards int) string {
	t.Helper()
	cfgs, err := metatest.Configs(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cfgs[0]
	cfg.DefaultClusterNodeCount = nodes
	cfg.DefaultClusterShardTotal = shards
	cfg.Log.Level = "warn"
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
	waitFor(t, 30*time.Second, "a meta leader", func() bool { return ms.IsLeader() })
	return ms.GRPCEndpoint()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// withMetaConfig is a WithMeta node's config for the meta service at
// metaAddr, heartbeating every 100ms.
func withMetaConfig(metaAddr string) config.Config {
	cfg := config.Default()
	cfg.ClusterDeployment = config.DefaultClusterDeployment(config.ModeWithMeta)
	w := cfg.ClusterDeployment.WithMeta
	w.MetaClient.ClusterName = "defaultCluster"
	w.MetaClient.MetaAddr = metaAddr
	w.MetaClient.Lease = units.Duration(300 * time.Millisecond)
	w.MetaClient.Timeout = units.Duration(5 * time.Second)
	w.EtcdClient.ServerAddrs = []string{metaAddr} // HoraeMeta's embedded etcd
	w.EtcdClient.ShardLockLeaseTTLSec = 15
	w.EtcdClient.ShardLockLeaseCheckInterval = units.Duration(100 * time.Millisecond)
	return cfg
}

// clusterNode is a WithMeta server of a test, restartable on its gRPC port
// (its name in the cluster) with the same data directory.
type clusterNode struct {
	t        *testing.T
	cfg      config.Config
	dir      string
	grpcPort int
	s        *Server
	url      string
}

func startClusterNode(t *testing.T, metaAddr string) *clusterNode {
	n := &clusterNode{t: t, cfg: withMetaConfig(metaAddr), dir: t.TempDir()}
	n.start(listen(t))
	t.Cleanup(func() {
		if n.s != nil {
			_ = n.s.Close()
		}
	})
	return n
}

func (n *clusterNode) start(gln net.Listener) {
	t := n.t
	t.Helper()
	n.grpcPort = gln.Addr().(*net.TCPAddr).Port
	s, err := New(n.cfg, Options{DataDir: n.dir, Listener: listen(t), GRPCListener: gln,
		MySQLListener: listen(t), PostgreSQLListener: listen(t), Logger: testLogger(t)})
	if err != nil {
		gln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	n.s, n.url = s, "http://"+s.HTTPAddr().String()
}

func (n *clusterNode) endpoint() string { return fmt.Sprintf("127.0.0.1:%d", n.grpcPort) }

// restart closes the node and starts it again on the same gRPC port.
func (n *clusterNode) restart() {
	t := n.t
	t.Helper()
	if n.s != nil {
		if err := n.s.Close(); err != nil {
			t.Fatal(err)
		}
		n.s = nil
	}
	var gln net.Listener
	waitFor(t, 10*time.Second, "the node's gRPC port to be free again", func() bool {
		var err error
		gln, err = net.Listen("tcp", n.endpoint())
		return err == nil
	})
	n.start(gln)
}

// grpcRoute asks n's storage API where table lives.
func grpcRoute(t *testing.T, n *clusterNode, table string) string {
	t.Helper()
	conn, err := grpc.NewClient(n.endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := storagepb.NewStorageServiceClient(conn).Route(ctx, &storagepb.RouteRequest{Tables: []string{table}})
	if err != nil || resp.GetHeader().GetCode() != 200 || len(resp.GetRoutes()) != 1 {
		t.Fatalf("Route(%s): %v %v", table, resp, err)
	}
	ep := resp.GetRoutes()[0].GetEndpoint()
	return fmt.Sprintf("%s:%d", ep.GetIp(), ep.GetPort())
}

// httpRoute asks n's GET /route/{table} where table lives.
func httpRoute(t *testing.T, n *clusterNode, table string) string {
	t.Helper()
	code, body := get(t, n.url+"/route/"+table)
	var r struct {
		Routes []struct {
			Table    string
			Endpoint struct {
				Addr string
				Port int
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &r); code != 200 || err != nil || len(r.Routes) != 1 || r.Routes[0].Table != table {
		t.Fatalf("GET /route/%s: %d %s %v", table, code, body, err)
	}
	return fmt.Sprintf("%s:%d", r.Routes[0].Endpoint.Addr, r.Routes[0].Endpoint.Port)
}

func (n *clusterNode) sql(stmt string) (int, string) {
	n.t.Helper()
	return post(n.t, n.url+"/sql", stmt)
}

// TestWithMetaCluster starts HoraeMeta and two WithMeta nodes: they
// register, meta opens its four shards on them, CREATE TABLE through a node
// lands on the shard's owner, writes and queries through the owner work,
// and a restarted owner gets its shards back with its data.
func TestWithMetaCluster(t *testing.T) {
	metaAddr := startMetaForTest(t, 2, 4)
	a, b := startClusterNode(t, metaAddr), startClusterNode(t, metaAddr)
	nodes := map[string]*clusterNode{a.endpoint(): a, b.endpoint(): b}

	mc, err := client.New(client.Config{Endpoints: []string{metaAddr}, ClusterName: "defaultCluster"})
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	ctx := context.Background()

	// Both nodes register and every shard is opened on one of them.
	waitFor(t, 30*time.Second, "4 shards open on 2 nodes", func() bool {
		na, nb := len(a.s.Member().ShardVersions()), len(b.s.Member().ShardVersions())
		return na+nb == 4 && na > 0 && nb > 0
	})
	// GET /debug/shards lists them, their versions and locks.
	for _, n := range []*clusterNode{a, b} {
		code, body := get(t, n.url+"/debug/shards")
		var shards []shardInfo
		if err := json.Unmarshal([]byte(body), &shards); code != 200 || err != nil ||
			len(shards) != len(n.s.Member().ShardVersions()) || shards[0].Version == 0 || shards[0].LockHeld == nil {
			t.Errorf("GET /debug/shards on %s: %d %s (%v)", n.endpoint(), code, body, err)
		}
	}
	resp, err := mc.GetNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range resp.GetNodeShards() {
		n := nodes[ns.GetEndpoint()]
		if n == nil {
			t.Fatalf("shard %d on unknown node %s", ns.GetShardInfo().GetId(), ns.GetEndpoint())
		}
		if _, ok := n.s.Member().ShardVersions()[ns.GetShardInfo().GetId()]; !ok {
			t.Errorf("meta says %s serves shard %d, the node does not", ns.GetEndpoint(), ns.GetShardInfo().GetId())
		}
	}

	// DDL waits for a Stable cluster; retry CLUSTER_NOT_STABLE (503).
	var code int
	var body string
	waitFor(t, 30*time.Second, "CREATE TABLE to succeed", func() bool {
		code, body = a.sql(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) ENGINE=Analytic WITH (enable_ttl='false')`)
		if code != 200 && (code != 503 || !strings.Contains(body, "not stable")) {
			t.Fatalf("CREATE TABLE: %d %s", code, body)
		}
		return code == 200
	})
	if code, body := a.sql(`CREATE TABLE IF NOT EXISTS cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t))`); code != 200 {
		t.Errorf("CREATE TABLE IF NOT EXISTS: %d %s", code, body)
	}
	if code, body := b.sql(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t))`); code != 400 || !strings.Contains(body, "exists") {
		t.Errorf("CREATE TABLE twice: %d %s", code, body)
	}

	route, err := mc.RouteTables(ctx, "public", []string{"cpu"})
	if err != nil {
		t.Fatal(err)
	}
	ns := route.GetEntries()["cpu"].GetNodeShards()
	if len(ns) != 1 {
		t.Fatalf("route of cpu: %v", route)
	}
	owner, other := nodes[ns[0].GetEndpoint()], a
	if owner == a {
		other = b
	}
	shard := ns[0].GetShardInfo().GetId()
	if v, ok := owner.s.Member().ShardVersions()[shard]; !ok || v != ns[0].GetShardInfo().GetVersion() {
		t.Errorf("owner holds shard %d at %d (open %v), meta says %d", shard, v, ok, ns[0].GetShardInfo().GetVersion())
	}

	// The storage API's Route, asked on either node, names the owner.
	for _, n := range []*clusterNode{a, b} {
		if got := grpcRoute(t, n, "cpu"); got != owner.endpoint() {
			t.Errorf("Route(cpu) on %s = %s, want the owner %s", n.endpoint(), got, owner.endpoint())
		}
		if got := httpRoute(t, n, "cpu"); got != owner.endpoint() {
			t.Errorf("GET /route/cpu on %s = %s, want the owner %s", n.endpoint(), got, owner.endpoint())
		}
	}
	if got := grpcRoute(t, other, "not_yet"); got != other.endpoint() {
		t.Errorf("Route of a table the cluster does not have = %s, want the node itself", got)
	}

	if code, body := owner.sql(`INSERT INTO cpu (t, host, v) VALUES (1000, 'a', 1), (2000, 'b', 2.5)`); code != 200 {
		t.Fatalf("INSERT on the owner: %d %s", code, body)
	}
	const want = `{"rows":[{"t":1000,"host":"a","v":1.0},{"t":2000,"host":"b","v":2.5}]}`
	if code, body := owner.sql(`SELECT t, host, v FROM cpu ORDER BY t`); code != 200 || body != want {
		t.Errorf("SELECT on the owner: %d %s", code, body)
	}
	// The other node forwards to the owner (TestWithMetaForwarding).
	if code, body := other.sql(`SELECT t, host, v FROM cpu ORDER BY t`); code != 200 || body != want {
		t.Errorf("SELECT through the non-owner: %d %s", code, body)
	}

	// Restart the owner: meta reopens its shards, the rows are back.
	owner.restart()
	waitFor(t, 30*time.Second, "the owner to serve its shard again", func() bool {
		_, ok := owner.s.Member().ShardVersions()[shard]
		return ok
	})
	if code, body := owner.sql(`SELECT t, host, v FROM cpu ORDER BY t`); code != 200 || body != want {
		t.Errorf("SELECT after restart: %d %s", code, body)
	}

	// DROP through the other node removes it from the owner.
	waitFor(t, 30*time.Second, "DROP TABLE to succeed", func() bool {
		code, body = other.sql(`DROP TABLE cpu`)
		if code != 200 && !strings.Contains(body, "stable") && !strings.Contains(body, "NODE_DOWN") && !strings.Contains(body, "not heartbeating") {
			t.Fatalf("DROP TABLE: %d %s", code, body)
		}
		return code == 200
	})
	if code, body := owner.sql(`SELECT * FROM cpu`); code != 400 {
		t.Errorf("SELECT after DROP: %d %s", code, body)
	}
	if code, body := owner.sql(`DROP TABLE IF EXISTS cpu`); code != 200 {
		t.Errorf("DROP TABLE IF EXISTS: %d %s", code, body)
	}
}
