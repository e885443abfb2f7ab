package meta

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/config"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

// testLogger logs to the test when -v is given and HORAEMETA_TEST_LOG is
// set, else nowhere.
func testLogger(t testing.TB, name string) *slog.Logger {
	if os.Getenv("HORAEMETA_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("m", name)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// testCluster is n meta members started in-process.
type testCluster struct {
	t       testing.TB
	cfgs    []config.Config
	servers []*Server
}

// startCluster starts n members with cfgs adjusted by tweak.
func startCluster(t testing.TB, n int, tweak func(*config.Config)) *testCluster {
	t.Helper()
	cfgs, err := metatest.Configs(t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{t: t, cfgs: cfgs, servers: make([]*Server, n)}
	for i := range cfgs {
		if tweak != nil {
			tweak(&tc.cfgs[i])
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		s, err := New(tc.cfgs[i], Options{Logger: testLogger(t, tc.cfgs[i].NodeName), UnsafeNoFsync: true})
		if err != nil {
			t.Fatal(err)
		}
		tc.servers[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Start(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
	}
	t.Cleanup(tc.close)
	return tc
}

// close stops every member at once, abruptly: a graceful stop hands raft
// leadership to a member that is stopping too, and waits for it.
func (tc *testCluster) close() {
	var wg sync.WaitGroup
	for _, s := range tc.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.kill()
		}()
	}
	wg.Wait()
}

// endpoints are the members' MetaService URLs.
func (tc *testCluster) endpoints() []string {
	var out []string
	for _, c := range tc.cfgs {
		out = append(out, c.ClientUrls)
	}
	return out
}

// leader waits for a leader among the live members.
func (tc *testCluster) leader() *Server {
	tc.t.Helper()
	var l *Server
	waitFor(tc.t, 20*time.Second, "a meta leader", func() bool {
		for _, s := range tc.servers {
			if s != nil && !s.isClosed() && s.IsLeader() {
				l = s
				return true
			}
		}
		return false
	})
	return l
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startNodes starts n data-node doubles against the members.
func startNodes(t testing.TB, tc *testCluster, n int) []*metatest.Node {
	t.Helper()
	var nodes []*metatest.Node
	for range n {
		nd, err := metatest.StartNode(metatest.NodeOptions{Meta: tc.endpoints(), Cluster: "defaultCluster",
			Interval: 100 * time.Millisecond, Logger: testLogger(t, "node")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nd.Close)
		nodes = append(nodes, nd)
	}
	return nodes
}

// newClient returns a meta client for tools (no node name).
func newClient(t testing.TB, endpoints []string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoints: endpoints, ClusterName: "defaultCluster", Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitStable waits until the leader's default cluster is Stable.
func waitStable(t testing.TB, tc *testCluster) {
	t.Helper()
	waitFor(t, 20*time.Second, "a stable cluster", func() bool {
		for _, s := range tc.servers {
			if term := s.Term(); term != nil {
				co, err := term.Cluster("defaultCluster")
				return err == nil && co.Cluster().State() == metapb.ClusterState_CLUSTER_STATE_STABLE
			}
		}
		return false
	})
}

func createReq(name string) *metapb.CreateTableRequest {
	return &metapb.CreateTableRequest{SchemaName: "public", Name: name, EncodedSchema: []byte("schema:" + name), Engine: "Analytic"}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
