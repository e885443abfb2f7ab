// Command horaemeta runs a HoraeMeta member: embedded etcd, MetaService on
// etcd's client port (2379), the admin HTTP API (8080). Without flags it
// runs a single-member meta with the built-in defaults; --config (-c) reads
// upstream's TOML keys; environment variables (upstream's names, e.g.
// DEFAULT_CLUSTER_NODE_COUNT, TOPOLOGY_TYPE, ENABLE_SCHEDULE) override the
// file. SIGINT and SIGTERM stop it gracefully. `horaemeta healthcheck`
// checks a running member's admin health (for container health checks).
// See docs/horaemeta.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/horaego/horaedb/meta"
	"github.com/horaego/horaedb/meta/config"
)

func main() {
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "horaemeta:", err)
		os.Exit(1)
	}
}

// load builds the effective config: defaults, then the file, then the
// environment.
func load(path string, getenv func(string) string) (config.Config, error) {
	cfg := config.Default()
	if path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			return config.Config{}, err
		}
	}
	if err := cfg.ApplyEnv(getenv); err != nil {
		return config.Config{}, err
	}
	return cfg, cfg.Validate()
}

func run(args []string, getenv func(string) string) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		return runHealthcheck(args[1:], getenv)
	}
	fs := flag.NewFlagSet("horaemeta", flag.ContinueOnError)
	var cfgPath, logFormat string
	var showVersion bool
	fs.StringVar(&cfgPath, "config", "", "HoraeMeta config file (TOML); default: built-in defaults")
	fs.StringVar(&cfgPath, "c", "", "shorthand for --config")
	fs.StringVar(&logFormat, "log-format", "text", `log format: "text" or "json"`)
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if showVersion {
		fmt.Println("horaemeta", meta.Version())
		return nil
	}
	cfg, err := load(cfgPath, getenv)
	if err != nil {
		return err
	}
	level, _ := config.ParseLevel(cfg.Log.Level)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch logFormat {
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	default:
		return fmt.Errorf(`--log-format %q: want "text" or "json"`, logFormat)
	}
	logger := slog.New(h)
	logger.Info("starting horaemeta", "version", meta.Version(), "config", cfgPath, "member", cfg.NodeName, "data_dir", cfg.DataDir)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := meta.New(cfg, meta.Options{Logger: logger})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
