package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSampleConfigs loads and validates every data-node sample config in
// configs/ (files named horaedb*.toml; the others belong to other binaries).
func TestSampleConfigs(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "configs", "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range paths {
		if !strings.HasPrefix(filepath.Base(path), "horaedb") {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, ws, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range ws {
				t.Errorf("warning: %v", w)
			}
			if err := c.ApplyEnv(func(string) string { return "" }); err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			out, err := c.MarshalTOML()
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := Parse(out); err != nil {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
	if n == 0 {
		t.Fatal("no configs/horaedb*.toml found")
	}
}

// TestSampleConfigsSay checks what each sample is for.
func TestSampleConfigsSay(t *testing.T) {
	load := func(name string) Config {
		t.Helper()
		c, _, err := Load(filepath.Join("..", "..", "configs", name))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := load("horaedb-standalone.toml"); c.ClusterDeployment.Mode != ModeNoMeta ||
		len(c.ClusterDeployment.NoMeta.Topology.SchemaShards) != 0 || c.Analytic.WAL.Local == nil {
		t.Errorf("standalone: %+v", c.ClusterDeployment)
	}
	s := load("horaedb-static-routing.toml").ClusterDeployment.NoMeta
	if s == nil || len(s.Topology.SchemaShards) != 2 || len(s.Topology.SchemaShards[1].ShardViews) != 2 ||
		s.Topology.SchemaShards[1].ShardViews[1].Endpoint.String() != "127.0.0.2:8831" ||
		len(s.Rules.PrefixRules) != 1 || len(s.Rules.HashRules) != 1 {
		t.Errorf("static routing: %+v", s)
	}
	c0, c1 := load("horaedb-cluster-0.toml"), load("horaedb-cluster-1.toml")
	if c0.Server.GRPCPort == c1.Server.GRPCPort || c0.Analytic.WAL.Local.DataDir == c1.Analytic.WAL.Local.DataDir ||
		c1.ClusterDeployment.WithMeta == nil || c1.ClusterDeployment.WithMeta.CmdChannelBufferSize != 10 {
		t.Errorf("cluster nodes collide or are not WithMeta")
	}
	if w := load("horaedb-withmeta.toml"); w.Analytic.WAL.Type != WALRocksDB || w.ClusterDeployment.Mode != ModeWithMeta {
		t.Errorf("withmeta: wal %s, mode %s", w.Analytic.WAL.Type, w.ClusterDeployment.Mode)
	}
}
