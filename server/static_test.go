package server

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/router"
	"github.com/horaego/horaedb/server/config"
	"github.com/horaego/horaedb/server/grpcapi"
)

// staticConfig is a NoMeta config whose schema public has one shard per
// node, in the order of ports, and no rules: hash % len(ports).
func staticConfig(ports []int) config.Config {
	cfg := config.Default()
	view := config.SchemaShardView{Schema: "public"}
	for i, p := range ports {
		view.ShardViews = append(view.ShardViews, config.ShardView{ShardID: uint32(i),
			Endpoint: config.EndpointConfig{Addr: "127.0.0.1", Port: p}})
	}
	cfg.ClusterDeployment.NoMeta.Topology.SchemaShards = []config.SchemaShardView{view}
	return cfg
}

// startStaticCluster starts one NoMeta node per shard of a static
// topology over loopback.
func startStaticCluster(t *testing.T, nodes int) []*clusterNode {
	t.Helper()
	lns := make([]net.Listener, nodes)
	ports := make([]int, nodes)
	for i := range lns {
		lns[i] = listen(t)
		ports[i] = lns[i].Addr().(*net.TCPAddr).Port
	}
	cfg := staticConfig(ports)
	out := make([]*clusterNode, nodes)
	for i := range out {
		n := &clusterNode{t: t, cfg: cfg, dir: t.TempDir()}
		n.start(lns[i])
		t.Cleanup(func() {
			if n.s != nil {
				_ = n.s.Close()
			}
		})
		out[i] = n
	}
	return out
}

// hasTable reports whether n's engine holds a table.
func hasTable(n *clusterNode, database, table string) bool {
	n.s.mu.Lock()
	e := n.s.mu.engine
	n.s.mu.Unlock()
	_, err := e.Table(database, table)
	return err == nil
}

// tableOn returns a table name of the given prefix that hashes to shard
// (of n shards).
func tableOn(prefix string, shard, n int) string {
	for i := 0; ; i++ {
		name := fmt.Sprintf("%s%d", prefix, i)
		if router.HashTable(name)%uint64(n) == uint64(shard) {
			return name
		}
	}
}

// TestStaticCluster: two NoMeta nodes with one shard each. DDL, writes and
// queries sent to either node land on the table's owner by upstream's
// hash; Route and GET /route name it; a write naming tables of both nodes
// is split; a request already forwarded that misses is answered 302;
// tables of a schema outside the topology stay where they are written.
func TestStaticCluster(t *testing.T) {
	nodes := startStaticCluster(t, 2)
	a, b := nodes[0], nodes[1]
	onA, onB := tableOn("a", 0, 2), tableOn("b", 1, 2)
	ddl := `CREATE TABLE %s (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`

	// CREATE through the other node runs on the owner.
	for _, tc := range []struct {
		via   *clusterNode
		table string
	}{{b, onA}, {a, onB}} {
		if code, body := tc.via.sql(fmt.Sprintf(ddl, tc.table)); code != 200 {
			t.Fatalf("CREATE TABLE %s: %d %s", tc.table, code, body)
		}
	}
	if code, body := a.sql(`SHOW TABLES`); code != 200 || !strings.Contains(body, onA) || strings.Contains(body, onB) {
		t.Errorf("SHOW TABLES on a (local tables): %d %s; want %s and not %s", code, body, onA, onB)
	}
	if code, body := b.sql(`SHOW TABLES`); code != 200 || !strings.Contains(body, onB) || strings.Contains(body, onA) {
		t.Errorf("SHOW TABLES on b (local tables): %d %s; want %s and not %s", code, body, onB, onA)
	}
	if code, body := a.sql(fmt.Sprintf(ddl, onB)); code == 200 || !strings.Contains(body, "already exists") {
		t.Errorf("CREATE TABLE %s again through a: %d %s; want the owner's 'already exists'", onB, code, body)
	}

	// GET /debug/shards: each node's shard and its tables.
	if code, body := get(t, a.url+"/debug/shards"); code != 200 ||
		body != fmt.Sprintf(`[{"shard_id":0,"schema":"public","tables":["public.%s"]}]`, onA) {
		t.Errorf("GET /debug/shards on a: %d %s", code, body)
	}

	// Route and GET /route name the owner, from either node.
	for _, n := range nodes {
		if got := grpcRoute(t, n, onB); got != b.endpoint() {
			t.Errorf("Route(%s) on %s = %s, want %s", onB, n.endpoint(), got, b.endpoint())
		}
		if got := httpRoute(t, n, onA); got != a.endpoint() {
			t.Errorf("GET /route/%s on %s = %s, want %s", onA, n.endpoint(), got, a.endpoint())
		}
	}

	// INSERT and SELECT through the non-owner.
	if code, body := a.sql(fmt.Sprintf(`INSERT INTO %s (t, host, v) VALUES (1000, 'x', 1)`, onB)); code != 200 {
		t.Fatalf("INSERT through a: %d %s", code, body)
	}
	// A gRPC write naming a table of each node is split by owner.
	w := cpuWrite(2000, "y", 2)
	w.TableRequests[0].Table = onA
	w2 := cpuWrite(3000, "z", 3)
	w2.TableRequests[0].Table = onB
	w.TableRequests = append(w.TableRequests, w2.TableRequests...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wr, err := storageClient(t, a).Write(ctx, w)
	if err != nil || wr.GetHeader().GetCode() != 200 || wr.GetSuccess() != 2 {
		t.Fatalf("Write of both tables through a: %v %v", wr, err)
	}
	for _, tc := range []struct {
		owner *clusterNode
		table string
		want  string
	}{
		{b, onB, `{"rows":[{"t":1000,"host":"x","v":1.0},{"t":3000,"host":"z","v":3.0}]}`},
		{a, onA, `{"rows":[{"t":2000,"host":"y","v":2.0}]}`},
	} {
		q := fmt.Sprintf(`SELECT t, host, v FROM %s ORDER BY t`, tc.table)
		for _, via := range nodes {
			if code, body := via.sql(q); code != 200 || body != tc.want {
				t.Errorf("%s through %s: %d %s, want %s", q, via.endpoint(), code, body, tc.want)
			}
		}
		// Only the owner holds the rows: its engine has the table.
		other := a
		if tc.owner == a {
			other = b
		}
		if hasTable(other, "public", tc.table) {
			t.Errorf("%s exists on %s, which does not own it", tc.table, other.endpoint())
		}
	}

	// A statement over tables of two nodes is refused, naming them.
	if code, body := a.sql(fmt.Sprintf(`SELECT * FROM %s, %s`, onA, onB)); code != 400 || !strings.Contains(body, "served by different nodes") {
		t.Errorf("join across nodes: %d %s, want 400", code, body)
	}

	// Already forwarded and missing again: 302, nothing written.
	fctx := metadata.AppendToOutgoingContext(ctx, grpcapi.ForwardedFromKey, "10.0.0.9:8831")
	if wr, err := storageClient(t, a).Write(fctx, w2); err != nil || wr.GetHeader().GetCode() != 302 {
		t.Errorf("forwarded Write to the non-owner: %v %v, want 302", wr, err)
	}

	// DROP through the non-owner drops on the owner.
	if code, body := b.sql(`DROP TABLE ` + onA); code != 200 {
		t.Fatalf("DROP TABLE %s through b: %d %s", onA, code, body)
	}
	if hasTable(a, "public", onA) {
		t.Errorf("%s still exists on its owner after DROP through b", onA)
	}

	// InfluxDB line protocol and OpenTSDB puts through the non-owner land
	// on the owner, mixed with tables of this node in one request.
	now := time.Now().Add(-time.Minute).Truncate(time.Second)
	mOnA, mOnB := tableOn("m", 0, 2), tableOn("m", 1, 2)
	lines := fmt.Sprintf("%s,host=x v=1.5 %d\n%s,host=y v=2i %d\n", mOnB, now.UnixNano(), mOnA, now.UnixNano())
	if code, body := post(t, b.url+"/influxdb/v1/write?db=public", lines); code != 204 {
		t.Fatalf("line protocol through b: %d %s", code, body)
	}
	if !hasTable(b, "public", mOnB) || hasTable(b, "public", mOnA) || !hasTable(a, "public", mOnA) {
		t.Errorf("line protocol: %s should be on b only and %s on a only", mOnB, mOnA)
	}
	for _, tc := range []struct{ table, want string }{{mOnB, `"v":1.5`}, {mOnA, `"v":2`}} {
		if code, body := a.sql(`SELECT host, v FROM ` + tc.table); code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s after the line protocol write: %d %s", tc.table, code, body)
		}
	}
	tsdbOnB := tableOn("sys.cpu.", 1, 2)
	put := fmt.Sprintf(`{"metric":%q,"timestamp":%d,"value":7,"tags":{"host":"z"}}`, tsdbOnB, now.Unix())
	if code, body := post(t, a.url+"/opentsdb/api/put", put); code != 204 && code != 200 {
		t.Fatalf("OpenTSDB put through a: %d %s", code, body)
	}
	if !hasTable(b, "public", tsdbOnB) || hasTable(a, "public", tsdbOnB) {
		t.Errorf("OpenTSDB put: %s should be on b only", tsdbOnB)
	}

	// A schema outside the topology is each node's own.
	for _, n := range nodes {
		req := &storagepb.WriteRequest{Context: &storagepb.RequestContext{Database: "local"},
			TableRequests: cpuWrite(1, "h", 1).TableRequests}
		if wr, err := storageClient(t, n).Write(ctx, req); err != nil || wr.GetHeader().GetCode() != 200 {
			t.Fatalf("Write to schema local on %s: %v %v", n.endpoint(), wr, err)
		}
		if !hasTable(n, "local", "cpu") {
			t.Errorf("schema local: cpu not created on %s, which received it", n.endpoint())
		}
	}
}

// TestStaticClusterOwnerDown: while a table's owner is down, requests for
// it through the other node fail with 503 (retryable) and leave nothing
// behind; when it is back they succeed, with the rows written before.
func TestStaticClusterOwnerDown(t *testing.T) {
	nodes := startStaticCluster(t, 2)
	a, b := nodes[0], nodes[1]
	onB := tableOn("b", 1, 2)
	if code, body := a.sql(fmt.Sprintf(`CREATE TABLE %s (v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`, onB)); code != 200 {
		t.Fatalf("CREATE: %d %s", code, body)
	}
	if code, body := a.sql(fmt.Sprintf(`INSERT INTO %s (t, v) VALUES (1, 1)`, onB)); code != 200 {
		t.Fatalf("INSERT: %d %s", code, body)
	}
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	b.s = nil
	if code, body := a.sql(fmt.Sprintf(`INSERT INTO %s (t, v) VALUES (2, 2)`, onB)); code != 503 || !strings.Contains(body, b.endpoint()) {
		t.Errorf("INSERT while the owner is down: %d %s, want 503 naming %s", code, body, b.endpoint())
	}
	if hasTable(a, "public", onB) {
		t.Errorf("the failed forward created %s on the non-owner", onB)
	}
	b.restart()
	waitFor(t, 30*time.Second, "the write through a to succeed again", func() bool {
		code, _ := a.sql(fmt.Sprintf(`INSERT INTO %s (t, v) VALUES (3, 3)`, onB))
		return code == 200
	})
	if code, body := a.sql(fmt.Sprintf(`SELECT t, v FROM %s ORDER BY t`, onB)); code != 200 ||
		body != `{"rows":[{"t":1,"v":1.0},{"t":3,"v":3.0}]}` {
		t.Errorf("rows after the owner came back: %d %s", code, body)
	}
}
