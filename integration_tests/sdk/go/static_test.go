package sdk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CeresDB/horaedb-client-go/horaedb"
)

// staticCluster is what TestSDKStaticCluster works with: its nodes, whose
// node i serves shard i of schema public, and the tables it writes.
type staticCluster struct {
	nodes  []*node
	tables []string
	now    int64 // the newest timestamp written, ms
}

// startStaticCluster starts n nodes of a NoMeta static cluster: shard i of
// schema public on node i, no rules, so a table's shard is its hash modulo
// n. Every node gets the same topology, which names every node's gRPC port
// before any starts.
func startStaticCluster(t *testing.T, n int) []*node {
	t.Helper()
	ports := freePorts(t, 4*n)
	var topo strings.Builder
	topo.WriteString(`
[cluster_deployment]
mode = "NoMeta"

[[cluster_deployment.topology.schema_shards]]
schema = "public"
`)
	for i := range n {
		fmt.Fprintf(&topo, `
[[cluster_deployment.topology.schema_shards.shard_views]]
shard_id = %d
[cluster_deployment.topology.schema_shards.shard_views.endpoint]
addr = "127.0.0.1"
port = %d
`, i, ports[4*i+1])
	}
	nodes := make([]*node, n)
	for i := range n {
		nodes[i] = startNodeOn(t, ports[4*i:4*i+4], topo.String())
	}
	return nodes
}

// TestSDKStaticCluster runs the SDK against three nodes of a static
// cluster, one shard each: Direct mode writes a dozen tables through node
// 0, and every table reads back the same in Direct mode and in Proxy mode
// through node 0 and node 2; each table lives on the node GET /route names
// and no other; Direct mode sends each table to its owner, so no node
// forwards anything, while Proxy mode through node 0 makes node 0 forward
// what it does not own.
func TestSDKStaticCluster(t *testing.T) {
	c := &staticCluster{nodes: startStaticCluster(t, 3), now: time.Now().UnixMilli()}
	for i := range 12 {
		c.tables = append(c.tables, fmt.Sprintf("sdk_static_%d", i))
	}
	direct := newClient(t, c.nodes[0], horaedb.Direct)
	proxy0 := newClient(t, c.nodes[0], horaedb.Proxy)
	proxy2 := newClient(t, c.nodes[2], horaedb.Proxy)

	c.write(t, direct, 0)
	for _, r := range []struct {
		name   string
		client horaedb.Client
	}{{"Direct", direct}, {"Proxy via node 0", proxy0}, {"Proxy via node 2", proxy2}} {
		t.Run("read "+r.name, func(t *testing.T) { c.check(t, r.client, 1) })
	}

	var owners []int // of each table, an index into c.nodes
	t.Run("placement", func(t *testing.T) { owners = c.checkPlacement(t) })
	if t.Failed() {
		return
	}

	t.Run("Direct does not forward", func(t *testing.T) {
		before := c.forwarded(t)
		c.write(t, direct, 1)
		c.check(t, direct, 2)
		after := c.forwarded(t)
		for i := range c.nodes {
			if after[i] != before[i] {
				t.Errorf("node %d forwarded (Write, SqlQuery, StreamSqlQuery) %v before, %v after", i, before[i], after[i])
			}
		}
	})
	t.Run("Proxy via node 0 forwards", func(t *testing.T) {
		// One Write whose tables node 0 splits by owner, one part per
		// other owner; two queries per table, forwarded when it is not
		// node 0's.
		wantParts, wantQueries := map[int]bool{}, 0
		for _, o := range owners {
			if o != 0 {
				wantParts[o] = true
				wantQueries += 2
			}
		}
		before := c.forwarded(t)
		c.write(t, proxy0, 2)
		c.check(t, proxy0, 3)
		after := c.forwarded(t)
		if got := after[0][0] - before[0][0]; got != float64(len(wantParts)) {
			t.Errorf("node 0 forwarded %v Write parts, want %d", got, len(wantParts))
		}
		if got := after[0][1] + after[0][2] - before[0][1] - before[0][2]; got != float64(wantQueries) {
			t.Errorf("node 0 forwarded %v queries, want %d", got, wantQueries)
		}
		for i := 1; i < len(c.nodes); i++ {
			if after[i] != before[i] {
				t.Errorf("node %d forwarded %v before, %v after", i, before[i], after[i])
			}
		}
	})
}

// The rows of round k of c.write: per table, one point per host, the
// newest first.
var staticHosts = []string{"a", "b", "c"}

func (c *staticCluster) ts(round, host int) int64 {
	return c.now - int64(round*len(staticHosts)+host)
}

func staticValue(round, table, host int) float64 {
	return float64(round*1000+table*10+host) + 0.5
}

// write writes round k of the points of every table in one Write.
func (c *staticCluster) write(t *testing.T, client horaedb.Client, round int) {
	t.Helper()
	var points []horaedb.Point
	for i, table := range c.tables {
		for h, host := range staticHosts {
			points = append(points, point(t, table, c.ts(round, h), map[string]string{"host": host},
				map[string]horaedb.Value{"v": horaedb.NewDoubleValue(staticValue(round, i, h))}))
		}
	}
	if resp := write(t, client, points...); resp.Success != uint32(len(points)) || resp.Failed != 0 {
		t.Fatalf("Write of round %d: %+v", round, resp)
	}
}

// check reads every table back: the count, then the rows of rounds
// 0..rounds-1.
func (c *staticCluster) check(t *testing.T, client horaedb.Client, rounds int) {
	t.Helper()
	for i, table := range c.tables {
		q := query(t, client, table, "SELECT count(1) AS n FROM "+table)
		if len(q.Rows) != 1 {
			t.Errorf("%s: count: %d rows", table, len(q.Rows))
		} else if col, _ := q.Rows[0].Column("n"); fmt.Sprint(col.Value().AnyValue()) != strconv.Itoa(rounds*len(staticHosts)) {
			t.Errorf("%s: count %s, want %d", table, render(col.Value()), rounds*len(staticHosts))
		}
		var want, got []string
		for k := range rounds {
			for h, host := range staticHosts {
				want = append(want, fmt.Sprintf("host=string:%s v=float64:%v timestamp=int64:%d",
					host, staticValue(k, i, h), c.ts(k, h)))
			}
		}
		for _, r := range query(t, client, table, "SELECT host, v, timestamp FROM "+table+" ORDER BY timestamp DESC").Rows {
			got = append(got, renderRow(r, "host", "v", "timestamp"))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s rows:\n%s\nwant:\n%s", table, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// checkPlacement asks each table's owner of GET /route (of a different
// node per table) and checks that SHOW TABLES lists it on the owner only,
// and that the tables are spread over more than one node. It returns the
// owner of each table.
func (c *staticCluster) checkPlacement(t *testing.T) []int {
	t.Helper()
	shown := make([]map[string]bool, len(c.nodes))
	for i, n := range c.nodes {
		shown[i] = n.showTables(t)
	}
	owners := make([]int, len(c.tables))
	used := map[int]bool{}
	for i, table := range c.tables {
		owners[i] = c.owner(t, c.nodes[i%len(c.nodes)], table)
		used[owners[i]] = true
		for j := range c.nodes {
			if shown[j][table] != (j == owners[i]) {
				t.Errorf("%s: owner node %d; SHOW TABLES on node %d lists it: %v", table, owners[i], j, shown[j][table])
			}
		}
	}
	t.Logf("owners of %v: %v", c.tables, owners)
	if len(used) < 2 {
		t.Errorf("every table is on node(s) %v", used)
	}
	return owners
}

// owner returns the index of the node GET /route/{table} on n names.
func (c *staticCluster) owner(t *testing.T, n *node, table string) int {
	t.Helper()
	var body struct {
		Routes []struct {
			Table    string `json:"table"`
			Endpoint struct {
				Addr string `json:"addr"`
				Port int    `json:"port"`
			} `json:"endpoint"`
		} `json:"routes"`
	}
	n.doJSON(t, http.MethodGet, "/route/"+url.PathEscape(table), "", &body)
	if len(body.Routes) != 1 || body.Routes[0].Table != table {
		t.Fatalf("GET /route/%s: %+v", table, body)
	}
	ep := fmt.Sprintf("%s:%d", body.Routes[0].Endpoint.Addr, body.Routes[0].Endpoint.Port)
	for i, o := range c.nodes {
		if o.grpcAddr == ep {
			return i
		}
	}
	t.Fatalf("GET /route/%s names %s, no node of the cluster", table, ep)
	return -1
}

// forwarded returns, per node, horaedb_grpc_forwarded_total of Write,
// SqlQuery and StreamSqlQuery.
func (c *staticCluster) forwarded(t *testing.T) [][3]float64 {
	t.Helper()
	out := make([][3]float64, len(c.nodes))
	for i, n := range c.nodes {
		for j, method := range []string{"Write", "SqlQuery", "StreamSqlQuery"} {
			v := n.metric(t, `horaedb_grpc_forwarded_total{method="`+method+`"}`)
			if v == "" {
				continue // not forwarded yet
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("node %d: forwarded %s: %q", i, method, v)
			}
			out[i][j] = f
		}
	}
	return out
}

// showTables returns the tables SHOW TABLES over HTTP /sql lists on n.
func (n *node) showTables(t *testing.T) map[string]bool {
	t.Helper()
	var body struct {
		Rows []map[string]any `json:"rows"`
	}
	n.doJSON(t, http.MethodPost, "/sql", `{"query": "SHOW TABLES"}`, &body)
	tables := map[string]bool{}
	for _, r := range body.Rows {
		if len(r) != 1 {
			t.Fatalf("SHOW TABLES row %v", r)
		}
		for _, v := range r {
			tables[fmt.Sprint(v)] = true
		}
	}
	return tables
}

// doJSON sends a request to n's HTTP API and decodes its 200 answer.
func (n *node) doJSON(t *testing.T, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), method, n.httpURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s %v", method, path, resp.StatusCode, raw, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: %s: %v", method, path, raw, err)
	}
}
