package main

import (
	"path/filepath"
	"testing"

	"github.com/horaego/horaedb/server/config"
)

// TestDockerConfigs loads the configs baked into the horaedb image
// (docker/horaedb.Dockerfile): no warnings, valid with the environment
// docker/docker-compose.yaml sets.
func TestDockerConfigs(t *testing.T) {
	env := map[string]string{
		config.EnvServerAddr:  "horaedb0",
		config.EnvMetaAddr:    "http://horaemeta:2379",
		config.EnvEtcdAddrs:   "horaemeta:2379",
		config.EnvClusterName: "defaultCluster",
	}
	for _, name := range []string{"horaedb-standalone.toml", "horaedb-cluster.toml"} {
		cfg, warnings, err := config.Load(filepath.Join("..", "..", "docker", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(warnings) > 0 {
			t.Errorf("%s: warnings %+v", name, warnings)
		}
		if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if cfg.Server.BindAddr != "0.0.0.0" || cfg.Server.HTTPPort != 5440 {
			t.Errorf("%s: listens on %s:%d, want 0.0.0.0:5440 (the health check and EXPOSE assume it)",
				name, cfg.Server.BindAddr, cfg.Server.HTTPPort)
		}
	}
}
