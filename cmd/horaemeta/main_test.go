package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horaego/horaedb/meta/config"
)

// TestLoad: environment beats file beats defaults, and the result is
// validated.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.toml")
	if err := os.WriteFile(path, []byte("default-cluster-node-count = 3\nhttp-port = 9000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DEFAULT_CLUSTER_NODE_COUNT": "4", "TOPOLOGY_TYPE": "dynamic"}
	cfg, err := load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DefaultClusterNodeCount != 4 || cfg.TopologyType != "dynamic" || cfg.HTTPPort != 9000 || cfg.DefaultClusterShardTotal != 8 {
		t.Errorf("config %+v", cfg)
	}
	// No file: the defaults of a single-member meta.
	if cfg, err := load("", func(string) string { return "" }); err != nil || cfg.EffectiveInitialCluster() == "" {
		t.Errorf("defaults: %v", err)
	}
	env["TOPOLOGY_TYPE"] = "mesh"
	if _, err := load(path, func(k string) string { return env[k] }); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "topology-type") {
		t.Errorf("invalid env value: %v", err)
	}
	if _, err := load(filepath.Join(dir, "missing.toml"), func(string) string { return "" }); err == nil {
		t.Error("a missing file is not an error")
	}
}

func TestRunFlags(t *testing.T) {
	if err := run([]string{"--version"}, func(string) string { return "" }); err != nil {
		t.Error(err)
	}
	if err := run([]string{"extra"}, func(string) string { return "" }); err == nil {
		t.Error("stray argument accepted")
	}
	if err := run([]string{"--log-format", "xml"}, func(string) string { return "" }); err == nil {
		t.Error("bad log format accepted")
	}
}

// TestDockerConfig loads the config baked into the horaemeta image
// (docker/horaemeta.Dockerfile).
func TestDockerConfig(t *testing.T) {
	cfg, err := load(filepath.Join("..", "..", "docker", "horaemeta.toml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPPort != 8080 || cfg.DefaultClusterNodeCount != 3 {
		t.Errorf("http-port %d, default-cluster-node-count %d; docker-compose.yaml wants 8080 and 3",
			cfg.HTTPPort, cfg.DefaultClusterNodeCount)
	}
}
