package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/horaego/horaedb/meta/client"
)

// cmd runs one command.
type cmd struct {
	admin   *client.Admin
	cluster string
	json    bool
	out     io.Writer
}

func (c *cmd) dispatch(ctx context.Context, args []string) error {
	name, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case (name == "cluster" || name == "c") && sub == "list":
		return c.clusterList(ctx)
	case (name == "cluster" || name == "c") && sub == "diagnose", name == "diagnose":
		return c.diagnose(ctx)
	case (name == "cluster" || name == "c") && sub == "schedule":
		return c.schedule(ctx, rest[1:])
	case name == "schedule":
		return c.schedule(ctx, rest)
	case name == "node" && sub == "list":
		return c.nodeList(ctx)
	case name == "shard" && sub == "list":
		return c.shardList(ctx, rest[1:])
	case name == "table" && sub == "list":
		return c.tableList(ctx, rest[1:])
	case name == "procedure" && sub == "list":
		return c.procedureList(ctx)
	case name == "route":
		return c.route(ctx, rest)
	case name == "transfer-leader":
		return c.transferLeader(ctx, rest)
	}
	return fmt.Errorf("unknown command %q (see horaectl --help)", strings.Join(args, " "))
}

// print writes v as JSON, or the table rows.
func (c *cmd) print(v any, header []string, rows [][]string) error {
	if c.json {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, strings.Join(header, "\t")) // a strings.Builder does not fail
	for _, r := range rows {
		_, _ = fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
	_, err := io.WriteString(c.out, b.String())
	return err
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func (c *cmd) clusterList(ctx context.Context) error {
	cs, err := c.admin.Clusters(ctx)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, cl := range cs {
		rows = append(rows, []string{strconv.FormatUint(uint64(cl.ID), 10), cl.Name, cl.State,
			strconv.FormatUint(uint64(cl.NodeCount), 10), strconv.FormatUint(uint64(cl.ShardTotal), 10), cl.TopologyType,
			strconv.FormatBool(cl.EnableSchedule), strconv.FormatUint(uint64(cl.ProcedureExecutingBatchSize), 10),
			ts(cl.CreatedAt), ts(cl.ModifiedAt)})
	}
	return c.print(cs, []string{"ID", "NAME", "STATE", "NODES", "SHARDS", "TOPOLOGY", "SCHEDULE", "BATCH", "CREATED", "MODIFIED"}, rows)
}

func (c *cmd) nodeList(ctx context.Context) error {
	ns, err := c.admin.Nodes(ctx, c.cluster)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, n := range ns {
		state := "alive"
		if !n.Alive {
			state = "DEAD"
		}
		var shards []string
		for _, s := range n.Shards {
			shards = append(shards, fmt.Sprintf("%d@v%d", s.ID, s.Version))
		}
		rows = append(rows, []string{n.Name, state, fmt.Sprintf("%.1fs", n.HeartbeatAge), strconv.FormatUint(n.Load.Tables, 10),
			fmt.Sprintf("%.1f", n.Load.WriteRowsPerSecond), humanBytes(n.Load.MemoryBytes), joinIDs(n.AssignedShards),
			orDash(strings.Join(shards, ","))})
	}
	return c.print(ns, []string{"NODE", "STATE", "LAST HEARTBEAT", "TABLES", "ROWS/S", "MEMORY", "ASSIGNED", "OPEN"}, rows)
}

func (c *cmd) shardList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("shard list", flag.ContinueOnError)
	tables := fs.Bool("tables", false, "list each shard's tables")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ss, err := c.admin.Shards(ctx, c.cluster, *tables)
	if err != nil {
		return err
	}
	header := []string{"SHARD", "NODE", "VERSION", "STATUS", "TABLES", "BUSY"}
	if *tables {
		header = append(header, "TABLE NAMES")
	}
	var rows [][]string
	for _, s := range ss {
		r := []string{strconv.FormatUint(uint64(s.ID), 10), orDash(s.Node), strconv.FormatUint(s.Version, 10), s.Status,
			strconv.Itoa(s.TableCount), strconv.FormatBool(s.Busy)}
		if *tables {
			r = append(r, orDash(strings.Join(s.Tables, ",")))
		}
		rows = append(rows, r)
	}
	return c.print(ss, header, rows)
}

func (c *cmd) tableList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("table list", flag.ContinueOnError)
	schema := fs.String("schema", "", "only this schema")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ts, err := c.admin.Tables(ctx, c.cluster, *schema)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, t := range ts {
		shard := strconv.FormatUint(uint64(t.ShardID), 10)
		if t.Partitioned {
			shard = fmt.Sprintf("partitioned (%d sub-tables)", len(t.SubTables))
		}
		rows = append(rows, []string{strconv.FormatUint(t.ID, 10), t.Schema, t.Name, shard, orDash(t.Node)})
	}
	return c.print(ts, []string{"ID", "SCHEMA", "TABLE", "SHARD", "NODE"}, rows)
}

func (c *cmd) procedureList(ctx context.Context) error {
	ps, err := c.admin.Procedures(ctx, c.cluster)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, p := range ps {
		rows = append(rows, []string{strconv.FormatUint(p.ID, 10), p.Kind, p.State, p.Step, p.Description,
			strconv.FormatUint(uint64(p.Attempts), 10), ts(p.UpdatedAt), orDash(p.Error)})
	}
	return c.print(ps, []string{"ID", "KIND", "STATE", "STEP", "WHAT", "ATTEMPTS", "UPDATED", "ERROR"}, rows)
}

func (c *cmd) route(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	schema := fs.String("schema", "public", "schema of the tables")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("route: name at least one table")
	}
	res, err := c.admin.Route(ctx, c.cluster, *schema, fs.Args())
	if err != nil {
		return err
	}
	found := map[string]bool{}
	var rows [][]string
	for _, r := range res.Routes {
		found[r.Table] = true
		shard, ep := strconv.FormatUint(uint64(r.ShardID), 10), orDash(r.Endpoint)
		if r.Partitioned {
			shard, ep = "partitioned", "-"
		}
		rows = append(rows, []string{r.Table, strconv.FormatUint(r.TableID, 10), shard, ep, strconv.FormatUint(r.Version, 10)})
	}
	for _, t := range fs.Args() {
		if !found[t] {
			rows = append(rows, []string{t, "-", "not found", "-", "-"})
		}
	}
	return c.print(res, []string{"TABLE", "ID", "SHARD", "ENDPOINT", "SHARD VERSION"}, rows)
}

func (c *cmd) transferLeader(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("transfer-leader", flag.ContinueOnError)
	shard := fs.Int("shard", -1, "shard id (required)")
	to := fs.String("to", "", "node to move the shard to (required)")
	from := fs.String("from", "", "node the shard is on (checked when given)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *shard < 0 || *to == "" {
		return errors.New("transfer-leader: --shard and --to are required")
	}
	p, err := c.admin.TransferLeader(ctx, client.TransferLeaderRequest{ClusterName: c.cluster, ShardID: uint32(*shard),
		OldLeaderNodeName: *from, NewLeaderNodeName: *to})
	if err != nil {
		return err
	}
	return c.print(p, []string{"PROCEDURE", "STATE", "WHAT"}, [][]string{{strconv.FormatUint(p.ID, 10), p.State, p.Description}})
}

func (c *cmd) diagnose(ctx context.Context) error {
	d, err := c.admin.Diagnose(ctx, c.cluster)
	if err != nil {
		return err
	}
	if c.json {
		return c.print(d, nil, nil)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s: %s\n", c.cluster, d.State)
	if len(d.Problems) == 0 {
		b.WriteString("no problems found\n")
	}
	for _, p := range d.Problems {
		b.WriteString("- " + p + "\n")
	}
	for _, p := range d.FailedProcedures {
		fmt.Fprintf(&b, "failed procedure %d (%s): %s\n", p.ID, p.Description, p.Error)
	}
	if _, err := io.WriteString(c.out, b.String()); err != nil {
		return err
	}
	if len(d.UnreadyShards) == 0 {
		return nil
	}
	ids := make([]uint32, 0, len(d.UnreadyShards))
	for id := range d.UnreadyShards {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var rows [][]string
	for _, id := range ids {
		u := d.UnreadyShards[id]
		rows = append(rows, []string{strconv.FormatUint(uint64(id), 10), orDash(u.NodeName), u.Status})
	}
	return c.print(nil, []string{"UNREADY SHARD", "NODE", "STATUS"}, rows)
}

func (c *cmd) schedule(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("schedule: want get, on or off")
	}
	switch args[0] {
	case "get":
	case "on", "off":
		if err := c.admin.SetSchedule(ctx, c.cluster, args[0] == "on"); err != nil {
			return err
		}
	default:
		return fmt.Errorf("schedule %s: want get, on or off", args[0])
	}
	on, err := c.admin.Schedule(ctx, c.cluster)
	if err != nil {
		return err
	}
	return c.print(client.Schedule{Enable: on}, []string{"CLUSTER", "SCHEDULE"}, [][]string{{c.cluster, onOff(on)}})
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinIDs(ids []uint32) string {
	if len(ids) == 0 {
		return "-"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ",")
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%cB", float64(n)/float64(div), "KMGTPE"[exp])
}
