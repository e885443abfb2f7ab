//go:build integration

package integration_tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// staticTopology is the [cluster_deployment] of a NoMeta cluster whose
// schema public has one shard per node (shard i on nodes[i]) and a prefix
// rule sending tables named BIZ* to the last shard, as upstream's
// docs/example-standalone-static-routing.toml writes it.
func staticTopology(nodes []*Node) string {
	var b strings.Builder
	b.WriteString("[cluster_deployment]\nmode = \"NoMeta\"\n\n[[cluster_deployment.topology.schema_shards]]\nschema = 'public'\n")
	for i, n := range nodes {
		fmt.Fprintf(&b, "[[cluster_deployment.topology.schema_shards.shard_views]]\nshard_id = %d\n"+
			"[cluster_deployment.topology.schema_shards.shard_views.endpoint]\naddr = '127.0.0.1'\nport = %d\n",
			i, n.Ports.GRPC)
	}
	fmt.Fprintf(&b, "\n[[cluster_deployment.rules.prefix_rules]]\nschema = 'public'\nprefix = 'BIZ'\nshard = %d\n", len(nodes)-1)
	return b.String()
}

// startStaticCluster starts n NoMeta nodes sharing one static topology.
func startStaticCluster(t *testing.T, n int) []*Node {
	t.Helper()
	nodes := make([]*Node, n)
	for i := range nodes {
		nodes[i] = NewNode(t, NodeOptions{})
	}
	top := staticTopology(nodes)
	for _, nd := range nodes {
		appendConfig(t, nd, top)
	}
	for _, nd := range nodes {
		nd.Start()
	}
	return nodes
}

// appendConfig appends s to n's config file (before n starts).
func appendConfig(t testing.TB, n *Node, s string) {
	t.Helper()
	f, err := os.OpenFile(n.ConfigPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("\n" + s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// routeOf asks n's GET /route/{table} for the table's owner.
func routeOf(t testing.TB, n *Node, nodes []*Node, table string) *Node {
	t.Helper()
	code, body, err := n.Get(context.Background(), "/route/"+table)
	var r struct {
		Routes []struct {
			Endpoint struct {
				Addr string
				Port int
			}
		}
	}
	if err != nil || code != 200 || json.Unmarshal(body, &r) != nil || len(r.Routes) != 1 {
		t.Fatalf("GET /route/%s on %s: %d %s %v", table, n.URL, code, body, err)
	}
	for _, nd := range nodes {
		if nd.Ports.GRPC == r.Routes[0].Endpoint.Port {
			return nd
		}
	}
	t.Fatalf("GET /route/%s: %s is no node of the cluster", table, body)
	return nil
}

// victimTable is a table of names owned by victim.
func victimTable(names []string, owners map[string]*Node, victim *Node) string {
	for _, name := range names {
		if owners[name] == victim {
			return name
		}
	}
	return names[0]
}

// TestStaticCluster runs three NoMeta nodes with one static topology
// (upstream's placement: a prefix rule, then the hash). Tables created,
// written and read through any node land on and are served by their
// owner. When an owner is SIGKILLed, requests for its tables through the
// other nodes fail with 503 and leave nothing behind while the other
// tables keep working; restarted, it has every acknowledged row.
func TestStaticCluster(t *testing.T) {
	nodes := startStaticCluster(t, 3)
	const tables = 24
	names := make([]string, tables)
	for i := range names {
		names[i] = fmt.Sprintf("st%02d", i)
		if i%8 == 0 {
			names[i] = fmt.Sprintf("BIZ_%02d", i)
		}
	}
	owners := map[string]*Node{}
	var mu sync.Mutex // guards want during parallel steps
	want := map[string]int{}

	step(t, "create and write through every node", func() {
		parallel(tables, func(i int) {
			via := nodes[i%3]
			if code, body, err := via.SQL(context.Background(), fmt.Sprintf(clusterDDL, names[i])); err != nil || code != 200 {
				t.Errorf("create %s through %s: %d %s %v", names[i], via.URL, code, body, err)
				return
			}
			writeRows(t, nodes[(i+1)%3], names[i], 0, 3)
		})
		for _, name := range names {
			owners[name] = routeOf(t, nodes[0], nodes, name)
			want[name] = 3
			if other := routeOf(t, nodes[2], nodes, name); other != owners[name] {
				t.Errorf("%s: node 0 routes it to %s, node 2 to %s", name, owners[name].URL, other.URL)
			}
		}
	})

	step(t, "placement", func() {
		perNode := map[*Node]int{}
		for _, name := range names {
			owner := owners[name]
			perNode[owner]++
			if strings.HasPrefix(name, "BIZ") && owner != nodes[2] {
				t.Errorf("%s (prefix rule BIZ → shard 2) is on %s", name, owner.URL)
			}
			for _, n := range nodes {
				code, body, err := n.SQL(context.Background(), "SHOW TABLES")
				if err != nil || code != 200 {
					t.Fatalf("SHOW TABLES on %s: %d %s %v", n.URL, code, body, err)
				}
				if has := strings.Contains(string(body), `"`+name+`"`); has != (n == owner) {
					t.Errorf("%s listed on %s: %v; its owner is %s", name, n.URL, has, owner.URL)
				}
			}
		}
		if len(perNode) != 3 {
			t.Errorf("tables on %d nodes, want all 3: %v", len(perNode), perNode)
		}
		for _, n := range nodes {
			for _, name := range names {
				checkRows(t, n, name, 3) // read through every node
			}
		}
	})

	victim := nodes[1]
	var refused time.Duration // the slowest answer for a table of the victim
	step(t, "an owner is SIGKILLed", func() {
		victim.Kill()
		parallel(tables, func(i int) {
			name := names[i]
			via := nodes[0]
			if i%2 == 1 {
				via = nodes[2]
			}
			start := time.Now()
			code, body, err := via.SQL(context.Background(), fmt.Sprintf(
				"INSERT INTO %s (host, v, t) VALUES ('h0', 3.5, %d)", name, clusterTS(3)))
			if owners[name] == victim {
				mu.Lock()
				refused = max(refused, time.Since(start))
				mu.Unlock()
			}
			switch {
			case err != nil:
				t.Errorf("insert into %s through %s: %v", name, via.URL, err)
			case owners[name] == victim:
				if code != 503 {
					t.Errorf("insert into %s (owner down) through %s: %d %s, want 503", name, via.URL, code, body)
				}
			case code != 200:
				t.Errorf("insert into %s (owner up) through %s: %d %s", name, via.URL, code, body)
			default:
				mu.Lock()
				want[name] = 4
				mu.Unlock()
			}
		})
		t.Logf("writes for the dead owner's tables refused within %s", refused.Round(time.Millisecond))
	})

	step(t, "the owner restarts with every acknowledged row", func() {
		victim.Restart()
		// The other nodes dial a failed owner again at most every 200ms.
		back := time.Now()
		for _, n := range []*Node{nodes[0], nodes[2]} {
			waitFor(t, 10*time.Second, "the restarted owner to be reachable through "+n.URL, func() bool {
				code, _, err := n.SQL(context.Background(), "SELECT count(*) FROM "+victimTable(names, owners, victim))
				return err == nil && code == 200
			})
		}
		t.Logf("the restarted owner was reachable through both other nodes after %s", time.Since(back).Round(time.Millisecond))
		for _, name := range names {
			if owners[name] == victim {
				checkRows(t, nodes[2], name, 3) // the refused insert left nothing
				writeRows(t, nodes[0], name, 3, 1)
				want[name] = 4
			}
		}
		for i, name := range names {
			checkRows(t, nodes[i%3], name, want[name])
		}
		for _, n := range []*Node{nodes[0], nodes[2]} {
			_, body, _ := n.SQL(context.Background(), "SHOW TABLES")
			for _, name := range names {
				if owners[name] == victim && strings.Contains(string(body), `"`+name+`"`) {
					t.Errorf("%s was created on %s while its owner was down", name, n.URL)
				}
			}
		}
	})
	start := time.Now()
	for _, n := range nodes {
		n.Stop()
	}
	t.Logf("stopped in %s", time.Since(start).Round(time.Millisecond))
}
