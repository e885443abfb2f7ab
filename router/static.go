package router

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Static routing is the placement of a NoMeta cluster (upstream's
// router/src/rule_based.rs): the config lists the shards of each schema
// and the node serving each, and rules map a table to a shard by its name
// alone. Every node has the same rules, so every node computes the same
// owner and nothing is looked up. The hash is upstream's, so a cluster
// moving between the two keeps its placement.

// Topology is the static placement of a NoMeta cluster.
type Topology struct {
	// Schemas lists the shards of each schema. A schema not listed is
	// served by every node for itself (standalone).
	Schemas []Schema
	// PrefixRules: a table goes to the shard of the first rule of its
	// schema whose prefix starts its name.
	PrefixRules []PrefixRule
	// HashRules: else the first rule of its schema spreads tables over its
	// shards by HashTable; without one, HashTable modulo the number of
	// the schema's shards is the shard id.
	HashRules []HashRule
}

// Schema is one schema's shards: shard id → endpoint (host:port).
type Schema struct {
	Name   string
	Shards map[uint32]string
}

// PrefixRule sends the tables of Schema whose names start with Prefix to
// Shard.
type PrefixRule struct {
	Schema, Prefix string
	Shard          uint32
}

// HashRule spreads the tables of Schema over Shards.
type HashRule struct {
	Schema string
	Shards []uint32
}

// ErrNoRoute is returned for a table whose rules name a shard the topology
// does not list.
var ErrNoRoute = errors.New("router: no route")

// Static answers owners from a Topology. It implements Resolver; its Local
// is Options.Local of a Router over it. Immutable, safe for concurrent use.
type Static struct {
	self    string
	schemas map[string]*staticSchema
}

type staticSchema struct {
	shards map[uint32]string
	prefix []PrefixRule
	hash   []uint32 // the shards of the first hash rule; nil: all of them
	total  uint64   // number of shards
}

// NewStatic checks t and returns its routing for the node self (host:port,
// as the topology names nodes).
func NewStatic(self string, t Topology) (*Static, error) {
	s := &Static{self: self, schemas: map[string]*staticSchema{}}
	for _, sc := range t.Schemas {
		if _, dup := s.schemas[sc.Name]; dup {
			return nil, fmt.Errorf("router: schema %q is listed twice", sc.Name)
		}
		if len(sc.Shards) == 0 {
			return nil, fmt.Errorf("router: schema %q has no shards", sc.Name)
		}
		s.schemas[sc.Name] = &staticSchema{shards: sc.Shards, total: uint64(len(sc.Shards))}
	}
	shardOf := func(schema string, shard uint32) (*staticSchema, error) {
		sc := s.schemas[schema]
		if sc == nil {
			return nil, fmt.Errorf("router: a rule names schema %q, which the topology does not list", schema)
		}
		if _, ok := sc.shards[shard]; !ok {
			return nil, fmt.Errorf("router: a rule names shard %d, which is not a shard of schema %q", shard, schema)
		}
		return sc, nil
	}
	for _, r := range t.PrefixRules {
		sc, err := shardOf(r.Schema, r.Shard)
		if err != nil {
			return nil, err
		}
		sc.prefix = append(sc.prefix, r)
	}
	for _, r := range t.HashRules {
		if len(r.Shards) == 0 {
			return nil, fmt.Errorf("router: a hash rule of schema %q lists no shard", r.Schema)
		}
		for _, id := range r.Shards {
			sc, err := shardOf(r.Schema, id)
			if err != nil {
				return nil, err
			}
			if sc.hash == nil {
				sc.hash = r.Shards
			}
		}
	}
	return s, nil
}

// HashTable is upstream's hash of a table name: XXH64 with seed 0 over the
// name's bytes followed by 0xff, which is how Rust's Hash writes a str.
func HashTable(table string) uint64 {
	d := xxhash.NewWithSeed(0)
	_, _ = d.WriteString(table)
	_, _ = d.Write([]byte{0xff})
	return d.Sum64()
}

// Shard returns the shard of a table and its endpoint; ok is false when
// the schema is not in the topology.
func (s *Static) Shard(database, table string) (shard uint32, endpoint string, ok bool, err error) {
	sc := s.schemas[database]
	if sc == nil {
		return 0, "", false, nil
	}
	shard = sc.pick(table)
	endpoint, found := sc.shards[shard]
	if !found {
		return 0, "", true, fmt.Errorf("%w for %s.%s: shard %d (hash %d modulo %d shards) is not in the topology "+
			"of schema %q; list shards 0 to %d or add a hash rule", ErrNoRoute, database, table, shard,
			HashTable(table), sc.total, database, sc.total-1)
	}
	return shard, endpoint, true, nil
}

func (sc *staticSchema) pick(table string) uint32 {
	for _, r := range sc.prefix {
		if strings.HasPrefix(table, r.Prefix) {
			return r.Shard
		}
	}
	h := HashTable(table)
	if sc.hash != nil {
		return sc.hash[h%uint64(len(sc.hash))]
	}
	return uint32(h % sc.total)
}

// Route implements Resolver: the endpoint of the table's shard, or this
// node's for a schema outside the topology.
func (s *Static) Route(_ context.Context, database, table string) (string, error) {
	_, ep, ok, err := s.Shard(database, table)
	if err != nil {
		return "", err
	}
	if !ok {
		return s.self, nil
	}
	return ep, nil
}

// Local reports whether this node serves a table. A table whose rules
// name no listed shard is not local; Route reports why.
func (s *Static) Local(database, table string) bool {
	_, ep, ok, err := s.Shard(database, table)
	return err == nil && (!ok || ep == s.self)
}

// Serves lists the shards this node serves, as "schema/shard", sorted.
func (s *Static) Serves() []string {
	var out []string
	for name, sc := range s.schemas {
		for id, ep := range sc.shards {
			if ep == s.self {
				out = append(out, fmt.Sprintf("%s/%d", name, id))
			}
		}
	}
	sort.Strings(out)
	return out
}
