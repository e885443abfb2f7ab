// Command horaectl administers a HoraeMeta cluster through its admin HTTP
// API:
//
//	horaectl [-m host:port] [-c cluster] [--json] COMMAND
//
//	cluster list | node list | shard list [--tables] | table list [--schema S]
//	procedure list | route [--schema S] TABLE... | diagnose
//	transfer-leader --shard N --to NODE [--from NODE]
//	schedule get|on|off
//
// -m defaults to $HORAECTL_META_ADDR or 127.0.0.1:8080, -c to
// $HORAECTL_CLUSTER or defaultCluster. Output is a table for people, or
// JSON with --json.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/horaego/horaedb/meta/client"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "horaectl:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("horaectl", flag.ContinueOnError)
	fs.SetOutput(out)
	meta, cluster := envOr(getenv, "HORAECTL_META_ADDR", "127.0.0.1:8080"), envOr(getenv, "HORAECTL_CLUSTER", "defaultCluster")
	var asJSON bool
	var timeout time.Duration
	fs.StringVar(&meta, "m", meta, "HoraeMeta admin address, host:port ($HORAECTL_META_ADDR)")
	fs.StringVar(&meta, "meta", meta, "same as -m")
	fs.StringVar(&cluster, "c", cluster, "cluster name ($HORAECTL_CLUSTER)")
	fs.StringVar(&cluster, "cluster", cluster, "same as -c")
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of tables")
	fs.DurationVar(&timeout, "timeout", 30*time.Second, "bound of each request")
	fs.Usage = func() { _, _ = fmt.Fprint(out, usage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() == 0 {
		_, _ = fmt.Fprint(out, usage)
		return errors.New("no command")
	}
	admin, err := client.NewAdmin(meta, timeout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	c := &cmd{admin: admin, cluster: cluster, json: asJSON, out: out}
	return c.dispatch(ctx, fs.Args())
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

const usage = `usage: horaectl [-m host:port] [-c cluster] [--json] COMMAND

commands:
  cluster list                      clusters of this HoraeMeta
  node list                         data nodes: alive or dead, load, shards
  shard list [--tables]             shards: node, version, status, tables
  table list [--schema S]           tables and where they live
  procedure list                    running and recent procedures
  route [--schema S] TABLE...       where tables live (schema public by default)
  transfer-leader --shard N --to NODE [--from NODE]
                                    move a shard to another node
  diagnose                          what is wrong with the cluster
  schedule get|on|off               the cluster's automatic scheduling

flags:
  -m, --meta     HoraeMeta admin address ($HORAECTL_META_ADDR, default 127.0.0.1:8080)
  -c, --cluster  cluster ($HORAECTL_CLUSTER, default defaultCluster)
  --json         JSON output
  --timeout      bound of each request (default 30s)
`
