package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/metapb"
)

// The MetaEventService of a data node. Every event is first checked
// against the largest meta epoch seen (a deposed leader is refused), then
// serialised with the other events of its shard and decided by the shard
// version rules (client.DecideOpen, DecideClose, DecideUpdate) before the
// engine is touched. Errors go back through client.Status: the fencing
// reasons and InvalidArgument are final, anything else (Internal,
// Unavailable, ...) is retried by HoraeMeta.

// OpenShard implements metapb.MetaEventServiceServer: it fetches the
// shard's tables from the meta service, opens the shard in the engine
// serving only those tables (replaying its WAL), and holds the version.
func (m *Member) OpenShard(ctx context.Context, req *metapb.OpenShardRequest) (*metapb.OpenShardResponse, error) {
	id, v := req.GetShard().GetId(), req.GetShard().GetVersion()
	if err := m.epoch.Admit(req.GetHeader().GetMetaEpoch()); err != nil {
		return nil, client.Status(err)
	}
	unlock := m.lockShard(id)
	defer unlock()
	held, open := m.held(id)
	act, err := client.DecideOpen(id, open, held, v)
	if err != nil {
		return nil, client.Status(err)
	}
	if act == client.OpenRepeat {
		return &metapb.OpenShardResponse{Shard: m.shardInfo(id)}, nil
	}
	resp, err := m.o.Meta.GetTablesOfShards(ctx, []uint32{id})
	if err != nil {
		return nil, client.Status(fmt.Errorf("cluster: open shard %d: list its tables: %w", id, err))
	}
	locked := false
	if m.shardLocks != nil && !m.shardLocks.Holds(id) {
		if err := m.shardLocks.Acquire(ctx, id); err != nil {
			// Retryable: HoraeMeta retries Unavailable until its deadline.
			return nil, status.Error(codes.Unavailable, fmt.Sprintf("open shard %d: %v", id, err))
		}
		locked = true
	}
	st, err := m.openTables(ctx, id, act == client.OpenReload, resp.GetTablesByShard()[id].GetTables())
	if err != nil {
		if locked {
			m.releaseLock(id)
		}
		return nil, client.Status(fmt.Errorf("cluster: open shard %d: %w", id, err))
	}
	m.unfence(id)
	m.setShard(id, v, st)
	m.log.Info("shard opened", "shard", id, "version", v, "reload", act == client.OpenReload,
		"status", st.String(), "meta_epoch", req.GetHeader().GetMetaEpoch(), "procedure", req.GetHeader().GetProcedureId())
	return &metapb.OpenShardResponse{Shard: m.shardInfo(id)}, nil
}

// openTables makes the engine serve shard id with exactly the listed
// tables. A reload of a shard that already serves them changes nothing;
// otherwise the shard is (flushed, closed and) opened again. A listed table
// the engine does not have (no schema in this node's storage) leaves the
// shard PARTIAL_OPEN.
func (m *Member) openTables(ctx context.Context, id uint32, reload bool, listed []*metapb.TableInfo) (metapb.ShardStatus, error) {
	want := make(map[uint64]*metapb.TableInfo, len(listed))
	for _, t := range listed {
		if t.GetPartitionInfo() == nil { // a partitioned parent lives on no shard
			want[t.GetId()] = t
		}
	}
	if open, err := m.o.Engine.ShardTables(id); err == nil {
		if reload && sameTables(open, want) {
			return statusOf(open, want), nil
		}
		// Stale (the member does not hold it, or holds other tables):
		// flush and close it, then open what is listed.
		if err := m.o.Engine.CloseShard(ctx, id, true); err != nil {
			m.log.Warn("closing the shard before reopening it", "shard", id, "err", err)
		}
	}
	keep := func(tid uint64) bool { return want[tid] != nil }
	if err := m.o.Engine.OpenShardTables(ctx, id, keep); err != nil {
		return 0, err
	}
	open, err := m.o.Engine.ShardTables(id)
	if err != nil {
		return 0, err
	}
	st := statusOf(open, want)
	if st != metapb.ShardStatus_SHARD_STATUS_READY {
		have := map[uint64]bool{}
		for _, t := range open {
			have[t.ID()] = true
		}
		for tid, t := range want {
			if !have[tid] {
				m.log.Error("a table of the shard is not in this node's storage; the shard is partially open",
					"shard", id, "table", t.GetName(), "schema", t.GetSchemaName(), "table_id", tid)
			}
		}
	}
	return st, nil
}

func sameTables(open []*engine.Table, want map[uint64]*metapb.TableInfo) bool {
	if len(open) != len(want) {
		return false
	}
	for _, t := range open {
		if want[t.ID()] == nil {
			return false
		}
	}
	return true
}

// statusOf is READY when every wanted table is open.
func statusOf(open []*engine.Table, want map[uint64]*metapb.TableInfo) metapb.ShardStatus {
	n := 0
	for _, t := range open {
		if want[t.ID()] != nil {
			n++
		}
	}
	if n < len(want) {
		return metapb.ShardStatus_SHARD_STATUS_PARTIAL_OPEN
	}
	return metapb.ShardStatus_SHARD_STATUS_READY
}

func (m *Member) shardInfo(id uint32) *metapb.ShardInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	info := &metapb.ShardInfo{Id: id, Role: metapb.ShardRole_SHARD_ROLE_LEADER}
	if s := m.mu.shards[id]; s != nil {
		info.Version, info.Status = s.version, s.status
	}
	return info
}

// CloseShard implements metapb.MetaEventServiceServer: it flushes the
// shard's memtables (so whoever opens it next replays less) and stops
// serving it.
func (m *Member) CloseShard(ctx context.Context, req *metapb.CloseShardRequest) (*metapb.CloseShardResponse, error) {
	id, v := req.GetShard().GetId(), req.GetShard().GetVersion()
	if err := m.epoch.Admit(req.GetHeader().GetMetaEpoch()); err != nil {
		return nil, client.Status(err)
	}
	unlock := m.lockShard(id)
	defer unlock()
	held, open := m.held(id)
	doClose, err := client.DecideClose(id, open, held, v)
	if err != nil {
		return nil, client.Status(err)
	}
	if doClose {
		m.forgetShard(id)
		if err := m.o.Engine.CloseShard(ctx, id, true); err != nil && !errors.Is(err, engine.ErrShardNotOpen) {
			// Closed anyway; what was not flushed is in the WAL.
			m.log.Warn("closing shard", "shard", id, "err", err)
		}
		m.log.Info("shard closed", "shard", id, "version", v, "meta_epoch", req.GetHeader().GetMetaEpoch())
	} else if m.Serving(id) != nil {
		// Fenced (its lock was lost) and not closed yet: close it without
		// flushing; the lock is not ours.
		if err := m.o.Engine.CloseShard(ctx, id, false); err != nil && !errors.Is(err, engine.ErrShardNotOpen) {
			m.log.Warn("closing a fenced shard", "shard", id, "err", err)
		}
		m.unfence(id)
	}
	// Released only once the shard is closed (and flushed): the next owner
	// can take it from here.
	m.releaseLock(id)
	return &metapb.CloseShardResponse{}, nil
}

// localTable returns the engine's table of t when it is t (same id) on
// shard id.
func (m *Member) localTable(id uint32, t *metapb.TableInfo) *engine.Table {
	et, err := m.o.Engine.Table(t.GetSchemaName(), t.GetName())
	if err != nil || et.ID() != t.GetId() || et.ShardID() != id {
		return nil
	}
	return et
}

// CreateTableOnShard implements metapb.MetaEventServiceServer.
func (m *Member) CreateTableOnShard(ctx context.Context, req *metapb.CreateTableOnShardRequest) (*metapb.CreateTableOnShardResponse, error) {
	u, t := req.GetUpdate(), req.GetTable()
	if err := m.epoch.Admit(req.GetHeader().GetMetaEpoch()); err != nil {
		return nil, client.Status(err)
	}
	unlock := m.lockShard(u.GetShardId())
	defer unlock()
	held, open := m.held(u.GetShardId())
	exists := open && m.localTable(u.GetShardId(), t) != nil
	apply, err := client.DecideUpdate(m.o.Endpoint, u, open, held, exists)
	if err != nil {
		return nil, client.Status(err)
	}
	if apply && !exists {
		if err := m.createTable(ctx, req); err != nil {
			return nil, client.Status(err)
		}
	}
	m.setVersion(u.GetShardId(), u.GetVersion())
	return &metapb.CreateTableOnShardResponse{ShardVersion: u.GetVersion()}, nil
}

func (m *Member) createTable(ctx context.Context, req *metapb.CreateTableOnShardRequest) error {
	t := req.GetTable()
	sch, err := DecodeSchema(req.GetEncodedSchema())
	if err != nil {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "table %s: %v", t.GetName(), err)
	}
	opts, err := options.Default().Apply(req.GetOptions(), true)
	if err != nil {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "table %s: %v", t.GetName(), err)
	}
	_, err = m.o.Engine.CreateTable(ctx, engine.CreateTableRequest{ID: t.GetId(), Database: t.GetSchemaName(),
		Name: t.GetName(), ShardID: req.GetUpdate().GetShardId(), Schema: sch, Options: &opts})
	if errors.Is(err, engine.ErrTableExists) {
		return client.Errorf(metapb.Reason_TABLE_EXISTS, "table %s.%s: another table of that name is open on %s",
			t.GetSchemaName(), t.GetName(), m.o.Endpoint)
	}
	if err != nil {
		return fmt.Errorf("cluster: create table %s.%s on shard %d: %w", t.GetSchemaName(), t.GetName(),
			req.GetUpdate().GetShardId(), err)
	}
	m.log.Info("table created", "table", t.GetName(), "schema", t.GetSchemaName(), "table_id", t.GetId(),
		"shard", req.GetUpdate().GetShardId(), "version", req.GetUpdate().GetVersion())
	return nil
}

// DropTableOnShard implements metapb.MetaEventServiceServer.
func (m *Member) DropTableOnShard(ctx context.Context, req *metapb.DropTableOnShardRequest) (*metapb.DropTableOnShardResponse, error) {
	u, t := req.GetUpdate(), req.GetTable()
	if err := m.epoch.Admit(req.GetHeader().GetMetaEpoch()); err != nil {
		return nil, client.Status(err)
	}
	unlock := m.lockShard(u.GetShardId())
	defer unlock()
	held, open := m.held(u.GetShardId())
	et := m.localTable(u.GetShardId(), t)
	apply, err := client.DecideUpdate(m.o.Endpoint, u, open, held, et == nil)
	if err != nil {
		return nil, client.Status(err)
	}
	if apply && et != nil {
		err := m.o.Engine.DropTable(ctx, t.GetSchemaName(), t.GetName())
		if err != nil && !errors.Is(err, engine.ErrTableNotFound) {
			return nil, client.Status(fmt.Errorf("cluster: drop table %s.%s: %w", t.GetSchemaName(), t.GetName(), err))
		}
		m.log.Info("table dropped", "table", t.GetName(), "schema", t.GetSchemaName(), "table_id", t.GetId(),
			"shard", u.GetShardId(), "version", u.GetVersion())
	}
	m.setVersion(u.GetShardId(), u.GetVersion())
	return &metapb.DropTableOnShardResponse{ShardVersion: u.GetVersion()}, nil
}

// releaseLock gives the lock of shard id up, if the node holds it.
func (m *Member) releaseLock(id uint32) {
	if m.shardLocks == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.shardLocks.Release(ctx, id); err != nil {
		m.log.Warn("releasing a shard lock", "shard", id, "err", err)
	}
}
