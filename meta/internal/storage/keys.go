package storage

import (
	"fmt"
	"strconv"
	"strings"
)

// Keys builds HoraeMeta's etcd keys under a root path (default /horaedb).
// The layout is documented in meta/docs/etcd-layout.md; change both
// together.
type Keys struct {
	// Root is storage-root-path, e.g. "/horaedb".
	Root string
}

// ID kinds of the per-cluster allocators.
const (
	IDSchema    = "schema"
	IDTable     = "table"
	IDProcedure = "procedure"
)

func id20(id uint64) string { return fmt.Sprintf("%020d", id) }

// v1 is the prefix of everything HoraeMeta owns.
func (k Keys) v1() string { return k.Root + "/v1" }

// Election is the prefix of the meta leader election (one key per
// campaigning member; the oldest is the leader).
func (k Keys) Election() string { return k.v1() + "/election/" }

// ClusterIDs is the allocator of cluster ids.
func (k Keys) ClusterIDs() string { return k.v1() + "/ids/cluster" }

// ClusterName maps a cluster name to its id.
func (k Keys) ClusterName(name string) string { return k.v1() + "/cluster_names/" + name }

// ClusterNames is the prefix of ClusterName keys.
func (k Keys) ClusterNames() string { return k.v1() + "/cluster_names/" }

// Cluster is the prefix of everything of one cluster.
func (k Keys) Cluster(cid uint32) string { return k.v1() + "/clusters/" + id20(uint64(cid)) + "/" }

// ClusterInfo holds the ClusterRecord.
func (k Keys) ClusterInfo(cid uint32) string { return k.Cluster(cid) + "info" }

// ClusterView holds the ClusterView.
func (k Keys) ClusterView(cid uint32) string { return k.Cluster(cid) + "view" }

// Shard holds a ShardView.
func (k Keys) Shard(cid, shard uint32) string {
	return k.Cluster(cid) + "shards/" + id20(uint64(shard))
}

// IDs is a per-cluster id allocator.
func (k Keys) IDs(cid uint32, kind string) string { return k.Cluster(cid) + "ids/" + kind }

// Schema holds a SchemaRecord.
func (k Keys) Schema(cid, id uint32) string { return k.Cluster(cid) + "schemas/" + id20(uint64(id)) }

// SchemaName maps a schema name to its id.
func (k Keys) SchemaName(cid uint32, name string) string {
	return k.Cluster(cid) + "schema_names/" + name
}

// Table holds a TableRecord.
func (k Keys) Table(cid uint32, id uint64) string { return k.Cluster(cid) + "tables/" + id20(id) }

// TableName maps a table name of a schema to its id.
func (k Keys) TableName(cid, schemaID uint32, name string) string {
	return k.Cluster(cid) + "table_names/" + id20(uint64(schemaID)) + "/" + name
}

// Node holds a NodeRecord.
func (k Keys) Node(cid uint32, name string) string { return k.Cluster(cid) + "nodes/" + name }

// Procedure holds a Procedure.
func (k Keys) Procedure(cid uint32, id uint64) string {
	return k.Cluster(cid) + "procedures/" + id20(id)
}

// Procedures is the prefix of a cluster's procedures.
func (k Keys) Procedures(cid uint32) string { return k.Cluster(cid) + "procedures/" }

// ShardLock is where a data node holds the lock of a shard it serves, with
// its own lease (upstream's layout, shared with data nodes:
// <root>/<cluster name>/shards/<shard id, 20 digits>).
func (k Keys) ShardLock(clusterName string, shard uint32) string {
	return k.Root + "/" + clusterName + "/shards/" + id20(uint64(shard))
}

// ShardLocks is the prefix of a cluster's shard locks.
func (k Keys) ShardLocks(clusterName string) string { return k.Root + "/" + clusterName + "/shards/" }

// Kind classifies a key under Cluster(cid): "info", "view", "shards",
// "schemas", "tables", ... and returns the rest after "<kind>/".
func (k Keys) Kind(cid uint32, key string) (kind, rest string) {
	rel := strings.TrimPrefix(key, k.Cluster(cid))
	kind, rest, _ = strings.Cut(rel, "/")
	return kind, rest
}

// ParseID parses a zero-padded id of a key.
func ParseID(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }
