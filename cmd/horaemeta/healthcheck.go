package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/horaego/horaedb/internal/healthcheck"
)

// runHealthcheck is `horaemeta healthcheck [--config file] [--url url]`:
// GET the member's admin health (/api/v1/health on http-port, which
// answers 503 while the cluster has no meta leader) and fail unless it
// answers 2xx. For container health checks: scratch images have no curl.
func runHealthcheck(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("horaemeta healthcheck", flag.ContinueOnError)
	var cfgPath, url string
	fs.StringVar(&cfgPath, "config", "", "the member's config file, for http-port; default: built-in defaults and the environment")
	fs.StringVar(&cfgPath, "c", "", "shorthand for --config")
	fs.StringVar(&url, "url", "", "URL to check instead of the member's admin health")
	timeout := fs.Duration("timeout", healthcheck.DefaultTimeout, "bound of the check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if url == "" {
		cfg, err := load(cfgPath, getenv)
		if err != nil {
			return err
		}
		// The admin API listens on all interfaces.
		url = healthcheck.LocalURL("", cfg.HTTPPort, "/api/v1/health")
	}
	if err := healthcheck.Check(context.Background(), url, *timeout); err != nil {
		return err
	}
	fmt.Println("healthy:", url)
	return nil
}
