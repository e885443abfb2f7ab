package meta

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta/client"
)

// TestAdminHTTP exercises the admin API through a follower (which
// forwards to the leader) and the leader.
func TestAdminHTTP(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := startNodes(t, tc, 2)
	waitStable(t, tc)
	l := tc.leader()
	var follower *Server
	for _, s := range tc.servers {
		if s != l {
			follower = s
			break
		}
	}
	// The follower learns the leader by watching etcd; until then it
	// answers "no meta leader yet".
	waitFor(t, 20*time.Second, "the follower knowing the leader", func() bool { return follower.Leader() != nil })
	ctx := ctxTimeout(t, time.Minute)
	c := newClient(t, tc.endpoints())
	if _, err := c.CreateTable(ctx, createReq("cpu")); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Server{"follower": follower, "leader": l} {
		t.Run(name, func(t *testing.T) {
			admin, err := client.NewAdmin("http://"+s.HTTPAddr(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			h, err := admin.Health(ctx)
			if err != nil || h.Leader != l.cfg.NodeName || h.IsLeader != (s == l) || h.Epoch == 0 {
				t.Errorf("health %+v %v", h, err)
			}
			cs, err := admin.Clusters(ctx)
			if err != nil || len(cs) != 1 || cs[0].Name != "defaultCluster" || cs[0].State != "stable" || cs[0].ShardTotal != 4 {
				t.Fatalf("clusters %+v %v", cs, err)
			}
			ns, err := admin.Nodes(ctx, "defaultCluster")
			if err != nil || len(ns) != 2 || !ns[0].Alive || len(ns[0].Shards) != 2 || len(ns[0].AssignedShards) != 2 {
				t.Fatalf("nodes %+v %v", ns, err)
			}
			ss, err := admin.Shards(ctx, "defaultCluster", true)
			if err != nil || len(ss) != 4 {
				t.Fatalf("shards %+v %v", ss, err)
			}
			tables := 0
			for _, sh := range ss {
				tables += len(sh.Tables)
				if sh.Status != "ready" || sh.Node == "" || sh.Version == 0 {
					t.Errorf("shard %+v", sh)
				}
			}
			if tables != 1 {
				t.Errorf("%d tables listed on shards", tables)
			}
			ts, err := admin.Tables(ctx, "defaultCluster", "public")
			if err != nil || len(ts) != 1 || ts[0].Name != "cpu" || ts[0].Node == "" {
				t.Fatalf("tables %+v %v", ts, err)
			}
			rt, err := admin.Route(ctx, "defaultCluster", "public", []string{"cpu", "nope"})
			if err != nil || len(rt.Routes) != 1 || rt.Routes[0].Endpoint != ts[0].Node {
				t.Fatalf("route %+v %v", rt, err)
			}
			d, err := admin.Diagnose(ctx, "defaultCluster")
			if err != nil || len(d.Problems) != 0 || d.State != "stable" {
				t.Fatalf("diagnose %+v %v", d, err)
			}
			ps, err := admin.Procedures(ctx, "defaultCluster")
			if err != nil || len(ps) < 5 {
				t.Fatalf("procedures %+v %v", ps, err)
			}
			if _, err := admin.Nodes(ctx, "nope"); !errors.Is(err, client.ErrClusterNotFound) {
				t.Errorf("unknown cluster: %v", err)
			}
		})
	}

	admin, _ := client.NewAdmin(follower.HTTPAddr(), 10*time.Second)
	t.Run("transfer leader", func(t *testing.T) {
		ss, _ := admin.Shards(ctx, "defaultCluster", false)
		from, v0 := ss[0].Node, ss[0].Version
		to := nodes[0].Endpoint()
		if to == from {
			to = nodes[1].Endpoint()
		}
		p, err := admin.TransferLeader(ctx, client.TransferLeaderRequest{ClusterName: "defaultCluster", ShardID: 0,
			OldLeaderNodeName: from, NewLeaderNodeName: to})
		if err != nil || p.State != "finished" || p.Kind != "transfer_shard" {
			t.Fatalf("transfer %+v %v", p, err)
		}
		ss, _ = admin.Shards(ctx, "defaultCluster", false)
		if ss[0].Node != to || ss[0].Version != v0+1 || ss[0].Status != "ready" {
			t.Fatalf("shard 0 after transfer: %+v (was v%d)", ss[0], v0)
		}
		_, err = admin.TransferLeader(ctx, client.TransferLeaderRequest{ClusterName: "defaultCluster", ShardID: 0,
			OldLeaderNodeName: from, NewLeaderNodeName: to})
		if !errors.Is(err, client.ErrInvalidArgument) || !strings.Contains(err.Error(), "is on node") {
			t.Errorf("stale old leader: %v", err)
		}
	})
	t.Run("schedule", func(t *testing.T) {
		if err := admin.SetSchedule(ctx, "defaultCluster", false); err != nil {
			t.Fatal(err)
		}
		if on, err := admin.Schedule(ctx, "defaultCluster"); err != nil || on {
			t.Fatalf("schedule %v %v", on, err)
		}
		// Upstream's path answers too.
		body := get(t, "http://"+follower.HTTPAddr()+"/debug/clusters/defaultCluster/enableSchedule", 200)
		if !strings.Contains(body, `"enable": false`) {
			t.Errorf("upstream path: %s", body)
		}
	})
	t.Run("create cluster", func(t *testing.T) {
		cl, err := admin.CreateCluster(ctx, client.CreateClusterRequest{Name: "second", NodeCount: 1, ShardTotal: 2, TopologyType: "dynamic"})
		if err != nil || cl.Name != "second" || cl.TopologyType != "dynamic" || cl.State != "empty" {
			t.Fatalf("create %+v %v", cl, err)
		}
		if _, err := admin.CreateCluster(ctx, client.CreateClusterRequest{Name: "second", NodeCount: 1, ShardTotal: 2}); !errors.Is(err, client.ErrClusterExists) {
			t.Errorf("again: %v", err)
		}
		if _, err := admin.CreateCluster(ctx, client.CreateClusterRequest{Name: "bad/name", NodeCount: 1, ShardTotal: 2}); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("bad name: %v", err)
		}
		// The new cluster is served over gRPC as well.
		c2, err := client.New(client.Config{Endpoints: tc.endpoints(), ClusterName: "second"})
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		if _, err := c2.CreateTable(ctx, createReq("x")); !errors.Is(err, client.ErrClusterNotStable) {
			t.Errorf("DDL in an empty cluster: %v", err)
		}
	})
	t.Run("not implemented", func(t *testing.T) {
		for _, p := range []string{"/api/v1/split", "/api/v1/etcd/moveLeader"} {
			body := post(t, "http://"+l.HTTPAddr()+p, `{}`, http.StatusNotImplemented)
			if !strings.Contains(body, "UNIMPLEMENTED") || !strings.Contains(body, "not implemented") {
				t.Errorf("%s: %s", p, body)
			}
		}
		get(t, "http://"+l.HTTPAddr()+"/api/v1/nope", http.StatusNotFound)
		body := post(t, "http://"+l.HTTPAddr()+"/api/v1/route", `{"clusterName": `, http.StatusBadRequest)
		if !strings.Contains(body, "INVALID_ARGUMENT") {
			t.Errorf("bad body: %s", body)
		}
	})
	t.Run("debug", func(t *testing.T) {
		get(t, "http://"+follower.HTTPAddr()+"/debug/pprof/", 200)
		body := get(t, "http://"+follower.HTTPAddr()+"/debug/diagnose/defaultCluster/shards", 200)
		if !strings.Contains(body, "unregisteredShards") {
			t.Errorf("upstream diagnose: %s", body)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		lm := get(t, "http://"+l.HTTPAddr()+"/metrics", 200)
		for _, want := range []string{
			"horaemeta_leader 1",
			`horaemeta_nodes_alive{cluster="defaultCluster"} 2`,
			`horaemeta_procedures_total{cluster="defaultCluster",kind="create_table",state="finished"} 1`,
			`horaemeta_node_heartbeat_lag_seconds{cluster="defaultCluster",node="` + nodes[0].Endpoint() + `"}`,
			`horaemeta_events_total{cluster="defaultCluster",event="OpenShard",result="ok"}`,
			"horaemeta_procedures_running",
			"etcd_server_has_leader",
		} {
			if !strings.Contains(lm, want) {
				t.Errorf("leader metrics lack %q", want)
			}
		}
		fm := get(t, "http://"+follower.HTTPAddr()+"/metrics", 200)
		if !strings.Contains(fm, "horaemeta_leader 0") {
			t.Errorf("follower metrics: horaemeta_leader is not 0")
		}
	})
}

func get(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s, want %d", url, resp.StatusCode, b, want)
	}
	return string(b)
}

func post(t *testing.T, url, body string, want int) string {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s, want %d", url, resp.StatusCode, b, want)
	}
	return string(b)
}
