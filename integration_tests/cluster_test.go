//go:build integration

package integration_tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The cluster tests run HoraeMeta and three WithMeta data nodes as
// processes (cluster_harness.go). Data nodes do not forward requests yet,
// so every write and query goes to the table's owner, found through
// HoraeMeta's route API, as an SDK would.

const clusterDDL = `CREATE TABLE %s (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) ENGINE=Analytic WITH (enable_ttl='false')`

// clusterTS is the timestamp of row i of every table.
func clusterTS(i int) int64 { return baseTimestamp + int64(i)*1000 }

// writeRows inserts rows from..from+count-1 into table on n in one
// statement and fails the test unless it is acknowledged.
func writeRows(t testing.TB, n *Node, table string, from, count int) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (host, v, t) VALUES ", table)
	for i := from; i < from+count; i++ {
		if i > from {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "('h%d', %d.5, %d)", i%3, i, clusterTS(i))
	}
	code, body, err := n.SQL(context.Background(), b.String())
	if err != nil || code != 200 {
		t.Errorf("insert into %s on %s: %d %s %v", table, n.URL, code, body, err)
	}
}

// checkRows queries table on n and fails the test unless it holds exactly
// rows 0..want-1.
func checkRows(t testing.TB, n *Node, table string, want int) {
	t.Helper()
	code, body, err := n.SQL(context.Background(), "SELECT t, v FROM "+table+" ORDER BY t")
	if err != nil || code != 200 {
		t.Errorf("select from %s on %s: %d %s %v", table, n.URL, code, body, err)
		return
	}
	var res struct {
		Rows []struct {
			T int64   `json:"t"`
			V float64 `json:"v"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Errorf("select from %s: %v: %.300s", table, err, body)
		return
	}
	if len(res.Rows) != want {
		t.Errorf("%s on %s: %d rows, want %d: %.300s", table, n.URL, len(res.Rows), want, body)
		return
	}
	for i, r := range res.Rows {
		if r.T != clusterTS(i) || r.V != float64(i)+0.5 {
			t.Errorf("%s row %d: t=%d v=%v, want t=%d v=%v", table, i, r.T, r.V, clusterTS(i), float64(i)+0.5)
			return
		}
	}
}

// step runs one phase of a test that builds on the previous ones; the
// test stops after a phase that failed. (Not a subtest: the processes
// belong to the test, and the harness fails the test that owns them.)
func step(t *testing.T, name string, fn func()) {
	t.Helper()
	t.Logf("=== %s", name)
	start := time.Now()
	fn()
	t.Logf("--- %s: %s", name, time.Since(start).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}
}

// parallel runs fn(i) for i in 0..n-1 on a few goroutines.
func parallel(n int, fn func(i int)) {
	const workers = 4
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// checkAll checks every table's rows on its owner; the owners must not
// have changed (static topology).
func checkAll(t *testing.T, c *Cluster, want map[string]int, owners map[string]*Node) {
	t.Helper()
	tables := make([]string, 0, len(want))
	for tb := range want {
		tables = append(tables, tb)
	}
	slices.Sort(tables)
	now := c.Owners(t, tables...)
	parallel(len(tables), func(i int) {
		tb := tables[i]
		if owners != nil && now[tb] != owners[tb] {
			t.Errorf("%s moved from %s to %s", tb, owners[tb].URL, now[tb].URL)
		}
		checkRows(t, now[tb], tb, want[tb])
	})
}

// seedNodeConfig is the deployment guide's complete WithMeta config
// (testdata/seed-withmeta.toml, copied verbatim from the guide's section
// 完整配置) with only ports and directories substituted: the HTTP and gRPC
// ports, the MySQL and PostgreSQL ports (the guide leaves them at their
// defaults, which three nodes on one host cannot share), HoraeMeta's
// address and the data directory.
func seedNodeConfig(t testing.TB, metaAddr string) NodeOptions {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "seed-withmeta.toml"))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	return NodeOptions{ConfigOnly: true, Config: func(p Ports) string {
		r := strings.NewReplacer(
			"http_port = 5440", fmt.Sprintf("http_port = %d\nmysql_port = %d\npostgresql_port = %d", p.HTTP, p.MySQL, p.PostgreSQL),
			"grpc_port = 8831", fmt.Sprintf("grpc_port = %d", p.GRPC),
			"127.0.0.1:2379", metaAddr,
			"/home/admin/data/horaedb", dataDir,
		)
		cfg := r.Replace(string(raw))
		// (What was replaced, not bare numbers: a free port may contain them.)
		for _, s := range []string{"= 5440", "= 8831", "127.0.0.1:2379", "/home/admin"} {
			if strings.Contains(cfg, s) {
				t.Fatalf("seed config: %q left after substitution:\n%s", s, cfg)
			}
		}
		return cfg
	}}
}

// TestClusterWithMeta runs one HoraeMeta and three data nodes configured
// with the deployment guide's complete config, then, in order: 100 tables
// created through all nodes, written and read back through their owners;
// a data node SIGKILLed and restarted; HoraeMeta SIGKILLed and restarted.
func TestClusterWithMeta(t *testing.T) {
	c := StartCluster(t, ClusterOptions{NodeOptions: func(_ int, metaAddr string) NodeOptions {
		return seedNodeConfig(t, metaAddr)
	}})
	rows := map[string]int{} // table → acknowledged rows 0..n-1
	var owners map[string]*Node

	step(t, "SeedConfig", func() {
		c.Nodes[0].MustSQL(fmt.Sprintf(clusterDDL, "seed"))
		owner := c.Owner(t, "seed")
		writeRows(t, owner, "seed", 0, 3)
		checkRows(t, owner, "seed", 3)
		rows["seed"] = 3
	})

	step(t, "HundredTables", func() {
		const n = 100
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("t%03d", i)
		}
		start := time.Now()
		parallel(n, func(i int) {
			node := c.Nodes[i%len(c.Nodes)]
			code, body, err := node.SQL(context.Background(), fmt.Sprintf(clusterDDL, names[i]))
			if err != nil || code != 200 {
				t.Errorf("create %s on %s: %d %s %v", names[i], node.URL, code, body, err)
			}
		})
		t.Logf("created %d tables in %s", n, time.Since(start).Round(time.Millisecond))
		if t.Failed() {
			return
		}
		owners = c.Owners(t, names...)
		perNode := map[*Node]int{}
		for _, tb := range names {
			perNode[owners[tb]]++
		}
		for i, node := range c.Nodes {
			t.Logf("node %d owns %d tables", i, perNode[node])
		}
		if len(perNode) != len(c.Nodes) {
			t.Errorf("tables on %d nodes, want all %d", len(perNode), len(c.Nodes))
		}
		parallel(n, func(i int) {
			writeRows(t, owners[names[i]], names[i], 0, 5)
		})
		for _, tb := range names {
			rows[tb] = 5
		}
		owners["seed"] = c.Owner(t, "seed")
		checkAll(t, c, rows, owners)
	})

	step(t, "DataNodeCrash", func() {
		victim := c.Nodes[1]
		var mine []string
		for tb, n := range owners {
			if n == victim {
				mine = append(mine, tb)
			}
		}
		// Acknowledged just before the crash: must survive it.
		parallel(len(mine), func(i int) { writeRows(t, victim, mine[i], rows[mine[i]], 2) })
		for _, tb := range mine {
			rows[tb] += 2
		}
		victim.Kill()
		start := time.Now()
		victim.Restart()
		c.WaitRejoined(t, victim, start)
		t.Logf("node restarted, its %d tables served again after %s", len(mine), time.Since(start).Round(time.Millisecond))
		checkAll(t, c, rows, owners)
		// It takes writes again.
		writeRows(t, victim, mine[0], rows[mine[0]], 1)
		rows[mine[0]]++
		checkRows(t, victim, mine[0], rows[mine[0]])
	})

	step(t, "MetaRestart", func() {
		m := c.Metas[0]
		m.Kill()
		restarted := time.Now()
		m.Restart()
		// Every node heartbeats to the new process.
		waitFor(t, stableTimeout, "all nodes heartbeating to the restarted meta", func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			nodes, err := m.Admin.Nodes(ctx, clusterName)
			if err != nil {
				return false
			}
			fresh := 0
			for _, n := range nodes {
				if n.Alive && n.LastHeartbeat.After(restarted) {
					fresh++
				}
			}
			return fresh == len(c.Nodes)
		})
		c.WaitStable(t)
		t.Logf("meta restarted, cluster stable again after %s", time.Since(restarted).Round(time.Millisecond))
		checkAll(t, c, rows, owners)
		// DDL works again.
		c.Nodes[2].MustSQL(fmt.Sprintf(clusterDDL, "after_meta_restart"))
		owner := c.Owner(t, "after_meta_restart")
		writeRows(t, owner, "after_meta_restart", 0, 2)
		checkRows(t, owner, "after_meta_restart", 2)
	})
}

// createWithRetry creates table through n, retrying failures as a user
// would until deadline: after a failed attempt, "already exists" means an
// earlier attempt went through. It returns the number of retries.
func createWithRetry(t testing.TB, n *Node, table string, deadline time.Time) int {
	t.Helper()
	for retries := 0; ; retries++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		code, body, err := n.SQL(ctx, fmt.Sprintf(clusterDDL, table))
		cancel()
		if err == nil && (code == 200 || retries > 0 && strings.Contains(string(body), "already exists")) {
			return retries
		}
		if time.Now().After(deadline) {
			t.Errorf("create %s on %s: still failing after %d retries: %d %s %v", table, n.URL, retries, code, body, err)
			return retries
		}
		<-time.After(200 * time.Millisecond)
	}
}

// TestClusterMetaLeaderFailover runs three HoraeMeta members and three data
// nodes (whose meta_addr lists every member, the leader first), SIGKILLs the meta leader while tables
// are being created through all nodes, and checks that every CREATE
// completes (retried by the client where it failed) once a new leader is
// elected, that each table exists exactly once on one shard of the node
// that serves it, and that the tables take writes and queries. The killed
// member then rejoins.
func TestClusterMetaLeaderFailover(t *testing.T) {
	c := StartCluster(t, ClusterOptions{
		Meta: MetaOptions{Members: 3},
		// Every member, the leader first: when it dies the nodes move on
		// to a follower, which forwards to the new leader.
		MetaAddr: func(metas []*Meta) string {
			leader := metaLeader(t, metas)
			addrs := []string{leader.ClientAddr()}
			for _, m := range metas {
				if m != leader {
					addrs = append(addrs, "http://"+m.ClientAddr())
				}
			}
			return strings.Join(addrs, ",")
		},
	})
	leader := c.Leader(t)
	const n = 60
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("e%03d", i)
	}

	var created, retries atomic.Int64
	done := make(chan struct{})
	deadline := time.Now().Add(90 * time.Second)
	go func() {
		defer close(done)
		parallel(n, func(i int) {
			r := createWithRetry(t, c.Nodes[i%len(c.Nodes)], names[i], deadline)
			retries.Add(int64(r))
			created.Add(1)
		})
	}()
	waitFor(t, 30*time.Second, "the first tables", func() bool { return created.Load() >= 10 })
	leader.Kill()
	killed := time.Now()
	t.Logf("killed meta leader %s after %d tables", leader.Name, created.Load())
	select {
	case <-done:
	case <-time.After(time.Until(deadline) + 30*time.Second):
		t.Fatal("CREATE TABLEs did not finish")
	}
	newLeader := c.Leader(t)
	t.Logf("all %d tables created %s after the kill, %d retries; new leader %s",
		n, time.Since(killed).Round(time.Millisecond), retries.Load(), newLeader.Name)
	if newLeader == leader {
		t.Fatalf("the killed member %s still leads", leader.Name)
	}
	if t.Failed() {
		t.FailNow()
	}
	// Every node heartbeats again, through a member it listed after the
	// one it talked to died.
	for _, nd := range c.Nodes {
		c.WaitRejoined(t, nd, killed)
	}
	c.WaitStable(t)

	// Each table exactly once in meta's catalog and on one shard.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tables, err := c.Admin().Tables(ctx, clusterName, "public")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, tb := range tables {
		count[tb.Name]++
	}
	for _, name := range names {
		if count[name] != 1 {
			t.Errorf("table %s listed %d times", name, count[name])
		}
	}
	if len(tables) != n {
		t.Errorf("meta lists %d tables, want %d", len(tables), n)
	}
	shards, err := c.Admin().Shards(ctx, clusterName, true)
	if err != nil {
		t.Fatal(err)
	}
	shardOf := map[string]string{} // table → node of its shard
	for _, s := range shards {
		for _, tb := range s.Tables { // "schema.table"
			tb = strings.TrimPrefix(tb, "public.")
			if prev, ok := shardOf[tb]; ok {
				t.Errorf("table %s on two shards (nodes %s and %s)", tb, prev, s.Node)
			}
			shardOf[tb] = s.Node
		}
	}
	owners := c.Owners(t, names...)
	want := map[string]int{}
	for _, name := range names {
		if node := c.NodeByEndpoint(shardOf[name]); node != owners[name] {
			t.Errorf("table %s: shard on %q, route to %s", name, shardOf[name], owners[name].URL)
		}
		want[name] = 4
	}
	parallel(n, func(i int) { writeRows(t, owners[names[i]], names[i], 0, 4) })
	checkAll(t, c, want, owners)

	// The killed member rejoins and answers for the cluster. (Its own
	// context: the one above may have run out during the checks.)
	leader.Restart()
	for deadline := time.Now().Add(stableTimeout); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := leader.Admin.Tables(ctx, clusterName, "public")
		cancel()
		if err == nil && len(got) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted member lists %d tables (%v) after %s, want %d", len(got), err, stableTimeout, n)
		}
		<-time.After(pollInterval)
	}
}
