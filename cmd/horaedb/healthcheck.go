package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/horaego/horaedb/internal/healthcheck"
	"github.com/horaego/horaedb/server/config"
)

// runHealthcheck is `horaedb healthcheck [--config file] [--url url]`: GET
// the node's own health endpoint (/ on server.http_port) and fail unless it
// answers 2xx. For container health checks: scratch images have no curl.
func runHealthcheck(args []string) error {
	fs := flag.NewFlagSet("horaedb healthcheck", flag.ContinueOnError)
	var cfgPath, url string
	fs.StringVar(&cfgPath, "config", "", "the node's config file, for server.bind_addr and server.http_port; default: built-in defaults")
	fs.StringVar(&cfgPath, "c", "", "shorthand for --config")
	fs.StringVar(&url, "url", "", "URL to check instead of the config's health endpoint")
	timeout := fs.Duration("timeout", healthcheck.DefaultTimeout, "bound of the check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if url == "" {
		cfg := config.Default()
		if cfgPath != "" {
			var err error
			if cfg, _, err = config.Load(cfgPath); err != nil {
				return err
			}
		}
		url = healthcheck.LocalURL(cfg.Server.BindAddr, cfg.Server.HTTPPort, "/")
	}
	if err := healthcheck.Check(context.Background(), url, *timeout); err != nil {
		return err
	}
	fmt.Println("healthy:", url)
	return nil
}
