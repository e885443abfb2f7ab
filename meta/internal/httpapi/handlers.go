package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/meta/internal/coordinator"
	"github.com/horaego/horaedb/meta/internal/procedure"
	"github.com/horaego/horaedb/proto/metapb"
)

func topologyName(t metapb.TopologyType) string {
	if t == metapb.TopologyType_TOPOLOGY_TYPE_DYNAMIC {
		return "dynamic"
	}
	return "static"
}

func stateName(s metapb.ClusterState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "CLUSTER_STATE_"))
}

func clusterOf(snap *cluster.Snapshot) client.Cluster {
	i := snap.Info
	return client.Cluster{ID: i.Id, Name: i.Name, NodeCount: i.NodeCount, ShardTotal: i.ShardTotal,
		TopologyType: topologyName(i.TopologyType), EnableSchedule: i.EnableSchedule,
		ProcedureExecutingBatchSize: i.ProcedureExecutingBatchSize, State: stateName(snap.View.State),
		TopologyVersion: snap.View.Version, CreatedAt: ms(i.CreatedAtMs), ModifiedAt: ms(i.ModifiedAtMs)}
}

func (a *API) listClusters(w http.ResponseWriter, _ *http.Request, t *coordinator.Term) {
	out := []client.Cluster{}
	for _, co := range t.Clusters() {
		out = append(out, clusterOf(co.Cluster().Snapshot()))
	}
	writeData(w, out)
}

func (a *API) createCluster(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	var req client.CreateClusterRequest
	if err := decode(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	if req.TopologyType != "" && req.TopologyType != "static" && req.TopologyType != "dynamic" {
		writeErr(w, client.Errorf(metapb.Reason_INVALID_ARGUMENT, "topologyType %q: want static or dynamic", req.TopologyType))
		return
	}
	enable := true
	if req.EnableSchedule != nil {
		enable = *req.EnableSchedule
	}
	co, err := t.CreateCluster(r.Context(), cluster.Spec{Name: req.Name, NodeCount: req.NodeCount, ShardTotal: req.ShardTotal,
		Topology: coordinator.TopologyOf(req.TopologyType), EnableSchedule: enable, BatchSize: req.ProcedureExecutingBatchSize})
	if err != nil {
		writeErr(w, err)
		return
	}
	writeData(w, clusterOf(co.Cluster().Snapshot()))
}

// coordinator finds the cluster of the request path.
func coordinatorOf(w http.ResponseWriter, r *http.Request, t *coordinator.Term) *coordinator.Coordinator {
	co, err := t.Cluster(r.PathValue("cluster"))
	if err != nil {
		writeErr(w, err)
		return nil
	}
	return co
}

func (a *API) getCluster(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	if co := coordinatorOf(w, r, t); co != nil {
		writeData(w, clusterOf(co.Cluster().Snapshot()))
	}
}

func (a *API) listNodes(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	co := coordinatorOf(w, r, t)
	if co == nil {
		return
	}
	snap := co.Cluster().Snapshot()
	assigned := map[string][]uint32{}
	for _, sn := range snap.View.ShardNodes {
		assigned[sn.Node] = append(assigned[sn.Node], sn.ShardId)
	}
	out := []client.Node{}
	for _, n := range snap.Nodes {
		node := client.Node{Name: n.Record.Name, Alive: n.Alive, LastHeartbeat: n.LastSeen.UTC(),
			HeartbeatAge: snap.Now.Sub(n.LastSeen).Seconds(), Zone: n.Record.Zone, BinaryVersion: n.Record.BinaryVersion,
			RegisteredAt: ms(n.Record.RegisteredAtMs), Shards: []client.NodeShard{}, AssignedShards: assigned[n.Record.Name]}
		if l := n.Record.Load; l != nil {
			node.Load = client.NodeLoad{Tables: l.TableCount, WriteRowsPerSecond: l.WriteRowsPerSecond, MemoryBytes: l.MemoryBytes}
		}
		if node.AssignedShards == nil {
			node.AssignedShards = []uint32{}
		}
		for id, s := range n.Shards {
			node.Shards = append(node.Shards, client.NodeShard{ID: id, Version: s.Version,
				Status: shardStatusName(s.Status), Role: roleName(s.Role)})
		}
		sort.Slice(node.Shards, func(i, j int) bool { return node.Shards[i].ID < node.Shards[j].ID })
		out = append(out, node)
	}
	writeData(w, out)
}

func shardStatusName(s metapb.ShardStatus) string {
	if s == metapb.ShardStatus_SHARD_STATUS_PARTIAL_OPEN {
		return "partial_open"
	}
	return "ready"
}

func roleName(r metapb.ShardRole) string {
	if r == metapb.ShardRole_SHARD_ROLE_FOLLOWER {
		return "follower"
	}
	return "leader"
}

// shards describes every shard of a snapshot.
func shards(snap *cluster.Snapshot, busy map[uint32]bool) []client.Shard {
	nodes := map[string]*cluster.NodeStatus{}
	for i := range snap.Nodes {
		nodes[snap.Nodes[i].Record.Name] = &snap.Nodes[i]
	}
	out := make([]client.Shard, 0, snap.Info.ShardTotal)
	for id := range snap.Info.ShardTotal {
		s := client.Shard{ID: id, Node: snap.NodeOf(id), Version: snap.Versions[id], TableCount: snap.TableCounts[id], Busy: busy[id]}
		n := nodes[s.Node]
		switch {
		case s.Node == "":
			s.Status = "unassigned"
		case n == nil || !n.Alive:
			s.Status = "node_down"
		case n.Shards[id] == nil || n.Shards[id].Version != s.Version:
			s.Status = "opening"
		default:
			s.Status = shardStatusName(n.Shards[id].Status)
		}
		s.NodeAlive = n != nil && n.Alive
		out = append(out, s)
	}
	return out
}

func (a *API) listShards(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	co := coordinatorOf(w, r, t)
	if co == nil {
		return
	}
	out := shards(co.Cluster().Snapshot(), co.Procedures().BusyShards())
	if r.URL.Query().Get("tables") == "true" {
		byShard := map[uint32][]string{}
		for _, tb := range co.Cluster().Tables("") {
			if tb.Info.PartitionInfo == nil {
				byShard[tb.ShardId] = append(byShard[tb.ShardId], tb.Info.SchemaName+"."+tb.Info.Name)
			}
		}
		for i := range out {
			out[i].Tables = byShard[out[i].ID]
		}
	}
	writeData(w, out)
}

func tableOf(c *cluster.Cluster, tb *metapb.TableRecord) client.Table {
	out := client.Table{ID: tb.Info.Id, Name: tb.Info.Name, Schema: tb.Info.SchemaName, SchemaID: tb.Info.SchemaId,
		Partitioned: tb.Info.PartitionInfo != nil, SubTables: tb.SubTableIds, ParentID: tb.ParentId, CreatedAt: ms(tb.CreatedAtMs)}
	if !out.Partitioned {
		out.ShardID = tb.ShardId
		out.Node, _, _ = c.ShardNode(tb.ShardId)
	}
	return out
}

func (a *API) listTables(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	co := coordinatorOf(w, r, t)
	if co == nil {
		return
	}
	out := []client.Table{}
	for _, tb := range co.Cluster().Tables(r.URL.Query().Get("schema")) {
		out = append(out, tableOf(co.Cluster(), tb))
	}
	writeData(w, out)
}

func (a *API) listSchemas(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	co := coordinatorOf(w, r, t)
	if co == nil {
		return
	}
	type schema struct {
		ID        uint32    `json:"id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"createdAt"`
	}
	out := []schema{}
	for _, s := range co.Cluster().Schemas() {
		out = append(out, schema{s.Id, s.Name, ms(s.CreatedAtMs)})
	}
	writeData(w, out)
}

func procedureOf(p *metapb.Procedure) client.Procedure {
	out := client.Procedure{ID: p.Id, Kind: strings.ToLower(strings.TrimPrefix(p.Kind.String(), "PROCEDURE_KIND_")),
		State: strings.ToLower(strings.TrimPrefix(p.State.String(), "PROCEDURE_STATE_")), Step: p.Step,
		Description: procedure.Describe(p), Origin: p.Origin, Attempts: p.Attempts, Error: p.Error,
		CreatedAt: ms(p.CreatedAtMs), UpdatedAt: ms(p.UpdatedAtMs), Deadline: ms(p.DeadlineMs)}
	if p.State == metapb.ProcedureState_PROCEDURE_STATE_FAILED {
		out.Reason = p.ErrorReason.String()
	}
	return out
}

func (a *API) listProcedures(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	co := coordinatorOf(w, r, t)
	if co == nil {
		return
	}
	out := []client.Procedure{}
	for _, p := range co.Procedures().List() {
		out = append(out, procedureOf(p))
	}
	writeData(w, out)
}

func (a *API) diagnose(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	co := coordinatorOf(w, r, t)
	if co == nil {
		return
	}
	snap := co.Cluster().Snapshot()
	d := client.Diagnosis{State: stateName(snap.View.State), UnregisteredShards: []uint32{},
		UnreadyShards: map[uint32]client.UnreadyShard{}, DeadNodes: []string{}, FailedProcedures: []client.Procedure{},
		Problems: []string{}}
	alive := 0
	for _, n := range snap.Nodes {
		if n.Alive {
			alive++
		} else {
			d.DeadNodes = append(d.DeadNodes, n.Record.Name)
		}
	}
	if snap.View.State == metapb.ClusterState_CLUSTER_STATE_EMPTY {
		d.Problems = append(d.Problems, fmt.Sprintf("waiting for %d data nodes to heartbeat, %d alive: no shard is assigned and DDL is refused",
			snap.Info.NodeCount, alive))
	}
	for _, s := range shards(snap, co.Procedures().BusyShards()) {
		switch s.Status {
		case "unassigned":
			d.UnregisteredShards = append(d.UnregisteredShards, s.ID)
		case "ready":
		default:
			d.UnreadyShards[s.ID] = client.UnreadyShard{NodeName: s.Node, Status: s.Status}
		}
	}
	if len(d.UnregisteredShards) > 0 && snap.View.State != metapb.ClusterState_CLUSTER_STATE_EMPTY {
		d.Problems = append(d.Problems, fmt.Sprintf("%d shards have no node", len(d.UnregisteredShards)))
	}
	if len(d.UnreadyShards) > 0 {
		d.Problems = append(d.Problems, fmt.Sprintf("%d shards are not served as expected (see unreadyShards)", len(d.UnreadyShards)))
	}
	if len(d.DeadNodes) > 0 {
		d.Problems = append(d.Problems, fmt.Sprintf("dead data nodes: %s", strings.Join(d.DeadNodes, ", ")))
	}
	if !snap.Info.EnableSchedule {
		d.Problems = append(d.Problems, "scheduling is off: shards are not reopened or moved automatically (horaectl schedule on)")
	}
	for _, p := range co.Procedures().List() {
		if p.State == metapb.ProcedureState_PROCEDURE_STATE_FAILED {
			d.FailedProcedures = append(d.FailedProcedures, procedureOf(p))
		}
	}
	writeData(w, d)
}

func (a *API) getSchedule(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	if co := coordinatorOf(w, r, t); co != nil {
		writeData(w, client.Schedule{Enable: co.Cluster().Info().EnableSchedule})
	}
}

func (a *API) putSchedule(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	co := coordinatorOf(w, r, t)
	if co == nil {
		return
	}
	var req client.Schedule
	if err := decode(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	if err := co.Cluster().SetEnableSchedule(r.Context(), req.Enable); err != nil {
		writeErr(w, err)
		return
	}
	a.logger.Info("scheduling changed", "cluster", co.Cluster().Name(), "enable", req.Enable)
	co.Poke()
	writeData(w, req)
}

func (a *API) route(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	var req client.RouteRequest
	if err := decode(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	co, err := t.Cluster(req.ClusterName)
	if err != nil {
		writeErr(w, err)
		return
	}
	if req.SchemaName == "" {
		req.SchemaName = "public"
	}
	resp := co.Cluster().Route(req.SchemaName, req.Tables)
	out := client.RouteResult{TopologyVersion: resp.ClusterTopologyVersion, Routes: []client.Route{}}
	for _, name := range req.Tables {
		e, ok := resp.Entries[name]
		if !ok {
			continue
		}
		rt := client.Route{Table: name, TableID: e.Table.Id, Partitioned: e.Table.PartitionInfo != nil}
		if len(e.NodeShards) > 0 {
			rt.ShardID, rt.Endpoint, rt.Version = e.NodeShards[0].ShardInfo.Id, e.NodeShards[0].Endpoint, e.NodeShards[0].ShardInfo.Version
		}
		out.Routes = append(out.Routes, rt)
	}
	writeData(w, out)
}

func (a *API) transferLeader(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	var req client.TransferLeaderRequest
	if err := decode(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	co, err := t.Cluster(req.ClusterName)
	if err != nil {
		writeErr(w, err)
		return
	}
	if req.NewLeaderNodeName == "" {
		writeErr(w, client.Errorf(metapb.Reason_INVALID_ARGUMENT, "newLeaderNodeName is required"))
		return
	}
	h, err := co.Procedures().TransferShard(r.Context(), req.ShardID, req.OldLeaderNodeName, req.NewLeaderNodeName, false,
		procedure.OriginHTTP, "")
	if err != nil {
		writeErr(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.Procedures.Timeout+5*time.Second)
	defer cancel()
	rec, err := h.Wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = client.Errorf(metapb.Reason_PROCEDURE_TIMEOUT, "transfer procedure %d is still running", h.ID())
		}
		writeErr(w, err)
		return
	}
	writeData(w, procedureOf(rec))
}

func (a *API) getShardTables(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	var req struct {
		ClusterName string   `json:"clusterName"`
		ShardIDs    []uint32 `json:"shardIDs"`
	}
	if err := decode(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	co, err := t.Cluster(req.ClusterName)
	if err != nil {
		writeErr(w, err)
		return
	}
	if len(req.ShardIDs) == 0 {
		for id := range co.Cluster().Info().ShardTotal {
			req.ShardIDs = append(req.ShardIDs, id)
		}
	}
	m, err := co.Cluster().TablesOfShards(req.ShardIDs)
	if err != nil {
		writeErr(w, err)
		return
	}
	type shardTables struct {
		ShardID uint32         `json:"shardID"`
		Version uint64         `json:"version"`
		Tables  []client.Table `json:"tables"`
	}
	out := []shardTables{}
	for _, id := range req.ShardIDs {
		st := shardTables{ShardID: id, Version: m[id].ShardInfo.Version, Tables: []client.Table{}}
		for _, ti := range m[id].Tables {
			if tb, ok := co.Cluster().TableByID(ti.Id); ok {
				st.Tables = append(st.Tables, tableOf(co.Cluster(), tb))
			}
		}
		out = append(out, st)
	}
	writeData(w, out)
}

func (a *API) getNodeShards(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	var req struct {
		ClusterName string `json:"clusterName"`
	}
	if err := decode(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	co, err := t.Cluster(req.ClusterName)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeData(w, shards(co.Cluster().Snapshot(), co.Procedures().BusyShards()))
}

func (a *API) queryTable(w http.ResponseWriter, r *http.Request, t *coordinator.Term) {
	var req struct {
		ClusterName string   `json:"clusterName"`
		SchemaName  string   `json:"schemaName"`
		Names       []string `json:"names"`
		IDs         []uint64 `json:"ids"`
	}
	if err := decode(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	co, err := t.Cluster(req.ClusterName)
	if err != nil {
		writeErr(w, err)
		return
	}
	out := []client.Table{}
	for _, n := range req.Names {
		if tb, ok := co.Cluster().Table(req.SchemaName, n); ok {
			out = append(out, tableOf(co.Cluster(), tb))
		}
	}
	for _, id := range req.IDs {
		if tb, ok := co.Cluster().TableByID(id); ok {
			out = append(out, tableOf(co.Cluster(), tb))
		}
	}
	writeData(w, out)
}
