package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The topology of upstream's docs/example-standalone-static-routing.toml.
func exampleTopology() Topology {
	return Topology{
		Schemas: []Schema{
			{Name: "public", Shards: map[uint32]string{0: "127.0.0.1:8831"}},
			{Name: "test", Shards: map[uint32]string{0: "127.0.0.1:8831", 1: "127.0.0.2:8831"}},
		},
		PrefixRules: []PrefixRule{{Schema: "test", Prefix: "BIZ", Shard: 0}},
		HashRules:   []HashRule{{Schema: "test", Shards: []uint32{1}}},
	}
}

func TestHashTable(t *testing.T) {
	// Computed by upstream's crate, twox-hash 1.6.3:
	// `table.hash(&mut XxHash64::with_seed(0)); h.finish()`.
	for _, tc := range []struct {
		table string
		want  uint64
	}{
		{"", 10764519495013463364},
		{"cpu", 6965163841514812018},
		{"mytable1", 11982193396071612558},
		{"BIZ_orders", 7700777196527946360},
		{"test_table", 13458953137351221282},
		{"demo", 5280726543806835678},
		{"h2o_feet", 13507538454038979996},
		{"表", 5612224079755786954},
		{"a_very_long_table_name_that_is_longer_than_thirty_two_bytes_for_sure", 593869029092903393},
	} {
		if got := HashTable(tc.table); got != tc.want {
			t.Errorf("HashTable(%q) = %d, want %d", tc.table, got, tc.want)
		}
	}
}

func TestStaticExample(t *testing.T) {
	s, err := NewStatic("127.0.0.2:8831", exampleTopology())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		schema, table string
		shard         uint32
		owner         string
		local         bool
	}{
		{"test", "BIZ_orders", 0, "127.0.0.1:8831", false}, // prefix rule
		{"test", "BIZ", 0, "127.0.0.1:8831", false},
		{"test", "biz_orders", 1, "127.0.0.2:8831", true}, // prefixes are case-sensitive: hash rule
		{"test", "cpu", 1, "127.0.0.2:8831", true},
		{"public", "cpu", 0, "127.0.0.1:8831", false}, // no rule: hash % 1
	} {
		shard, ep, ok, err := s.Shard(tc.schema, tc.table)
		if err != nil || !ok || shard != tc.shard || ep != tc.owner {
			t.Errorf("Shard(%s.%s) = %d, %q, %v, %v; want %d, %q", tc.schema, tc.table, shard, ep, ok, err, tc.shard, tc.owner)
		}
		if got, err := s.Route(ctx, tc.schema, tc.table); err != nil || got != tc.owner {
			t.Errorf("Route(%s.%s) = %q, %v; want %q", tc.schema, tc.table, got, err, tc.owner)
		}
		if got := s.Local(tc.schema, tc.table); got != tc.local {
			t.Errorf("Local(%s.%s) = %v, want %v", tc.schema, tc.table, got, tc.local)
		}
	}
	// A schema outside the topology is this node's own.
	if _, _, ok, err := s.Shard("other", "cpu"); ok || err != nil {
		t.Errorf("Shard(other.cpu): ok=%v err=%v, want not in the topology", ok, err)
	}
	if got, err := s.Route(ctx, "other", "cpu"); err != nil || got != "127.0.0.2:8831" || !s.Local("other", "cpu") {
		t.Errorf("Route(other.cpu) = %q, %v; want this node", got, err)
	}
	if got := strings.Join(s.Serves(), " "); got != "test/1" {
		t.Errorf("Serves() = %q, want test/1", got)
	}
}

// Without a hash rule, HashTable modulo the number of shards is the shard
// id: tables spread over all shards, the same way on every node.
func TestStaticHashFallback(t *testing.T) {
	top := Topology{Schemas: []Schema{{Name: "public", Shards: map[uint32]string{0: "a:1", 1: "b:1", 2: "c:1", 3: "a:1"}}}}
	a, err := NewStatic("a:1", top)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewStatic("b:1", top)
	if err != nil {
		t.Fatal(err)
	}
	perShard := map[uint32]int{}
	for i := range 4000 {
		table := fmt.Sprintf("t%d", i)
		shard, ep, _, err := a.Shard("public", table)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint32(HashTable(table) % 4); shard != want {
			t.Fatalf("%s: shard %d, want %d", table, shard, want)
		}
		perShard[shard]++
		if a.Local("public", table) != (ep == "a:1") || b.Local("public", table) != (ep == "b:1") {
			t.Fatalf("%s on %s: Local disagrees", table, ep)
		}
	}
	for id := range uint32(4) {
		if n := perShard[id]; n < 800 || n > 1200 {
			t.Errorf("shard %d got %d of 4000 tables; the hash does not spread", id, n)
		}
	}
}

func TestStaticErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		top  Topology
		want string
	}{
		{"schema twice", Topology{Schemas: []Schema{{Name: "s", Shards: map[uint32]string{0: "a:1"}}, {Name: "s", Shards: map[uint32]string{0: "a:1"}}}},
			`schema "s" is listed twice`},
		{"no shards", Topology{Schemas: []Schema{{Name: "s"}}}, `schema "s" has no shards`},
		{"prefix rule of unknown schema", Topology{PrefixRules: []PrefixRule{{Schema: "x", Prefix: "p"}}},
			`schema "x", which the topology does not list`},
		{"hash rule of unknown shard", Topology{Schemas: []Schema{{Name: "s", Shards: map[uint32]string{0: "a:1"}}},
			HashRules: []HashRule{{Schema: "s", Shards: []uint32{0, 7}}}}, `shard 7, which is not a shard of schema "s"`},
		{"empty hash rule", Topology{Schemas: []Schema{{Name: "s", Shards: map[uint32]string{0: "a:1"}}},
			HashRules: []HashRule{{Schema: "s"}}}, "lists no shard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewStatic("a:1", tc.top)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewStatic: %v, want an error containing %q", err, tc.want)
			}
		})
	}

	// Shard ids 0 and 5 without a hash rule: a table hashing to 1 has no
	// shard, and the error says how to fix the topology.
	s, err := NewStatic("a:1", Topology{Schemas: []Schema{{Name: "s", Shards: map[uint32]string{0: "a:1", 5: "b:1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		table := fmt.Sprintf("t%d", i)
		if HashTable(table)%2 == 1 {
			_, err := s.Route(context.Background(), "s", table)
			if !errors.Is(err, ErrNoRoute) || !strings.Contains(err.Error(), "list shards 0 to 1") {
				t.Errorf("Route(%s) = %v, want ErrNoRoute naming the fix", table, err)
			}
			if s.Local("s", table) {
				t.Errorf("Local(%s) = true for a table without a shard", table)
			}
			break
		}
	}
}
