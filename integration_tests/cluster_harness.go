//go:build integration

package integration_tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta/client"
)

// The cluster harness starts HoraeMeta members and WithMeta data nodes as
// real processes on loopback ports: 1 or 3 metas (embedded etcd) and N
// horaedb nodes, each with its own directory, config and log (written to
// the test output when the test fails). Every process can be SIGKILLed and
// restarted on the same ports and directories.

const (
	// clusterName is the default cluster the metas create.
	clusterName = "defaultCluster"
	// stableTimeout bounds the wait for a cluster to become Stable with
	// every shard open.
	stableTimeout = 60 * time.Second
)

var metaBuild struct {
	once sync.Once
	bin  string
	err  error
}

// horaemetaBinary builds ./cmd/horaemeta once, next to the horaedb binary
// (removed with it by TestMain).
func horaemetaBinary(t testing.TB) string {
	t.Helper()
	horaedbBinary(t) // creates build.dir
	metaBuild.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			metaBuild.err = err
			return
		}
		metaBuild.bin = filepath.Join(build.dir, "horaemeta")
		cmd := exec.Command("go", "build", "-o", metaBuild.bin, "./cmd/horaemeta")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			metaBuild.err = fmt.Errorf("go build ./cmd/horaemeta: %v\n%s", err, out)
		}
	})
	if metaBuild.err != nil {
		t.Fatal(metaBuild.err)
	}
	return metaBuild.bin
}

// Meta is one horaemeta member. Its process is a Node value (start, kill,
// log); the node's SQL helpers do not apply.
type Meta struct {
	p                          *Node
	Name                       string
	ClientPort, PeerPort, HTTP int
	Admin                      *client.Admin // this member's admin API
}

// ClientAddr is the member's MetaService (and etcd client) address.
func (m *Meta) ClientAddr() string { return fmt.Sprintf("127.0.0.1:%d", m.ClientPort) }

// Kill SIGKILLs the member.
func (m *Meta) Kill() { m.p.Kill() }

// Running reports whether the process runs.
func (m *Meta) Running() bool { return m.p.running() }

// start starts the process without waiting for it.
func (m *Meta) start() { m.p.start("--config", m.p.ConfigPath) }

// Restart starts a killed member again and waits until it is healthy.
func (m *Meta) Restart() {
	m.p.t.Helper()
	m.start()
	m.WaitHealthy()
}

// WaitHealthy polls the member's admin health until it answers 200 (the
// member is up and knows a leader).
func (m *Meta) WaitHealthy() {
	m.p.t.Helper()
	var last error
	waitFor(m.p.t, readyTimeout, "meta "+m.Name+" healthy", func() bool {
		if !m.p.running() {
			m.p.t.Fatalf("harness: meta %s exited (%v)", m.Name, m.p.cmd.ProcessState)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, last = m.Admin.Health(ctx)
		return last == nil
	})
}

// MetaOptions configure the members of a test HoraeMeta.
type MetaOptions struct {
	// Members is 1 or 3; default 1.
	Members int
	// NodeCount is the number of data nodes the default cluster waits
	// for; default 3.
	NodeCount int
	// Extra is appended to each member's config (top-level keys).
	Extra string
}

// testMetaTimings are short timings so that failures are noticed within
// seconds: the leader lease, etcd's raft, the node heartbeat timeout and
// the scheduler.
const testMetaTimings = `lease-sec = 2
tick-interval-ms = 100
election-timeout-ms = 1000
node-heartbeat-timeout = "12s"
schedule-interval = "500ms"
event-dispatch-timeout = "3s"
`

// StartMetas starts a HoraeMeta of o.Members members and waits until every
// member is healthy (a leader is elected).
func StartMetas(t testing.TB, o MetaOptions) []*Meta {
	t.Helper()
	if o.Members == 0 {
		o.Members = 1
	}
	if o.NodeCount == 0 {
		o.NodeCount = 3
	}
	bin := horaemetaBinary(t)
	ports := freePorts(t, 3*o.Members)
	metas := make([]*Meta, o.Members)
	var initial []string
	for i := range metas {
		m := &Meta{Name: fmt.Sprintf("meta%d", i), ClientPort: ports[3*i], PeerPort: ports[3*i+1], HTTP: ports[3*i+2]}
		initial = append(initial, fmt.Sprintf("%s=http://127.0.0.1:%d", m.Name, m.PeerPort))
		metas[i] = m
	}
	for _, m := range metas {
		dir := t.TempDir()
		m.p = &Node{
			t:          t,
			bin:        bin,
			Dir:        dir,
			DataDir:    filepath.Join(dir, "data"),
			ConfigPath: filepath.Join(dir, "horaemeta.toml"),
			URL:        fmt.Sprintf("http://127.0.0.1:%d", m.HTTP),
			logPath:    filepath.Join(dir, "horaemeta.log"),
		}
		cfg := fmt.Sprintf(`node-name = %q
data-dir = %q
client-urls = "http://127.0.0.1:%d"
peer-urls = "http://127.0.0.1:%d"
initial-cluster = %q
http-port = %d
default-cluster-name = %q
default-cluster-node-count = %d
default-cluster-shard-total = 8
topology-type = "static"
%s%s
[log]
level = "info"
`, m.Name, m.p.DataDir, m.ClientPort, m.PeerPort, strings.Join(initial, ","), m.HTTP,
			clusterName, o.NodeCount, testMetaTimings, o.Extra)
		if err := os.WriteFile(m.p.ConfigPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		if m.Admin, err = client.NewAdmin(m.p.URL, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if m.p.running() {
				m.p.kill()
			}
			if t.Failed() {
				m.p.DumpLog()
			}
		})
	}
	// Members of a multi-member etcd wait for each other: start all, then
	// wait.
	for _, m := range metas {
		m.start()
	}
	for _, m := range metas {
		m.WaitHealthy()
	}
	return metas
}

// withMetaNodeConfig is the config of a test data node of a WithMeta
// cluster: loopback only, free ports, heartbeats every lease/3, shard
// locks in the metas' etcd, taken over at once by the same node after a
// restart.
func withMetaNodeConfig(metaAddr string, etcdAddrs []string, lease string) func(Ports) string {
	quoted := make([]string, len(etcdAddrs))
	for i, a := range etcdAddrs {
		quoted[i] = strconv.Quote(a)
	}
	return func(p Ports) string {
		return defaultConfig(p) + fmt.Sprintf(`
[node]
addr = "127.0.0.1"

[cluster_deployment]
mode = "WithMeta"

[cluster_deployment.meta_client]
cluster_name = %q
meta_addr = "http://%s"
lease = %q
timeout = "5s"

[cluster_deployment.etcd_client]
server_addrs = [%s]
shard_lock_lease_ttl_sec = 15
enable_shard_lock_fast_reacquire = true
`, clusterName, metaAddr, lease, strings.Join(quoted, ", "))
	}
}

// Cluster is a HoraeMeta and its data nodes. Methods that may fail take
// the (sub)test that calls them. The processes belong to the test that
// started the cluster; restart them only from its goroutine or its
// sequential subtests.
type Cluster struct {
	t     testing.TB
	Metas []*Meta
	Nodes []*Node
}

// ClusterOptions configure StartCluster.
type ClusterOptions struct {
	Meta MetaOptions
	// Nodes is the number of data nodes; default 3.
	Nodes int
	// NodeOptions returns the options of data node i, which talks to
	// the member at metaAddr; default: withMetaNodeConfig with a 3s lease
	// and every member's etcd.
	NodeOptions func(i int, metaAddr string) NodeOptions
	// MetaAddr returns the data nodes' meta_addr: one member's address or
	// several separated by commas; default the first member's.
	MetaAddr func(metas []*Meta) string
}

// StartCluster starts the metas, then the data nodes, and waits until the
// cluster is Stable with every shard open.
func StartCluster(t testing.TB, o ClusterOptions) *Cluster {
	t.Helper()
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Meta.NodeCount == 0 {
		o.Meta.NodeCount = o.Nodes
	}
	c := &Cluster{t: t, Metas: StartMetas(t, o.Meta)}
	if o.NodeOptions == nil {
		var etcd []string
		for _, m := range c.Metas {
			etcd = append(etcd, m.ClientAddr())
		}
		o.NodeOptions = func(_ int, metaAddr string) NodeOptions {
			return NodeOptions{Config: withMetaNodeConfig(metaAddr, etcd, "3s")}
		}
	}
	target := c.Metas[0].ClientAddr()
	if o.MetaAddr != nil {
		target = o.MetaAddr(c.Metas)
	}
	for i := range o.Nodes {
		c.Nodes = append(c.Nodes, NewNode(t, o.NodeOptions(i, target)))
	}
	for _, n := range c.Nodes {
		n.Start()
	}
	c.WaitStable(t)
	return c
}

// Admin returns the admin API of a running member (followers forward to
// the leader).
func (c *Cluster) Admin() *client.Admin {
	for _, m := range c.Metas {
		if m.Running() {
			return m.Admin
		}
	}
	c.t.Fatal("harness: no meta member is running")
	return nil
}

// Leader returns the member that leads, polling until one does.
func (c *Cluster) Leader(t testing.TB) *Meta {
	t.Helper()
	return metaLeader(t, c.Metas)
}

// metaLeader returns the running member of metas that leads, polling
// until one does.
func metaLeader(t testing.TB, metas []*Meta) *Meta {
	t.Helper()
	var leader *Meta
	waitFor(t, stableTimeout, "a meta leader", func() bool {
		for _, m := range metas {
			if !m.Running() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			h, err := m.Admin.Health(ctx)
			cancel()
			if err == nil && h.IsLeader {
				leader = m
				return true
			}
		}
		return false
	})
	return leader
}

// stable reports whether the default cluster is Stable, every node alive
// and every shard ready; why says what is missing.
func (c *Cluster) stable(ctx context.Context) (ok bool, why string) {
	adm := c.Admin()
	cls, err := adm.Clusters(ctx)
	if err != nil {
		return false, err.Error()
	}
	for _, cl := range cls {
		if cl.Name == clusterName && !strings.EqualFold(cl.State, "stable") {
			return false, "cluster state " + cl.State
		}
	}
	nodes, err := adm.Nodes(ctx, clusterName)
	if err != nil {
		return false, err.Error()
	}
	alive := 0
	for _, n := range nodes {
		if n.Alive {
			alive++
		}
	}
	if alive != len(c.Nodes) {
		return false, fmt.Sprintf("%d of %d nodes alive", alive, len(c.Nodes))
	}
	shards, err := adm.Shards(ctx, clusterName, false)
	if err != nil {
		return false, err.Error()
	}
	for _, s := range shards {
		if s.Status != "ready" {
			return false, fmt.Sprintf("shard %d on %q: %s", s.ID, s.Node, s.Status)
		}
	}
	return true, ""
}

// WaitStable polls until the cluster is Stable, all nodes alive and all
// shards ready.
func (c *Cluster) WaitStable(t testing.TB) {
	t.Helper()
	var why string
	deadline := time.Now().Add(stableTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ok, w := c.stable(ctx)
		cancel()
		if ok {
			return
		}
		why = w
		if time.Now().After(deadline) {
			t.Fatalf("harness: cluster not stable within %s: %s", stableTimeout, why)
		}
		<-time.After(50 * time.Millisecond)
	}
}

// NodeByEndpoint returns the data node whose name (node.addr:grpc_port)
// is endpoint, or nil.
func (c *Cluster) NodeByEndpoint(endpoint string) *Node {
	for _, n := range c.Nodes {
		if endpoint == "127.0.0.1:"+strconv.Itoa(n.Ports.GRPC) {
			return n
		}
	}
	return nil
}

// Owners asks HoraeMeta where tables live and returns each table's owner.
// It fails the test when a table has no route or an unknown endpoint.
func (c *Cluster) Owners(t testing.TB, tables ...string) map[string]*Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Admin().Route(ctx, clusterName, "public", tables)
	if err != nil {
		t.Fatalf("route %v: %v", tables, err)
	}
	owners := make(map[string]*Node, len(tables))
	for _, r := range res.Routes {
		n := c.NodeByEndpoint(r.Endpoint)
		if n == nil {
			t.Fatalf("route of %s: endpoint %q is no node of the cluster", r.Table, r.Endpoint)
		}
		owners[r.Table] = n
	}
	for _, tb := range tables {
		if owners[tb] == nil {
			t.Fatalf("route of %s: no route (routes: %+v)", tb, res.Routes)
		}
	}
	return owners
}

// Owner is Owners for one table.
func (c *Cluster) Owner(t testing.TB, table string) *Node {
	t.Helper()
	return c.Owners(t, table)[table]
}

// WaitRejoined polls until n has heartbeated to HoraeMeta after since,
// reporting every shard assigned to it ready and as many open tables as
// those shards hold, then waits for the cluster to be stable. (Meta's
// shard statuses alone do not do: for a second after an event, meta
// trusts the event's result over heartbeats, so a node restarted right
// after DDL still looks like it holds its shards.)
func (c *Cluster) WaitRejoined(t testing.TB, n *Node, since time.Time) {
	t.Helper()
	name := "127.0.0.1:" + strconv.Itoa(n.Ports.GRPC)
	var why string
	rejoined := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		adm := c.Admin()
		shards, err := adm.Shards(ctx, clusterName, false)
		if err != nil {
			why = err.Error()
			return false
		}
		nodes, err := adm.Nodes(ctx, clusterName)
		if err != nil {
			why = err.Error()
			return false
		}
		for _, nd := range nodes {
			if nd.Name != name {
				continue
			}
			if !nd.Alive || !nd.LastHeartbeat.After(since) {
				why = fmt.Sprintf("alive %v, last heartbeat %s", nd.Alive, nd.LastHeartbeat)
				return false
			}
			ready := map[uint32]bool{}
			for _, s := range nd.Shards {
				ready[s.ID] = s.Status == "ready"
			}
			tables := 0
			for _, s := range shards {
				if s.Node != name {
					continue
				}
				tables += s.TableCount
				if !ready[s.ID] {
					why = fmt.Sprintf("shard %d not reported ready: %+v", s.ID, nd.Shards)
					return false
				}
			}
			if nd.Load.Tables != uint64(tables) {
				why = fmt.Sprintf("the node reports %d open tables, its shards hold %d", nd.Load.Tables, tables)
				return false
			}
			return true
		}
		why = "not registered"
		return false
	}
	deadline := time.Now().Add(stableTimeout)
	for !rejoined() {
		if time.Now().After(deadline) {
			t.Fatalf("harness: node %s did not rejoin within %s: %s", name, stableTimeout, why)
		}
		<-time.After(50 * time.Millisecond)
	}
	c.WaitStable(t)
}
