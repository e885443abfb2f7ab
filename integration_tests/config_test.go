//go:build integration

package integration_tests

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sampleConfig reads a file of configs/.
func sampleConfig(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "configs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	portKey = regexp.MustCompile(`(?m)^(\s*)(http_port|grpc_port|mysql_port|postgresql_port)\s*=\s*\d+`)
	bindKey = regexp.MustCompile(`(?m)^(\s*)bind_addr\s*=.*$`)
)

// onTestPorts rewrites the [server] ports of a sample config to p and its
// bind address to 127.0.0.1, so it can run beside anything else; every other
// key stays as the sample has it.
func onTestPorts(sample string, p Ports) string {
	ports := map[string]int{"http_port": p.HTTP, "grpc_port": p.GRPC, "mysql_port": p.MySQL, "postgresql_port": p.PostgreSQL}
	out := portKey.ReplaceAllStringFunc(sample, func(m string) string {
		sub := portKey.FindStringSubmatch(m)
		return fmt.Sprintf("%s%s = %d", sub[1], sub[2], ports[sub[2]])
	})
	return bindKey.ReplaceAllString(out, `${1}bind_addr = "127.0.0.1"`)
}

// TestStandaloneSampleConfig starts the binary with
// configs/horaedb-standalone.toml (on test ports), runs SQL against it and
// stops it with SIGTERM.
func TestStandaloneSampleConfig(t *testing.T) {
	sample := sampleConfig(t, "horaedb-standalone.toml")
	n := StartNode(t, NodeOptions{Config: func(p Ports) string {
		cfg := onTestPorts(sample, p)
		if !strings.Contains(cfg, fmt.Sprintf("http_port = %d", p.HTTP)) {
			t.Fatalf("the sample has no http_port to rewrite:\n%s", sample)
		}
		return cfg
	}})
	code, body, err := n.Get(context.Background(), "/debug/config")
	if err != nil || code != 200 || !strings.Contains(string(body), fmt.Sprintf("http_port = %d", n.Ports.HTTP)) ||
		!strings.Contains(string(body), n.DataDir) {
		t.Errorf("GET /debug/config: %d %v\n%s", code, err, body)
	}
	code, body, err = n.Get(context.Background(), "/metrics")
	if err != nil || code != 200 || !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("GET /metrics: %d %v", code, err)
	}

	n.MustSQL(`CREATE TABLE cpu (host string TAG, usage double, ts timestamp NOT NULL, TIMESTAMP KEY(ts)) WITH (enable_ttl='false')`)
	n.MustSQL(`INSERT INTO cpu (host, usage, ts) VALUES ('h1', 0.5, 1000), ('h2', 0.25, 1000)`)
	if got, want := string(n.MustSQL(`SELECT host, usage FROM cpu ORDER BY host`)),
		`{"rows":[{"host":"h1","usage":0.5},{"host":"h2","usage":0.25}]}`; got != want {
		t.Errorf("SELECT: %s, want %s", got, want)
	}
	n.Stop()
	for _, sub := range []string{"wal", "store"} {
		if _, err := os.Stat(filepath.Join(n.DataDir, sub)); err != nil {
			t.Errorf("--data-dir: %v", err)
		}
	}

	// The graceful stop flushed: the rows come back after a restart.
	n.Restart()
	if got := string(n.MustSQL(`SELECT count(*) AS n FROM cpu`)); got != `{"rows":[{"n":2}]}` {
		t.Errorf("after restart: %s", got)
	}
	n.Stop()
}

// TestWithMetaSampleConfig starts the binary with the deployment guide's
// WithMeta config (configs/horaedb-withmeta.toml, on test ports): it loads
// without an ignored key, serves HTTP and starts joining the cluster (no
// HoraeMeta answers here; TestClusterWithMeta runs the guide's complete
// config against a real one).
func TestWithMetaSampleConfig(t *testing.T) {
	sample := sampleConfig(t, "horaedb-withmeta.toml")
	n := StartNode(t, NodeOptions{Config: func(p Ports) string { return onTestPorts(sample, p) }})
	log := n.Log()
	if !strings.Contains(log, "joining a cluster managed by HoraeMeta") {
		t.Errorf("the node does not join:\n%s", log)
	}
	if strings.Contains(log, "config key ignored") {
		t.Errorf("the sample has keys we ignore:\n%s", log)
	}
	n.Stop()
}

// TestStaticSampleConfigs starts the two nodes of the static cluster of
// configs/horaedb-static-{0,1}.toml (on test ports: the topology's ports
// follow the nodes' gRPC ports) and checks that a table pinned by the
// prefix rule to shard 0 is created, written and read through node 1 and
// lives on node 0.
func TestStaticSampleConfigs(t *testing.T) {
	var nodes []*Node
	for i := range 2 {
		sample := sampleConfig(t, fmt.Sprintf("horaedb-static-%d.toml", i))
		nodes = append(nodes, NewNode(t, NodeOptions{Config: func(p Ports) string { return onTestPorts(sample, p) }}))
	}
	topoPort := regexp.MustCompile(`(?m)^port = (8831|8832)$`)
	for _, n := range nodes {
		b, err := os.ReadFile(n.ConfigPath)
		if err != nil {
			t.Fatal(err)
		}
		cfg := topoPort.ReplaceAllStringFunc(string(b), func(m string) string {
			if strings.HasSuffix(m, "8831") {
				return fmt.Sprintf("port = %d", nodes[0].Ports.GRPC)
			}
			return fmt.Sprintf("port = %d", nodes[1].Ports.GRPC)
		})
		if !strings.Contains(cfg, fmt.Sprintf("\nport = %d\n", nodes[0].Ports.GRPC)) ||
			!strings.Contains(cfg, fmt.Sprintf("\nport = %d\n", nodes[1].Ports.GRPC)) {
			t.Fatalf("the topology of the sample was not rewritten:\n%s", cfg)
		}
		if err := os.WriteFile(n.ConfigPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		n.Start()
	}
	if log := nodes[0].Log(); !strings.Contains(log, "serves=public/0") {
		t.Errorf("node 0 does not say it serves shard 0:\n%s", log)
	}
	nodes[1].MustSQL(`CREATE TABLE BIZ_orders (region string TAG, amount double, ts timestamp NOT NULL, TIMESTAMP KEY(ts)) WITH (enable_ttl='false')`)
	nodes[1].MustSQL(`INSERT INTO BIZ_orders (region, amount, ts) VALUES ('eu', 2.5, 1000)`)
	if got, want := string(nodes[1].MustSQL(`SELECT region, amount FROM BIZ_orders`)), `{"rows":[{"region":"eu","amount":2.5}]}`; got != want {
		t.Errorf("SELECT through node 1: %s, want %s", got, want)
	}
	if got := string(nodes[0].MustSQL(`SHOW TABLES`)); !strings.Contains(got, "BIZ_orders") {
		t.Errorf("SHOW TABLES on node 0 (the owner): %s", got)
	}
	if got := string(nodes[1].MustSQL(`SHOW TABLES`)); strings.Contains(got, "BIZ_orders") {
		t.Errorf("SHOW TABLES on node 1: %s; the table belongs to node 0", got)
	}
	for _, n := range nodes {
		n.Stop()
	}
}

// TestBadConfig checks that a config error names the key and stops the node.
func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(path, []byte("[server]\nhttp_port = 5440\n\n[no_such_section]\nx = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runBinary(t, dir, "-c", path)
	if code == 0 || !strings.Contains(out, "no_such_section") || !strings.Contains(out, "bad.toml:4") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestVersionFlag(t *testing.T) {
	out, code := runBinary(t, t.TempDir(), "--version")
	if code != 0 || !strings.HasPrefix(out, "horaedb ") {
		t.Errorf("exit %d: %q", code, out)
	}
}

// TestNoFlags runs the binary without flags in an empty directory: it serves
// on 127.0.0.1:5440 with its data under ./data. It is skipped when port 5440
// is taken.
func TestNoFlags(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:5440")
	if err != nil {
		t.Skipf("port 5440 is taken, cannot check the defaults: %v", err)
	}
	ln.Close()
	n := NewNode(t, NodeOptions{})
	n.URL = "http://127.0.0.1:5440"
	n.start()
	n.WaitReady()
	n.Stop()
	for _, sub := range []string{"wal", "store"} {
		if _, err := os.Stat(filepath.Join(n.Dir, "data", sub)); err != nil {
			t.Errorf("./data/%s: %v", sub, err)
		}
	}
}
