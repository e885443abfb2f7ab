package server

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	rpprof "runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/horaego/horaedb/cluster"
	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/router"
	"github.com/horaego/horaedb/server/config"
)

// Upstream's debug routes: PUT /debug/log_level/{level}, GET
// /debug/profile/cpu/{secs} and /debug/profile/heap/{secs}, GET
// /debug/shards; and Go's own /debug/pprof/ for go tool pprof.

// maxProfileSeconds bounds a CPU profile.
const maxProfileSeconds = 300

// logLevel is PUT /debug/log_level/{level}: the node's log level from now
// on (trace, debug, info, warn, error), answered as a JSON string.
func (a *api) logLevel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("level")
	lv, ok := config.ParseLevel(name)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("log level %q: want trace, debug, info, warn or error", name))
		return
	}
	if a.level == nil {
		writeError(w, http.StatusNotImplemented, "this server's log level is fixed")
		return
	}
	a.level.Set(lv)
	a.log.Info("log level changed", "level", name)
	body, _ := json.Marshal(name)
	writeJSON(w, http.StatusOK, body)
}

// profileSeconds reads {secs}: 1..maxProfileSeconds.
func profileSeconds(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	s, err := strconv.Atoi(r.PathValue("secs"))
	if err != nil || s < 1 || s > maxProfileSeconds {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("profile seconds %q: want a whole number from 1 to %d",
			r.PathValue("secs"), maxProfileSeconds))
		return 0, false
	}
	return time.Duration(s) * time.Second, true
}

// cpuProfile is GET /debug/profile/cpu/{secs}: a CPU profile of the next
// secs seconds, in pprof's format (upstream wrote it to a file and
// answered "ok"). One at a time: 409 while another runs.
func (a *api) cpuProfile(w http.ResponseWriter, r *http.Request) {
	d, ok := profileSeconds(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="cpu.pprof"`)
	if err := rpprof.StartCPUProfile(w); err != nil {
		w.Header().Del("Content-Disposition")
		writeError(w, http.StatusConflict, "a CPU profile is already running: "+err.Error())
		return
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
	rpprof.StopCPUProfile()
}

// heapProfile is GET /debug/profile/heap/{secs}: the heap profile (live
// and cumulative allocations) after secs seconds, in pprof's format.
func (a *api) heapProfile(w http.ResponseWriter, r *http.Request) {
	d, ok := profileSeconds(w, r)
	if !ok {
		return
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="heap.pprof"`)
	_ = rpprof.Lookup("heap").WriteTo(w, 0)
}

// pprofRoutes are Go's /debug/pprof/ handlers.
func pprofRoutes(route func(pattern string, h http.HandlerFunc)) {
	route("GET /debug/pprof/", pprof.Index)
	route("GET /debug/pprof/cmdline", pprof.Cmdline)
	route("GET /debug/pprof/profile", pprof.Profile)
	route("GET /debug/pprof/symbol", pprof.Symbol)
	route("GET /debug/pprof/trace", pprof.Trace)
}

// shardInfo is one shard of GET /debug/shards.
type shardInfo struct {
	ID uint32 `json:"shard_id"`
	// Schema is set in a static cluster, where shard ids are per schema.
	Schema string `json:"schema,omitempty"`
	// Version is HoraeMeta's version of the shard (WithMeta).
	Version uint64 `json:"version,omitempty"`
	// LockHeld says whether the node holds the shard's lock (WithMeta).
	LockHeld *bool    `json:"lock_held,omitempty"`
	Tables   []string `json:"tables"`
}

// notCluster is upstream's answer of /debug/shards on a standalone node.
const notCluster = "Querying shards is only supported in cluster mode"

// debugShards is GET /debug/shards: the shards this node serves and
// their tables; 400 on a standalone node, as upstream.
func (a *api) debugShards(w http.ResponseWriter, _ *http.Request) {
	if a.shards == nil {
		writeError(w, http.StatusBadRequest, notCluster)
		return
	}
	body, err := json.Marshal(a.shards())
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// shardsOfMember lists the shards HoraeMeta opened here.
func shardsOfMember(m *cluster.Member, e *engine.Engine) func() []shardInfo {
	return func() []shardInfo {
		versions := m.ShardVersions()
		out := make([]shardInfo, 0, len(versions))
		for id, v := range versions {
			held := m.HoldsLock(id)
			si := shardInfo{ID: id, Version: v, LockHeld: &held, Tables: []string{}}
			ts, _ := e.ShardTables(id)
			for _, t := range ts {
				si.Tables = append(si.Tables, t.Database()+"."+t.Name())
			}
			slices.Sort(si.Tables)
			out = append(out, si)
		}
		slices.SortFunc(out, func(a, b shardInfo) int { return cmp.Compare(a.ID, b.ID) })
		return out
	}
}

// shardsOfTopology lists the shards of a static topology this node
// serves, with the tables here placed on them.
func shardsOfTopology(st *router.Static, e *engine.Engine) func() []shardInfo {
	return func() []shardInfo {
		byShard := map[string]*shardInfo{}
		var out []*shardInfo
		for _, name := range st.Serves() { // "schema/id", sorted
			schema, id, _ := strings.Cut(name, "/")
			n, _ := strconv.ParseUint(id, 10, 32)
			si := &shardInfo{ID: uint32(n), Schema: schema, Tables: []string{}}
			byShard[name] = si
			out = append(out, si)
		}
		for _, db := range e.Databases() {
			for _, t := range e.Tables(db) {
				if shard, _, ok, err := st.Shard(db, t.Name()); ok && err == nil {
					if si := byShard[fmt.Sprintf("%s/%d", db, shard)]; si != nil {
						si.Tables = append(si.Tables, db+"."+t.Name())
					}
				}
			}
		}
		res := make([]shardInfo, len(out))
		for i, si := range out {
			slices.Sort(si.Tables)
			res[i] = *si
		}
		return res
	}
}

// shardsLocked is what GET /debug/shards lists: nil on a standalone node.
func (s *Server) shardsLocked(e *engine.Engine) func() []shardInfo {
	switch {
	case s.mu.member != nil:
		return shardsOfMember(s.mu.member, e)
	case s.mu.static != nil:
		return shardsOfTopology(s.mu.static, e)
	}
	return nil
}
