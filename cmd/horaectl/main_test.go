package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

// TestHoraectl runs every command against a real HoraeMeta with two
// data-node doubles.
func TestHoraectl(t *testing.T) {
	cfgs, err := metatest.Configs(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := meta.New(cfgs[0], meta.Options{Logger: slog.New(slog.DiscardHandler), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var nodes []*metatest.Node
	for range 2 {
		n, err := metatest.StartNode(metatest.NodeOptions{Meta: []string{cfgs[0].ClientUrls}, Cluster: "defaultCluster"})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		nodes = append(nodes, n)
	}
	addr := s.HTTPAddr()
	env := func(k string) string {
		if k == "HORAECTL_META_ADDR" {
			return addr
		}
		return ""
	}
	ctl := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(args, env, &out)
		return out.String(), err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := ctl("cluster", "list")
		if err == nil && strings.Contains(out, "stable") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not stable: %s %v", out, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mc, err := client.New(client.Config{Endpoints: []string{cfgs[0].ClientUrls}, ClusterName: "defaultCluster"})
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	created, err := mc.CreateTable(ctx, &metapb.CreateTableRequest{SchemaName: "public", Name: "cpu"})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args  []string
		wants []string
	}{
		{[]string{"cluster", "list"}, []string{"ID", "NAME", "defaultCluster", "stable", "static"}},
		{[]string{"node", "list"}, []string{"NODE", "STATE", nodes[0].Endpoint(), "alive"}},
		{[]string{"shard", "list", "--tables"}, []string{"SHARD", "VERSION", "ready", "public.cpu"}},
		{[]string{"table", "list", "--schema", "public"}, []string{"cpu", fmt.Sprint(created.CreatedTable.Id)}},
		{[]string{"route", "cpu", "nope"}, []string{"cpu", "nope", "not found"}},
		{[]string{"procedure", "list"}, []string{"create_table", "finished", "create table public.cpu"}},
		{[]string{"diagnose"}, []string{"cluster defaultCluster: stable", "no problems found"}},
		{[]string{"schedule", "off"}, []string{"off"}},
		{[]string{"cluster", "schedule", "get"}, []string{"off"}},
		{[]string{"schedule", "on"}, []string{"on"}},
		{[]string{"-c", "defaultCluster", "transfer-leader", "--shard", fmt.Sprint(created.ShardInfo.Id), "--to", otherNode(nodes, s, created.ShardInfo.Id)},
			[]string{"finished", "transfer shard"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := ctl(tc.args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, w := range tc.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	out, err := ctl("--json", "node", "list")
	var ns []client.Node
	if err != nil || json.Unmarshal([]byte(out), &ns) != nil || len(ns) != 2 {
		t.Errorf("--json node list: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{"frobnicate"}, {"schedule", "maybe"}, {"transfer-leader"}, {"-c", "nope", "node", "list"}, {"route"}} {
		if out, err := ctl(bad...); err == nil {
			t.Errorf("%v succeeded:\n%s", bad, out)
		}
	}
	if _, err := ctl("-m", "127.0.0.1:1", "cluster", "list"); err == nil {
		t.Error("an unreachable meta is not an error")
	}
}

// otherNode returns a node that does not have shard id.
func otherNode(nodes []*metatest.Node, _ *meta.Server, id uint32) string {
	for _, n := range nodes {
		if _, ok := n.Shards()[id]; !ok {
			return n.Endpoint()
		}
	}
	return ""
}
