package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
)

// TestOpenShardTables: a shard opened with a filter serves only the kept
// tables; the others stay in storage and come back when kept again.
func TestOpenShardTables(t *testing.T) {
	n := newNode(t)
	keep := n.create("keep", options.Overwrite)
	n.create("hide", options.Overwrite)
	ctx := context.Background()
	if err := n.e.CloseShard(ctx, 0, true); err != nil {
		t.Fatal(err)
	}
	if err := n.e.OpenShardTables(ctx, 0, func(id uint64) bool { return id == keep.ID() }); err != nil {
		t.Fatal(err)
	}
	tables, err := n.e.ShardTables(0)
	if err != nil || len(tables) != 1 || tables[0].Name() != "keep" {
		t.Fatalf("ShardTables = %v, %v; want only keep", tables, err)
	}
	if _, err := n.e.Table("public", "hide"); !errors.Is(err, engine.ErrTableNotFound) {
		t.Errorf("hidden table served: %v", err)
	}
	if err := n.e.CloseShard(ctx, 0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := n.e.ShardTables(0); !errors.Is(err, engine.ErrShardNotOpen) {
		t.Errorf("ShardTables of a closed shard: %v", err)
	}
	if err := n.e.OpenShard(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := n.e.Table("public", "hide"); err != nil {
		t.Errorf("the hidden table is gone from storage: %v", err)
	}
}
