package client

import "time"

// The JSON documents of HoraeMeta's admin HTTP API (/api/v1). Every answer
// is an envelope {"status":"success","data":…} or, with an HTTP error
// status, {"status":"error","error":"<REASON>","msg":"…"} where REASON is
// a metapb.Reason name. See docs/horaemeta.md.

// Cluster is a cluster's settings and state.
type Cluster struct {
	ID                          uint32    `json:"id"`
	Name                        string    `json:"name"`
	NodeCount                   uint32    `json:"nodeCount"`
	ShardTotal                  uint32    `json:"shardTotal"`
	TopologyType                string    `json:"topologyType"`
	EnableSchedule              bool      `json:"enableSchedule"`
	ProcedureExecutingBatchSize uint32    `json:"procedureExecutingBatchSize"`
	State                       string    `json:"state"`
	TopologyVersion             uint64    `json:"topologyVersion"`
	CreatedAt                   time.Time `json:"createdAt"`
	ModifiedAt                  time.Time `json:"modifiedAt"`
}

// CreateClusterRequest is the body of POST /api/v1/clusters (upstream's
// keys; Name and NodeCount/ShardTotal are also accepted capitalised).
type CreateClusterRequest struct {
	Name                        string `json:"name"`
	NodeCount                   uint32 `json:"nodeCount"`
	ShardTotal                  uint32 `json:"shardTotal"`
	TopologyType                string `json:"topologyType"`
	EnableSchedule              *bool  `json:"enableSchedule,omitempty"`
	ProcedureExecutingBatchSize uint32 `json:"procedureExecutingBatchSize"`
}

// NodeLoad is a node's reported load.
type NodeLoad struct {
	Tables             uint64  `json:"tables"`
	WriteRowsPerSecond float64 `json:"writeRowsPerSecond"`
	MemoryBytes        uint64  `json:"memoryBytes"`
}

// NodeShard is a shard as a node reports it.
type NodeShard struct {
	ID      uint32 `json:"id"`
	Version uint64 `json:"version"`
	Status  string `json:"status"`
	Role    string `json:"role"`
}

// Node is a registered data node.
type Node struct {
	Name          string    `json:"name"`
	Alive         bool      `json:"alive"`
	LastHeartbeat time.Time `json:"lastHeartbeat"`
	// HeartbeatAge is the time since the last heartbeat, in seconds.
	HeartbeatAge   float64     `json:"heartbeatAgeSeconds"`
	Zone           string      `json:"zone,omitempty"`
	BinaryVersion  string      `json:"binaryVersion,omitempty"`
	RegisteredAt   time.Time   `json:"registeredAt"`
	Load           NodeLoad    `json:"load"`
	Shards         []NodeShard `json:"shards"`
	AssignedShards []uint32    `json:"assignedShards"`
}

// Shard is a shard of a cluster.
type Shard struct {
	ID uint32 `json:"id"`
	// Node is the node it is assigned to ("" when unassigned).
	Node      string `json:"node"`
	NodeAlive bool   `json:"nodeAlive"`
	// Version is meta's version of the shard.
	Version uint64 `json:"version"`
	// Status: "ready", "partial_open", "opening" (the node does not report
	// it, or at another version), "node_down" or "unassigned".
	Status     string   `json:"status"`
	TableCount int      `json:"tableCount"`
	Tables     []string `json:"tables,omitempty"`
	// Busy is set while a procedure works on the shard.
	Busy bool `json:"busy"`
}

// Table is a table of a cluster.
type Table struct {
	ID          uint64    `json:"id"`
	Name        string    `json:"name"`
	Schema      string    `json:"schema"`
	SchemaID    uint32    `json:"schemaID"`
	ShardID     uint32    `json:"shardID"`
	Node        string    `json:"node,omitempty"`
	Partitioned bool      `json:"partitioned"`
	SubTables   []uint64  `json:"subTableIDs,omitempty"`
	ParentID    uint64    `json:"parentID,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// RouteRequest is the body of POST /api/v1/route (upstream's shape: the
// table names are under "table").
type RouteRequest struct {
	ClusterName string   `json:"clusterName"`
	SchemaName  string   `json:"schemaName"`
	Tables      []string `json:"table"`
}

// Route says where a table lives.
type Route struct {
	Table       string `json:"table"`
	TableID     uint64 `json:"tableID"`
	ShardID     uint32 `json:"shardID"`
	Endpoint    string `json:"endpoint"`
	Version     uint64 `json:"shardVersion"`
	Partitioned bool   `json:"partitioned"`
}

// RouteResult answers a route request; unknown tables are left out.
type RouteResult struct {
	TopologyVersion uint64  `json:"topologyVersion"`
	Routes          []Route `json:"routes"`
}

// TransferLeaderRequest is the body of POST /api/v1/transferLeader
// (upstream's keys).
type TransferLeaderRequest struct {
	ClusterName       string `json:"clusterName"`
	ShardID           uint32 `json:"shardID"`
	OldLeaderNodeName string `json:"oldLeaderNodeName"`
	NewLeaderNodeName string `json:"newLeaderNodeName"`
}

// Procedure is a procedure, running or recently ended.
type Procedure struct {
	ID          uint64    `json:"id"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Step        string    `json:"step"`
	Description string    `json:"description"`
	Origin      string    `json:"origin"`
	Attempts    uint32    `json:"attempts"`
	Error       string    `json:"error,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Deadline    time.Time `json:"deadline"`
}

// Schedule is the body of GET/PUT .../enableSchedule.
type Schedule struct {
	Enable bool `json:"enable"`
}

// UnreadyShard is a shard its node does not serve as meta expects.
type UnreadyShard struct {
	NodeName string `json:"nodeName"`
	Status   string `json:"status"`
}

// Diagnosis is GET /api/v1/clusters/{cluster}/diagnose (upstream's
// /debug/diagnose/{cluster}/shards, with more).
type Diagnosis struct {
	State              string                  `json:"state"`
	UnregisteredShards []uint32                `json:"unregisteredShards"`
	UnreadyShards      map[uint32]UnreadyShard `json:"unreadyShards"`
	DeadNodes          []string                `json:"deadNodes"`
	FailedProcedures   []Procedure             `json:"failedProcedures"`
	// Problems says, in words, what is wrong; empty when all is well.
	Problems []string `json:"problems"`
}

// Health is GET /api/v1/health.
type Health struct {
	Member   string `json:"member"`
	IsLeader bool   `json:"isLeader"`
	Leader   string `json:"leader"`
	Epoch    uint64 `json:"epoch"`
}
