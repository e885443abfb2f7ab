// Command horaedb runs a HoraeDB data node. Without flags it runs standalone
// on 127.0.0.1:5440 with its data under ./data; --config (-c) reads an
// upstream-compatible TOML config, --data-dir moves the WAL and the object
// store. SIGINT and SIGTERM shut it down gracefully. `horaedb healthcheck`
// checks a running node's health endpoint (for container health checks).
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
	_ "time/tzdata" // zone data for scratch containers

	"github.com/horaego/horaedb/server"
	"github.com/horaego/horaedb/server/config"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "horaedb:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		return runHealthcheck(args[1:])
	}
	fs := flag.NewFlagSet("horaedb", flag.ContinueOnError)
	var cfgPath, dataDir, logFormat string
	var showVersion bool
	fs.StringVar(&cfgPath, "config", "", "HoraeDB config file (TOML); default: built-in defaults")
	fs.StringVar(&cfgPath, "c", "", "shorthand for --config")
	fs.StringVar(&dataDir, "data-dir", "", "directory of the WAL and the object store, replacing "+
		"analytic.wal.data_dir and analytic.storage.object_store.data_dir; default: the config's (./data)")
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
		fmt.Println("horaedb", server.Version())
		return nil
	}

	cfg, warnings := config.Default(), []config.Warning(nil)
	if cfgPath != "" {
		var err error
		if cfg, warnings, err = config.Load(cfgPath); err != nil {
			return err
		}
	}
	if err := cfg.ApplyEnv(os.Getenv); err != nil {
		return err
	}

	level := new(slog.LevelVar) // PUT /debug/log_level changes it
	level.Set(cfg.Logger.SlogLevel())
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
	for _, w := range warnings {
		logger.Warn("config key ignored", "key", w.Key, "file", w.File, "line", w.Line, "reason", w.Msg)
	}
	logger.Info("starting horaedb", "version", server.Version(), "config", cfgPath, "data_dir", dataDir)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(cfg, server.Options{Logger: logger, LogLevel: level, DataDir: dataDir})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
