package procedure

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/proto/metapb"
)

// Steps of the DDL procedures.
const (
	stepPrepare  = "prepare"  // check, allocate ids, pick shards
	stepDispatch = "dispatch" // fix shard versions, send the events
	stepCommit   = "commit"   // record the tables and versions
	stepDone     = "done"
)

// MaxSubTables bounds the sub-tables of a partitioned table.
const MaxSubTables = 1024

// CreateTable starts a create-table procedure, or returns the one started
// by an earlier request with the same request id.
func (m *Manager) CreateTable(ctx context.Context, req *metapb.CreateTableRequest, origin string) (*Handle, error) {
	if err := checkCreate(req); err != nil {
		return nil, err
	}
	if err := m.c.CheckDDL(); err != nil {
		return nil, err
	}
	rec := &metapb.Procedure{Kind: metapb.ProcedureKind_PROCEDURE_KIND_CREATE_TABLE, Step: stepPrepare,
		RequestId: req.RequestId, Origin: origin,
		Body: &metapb.Procedure_CreateTable{CreateTable: &metapb.CreateTableProcedure{Request: proto.Clone(req).(*metapb.CreateTableRequest)}}}
	return m.submit(ctx, rec)
}

// DropTable starts a drop-table procedure, or returns the one started by
// an earlier request with the same request id.
func (m *Manager) DropTable(ctx context.Context, req *metapb.DropTableRequest, origin string) (*Handle, error) {
	if req.SchemaName == "" || req.Name == "" {
		return nil, client.Errorf(metapb.Reason_INVALID_ARGUMENT, "drop table: schema and table name are required")
	}
	if err := m.c.CheckDDL(); err != nil {
		return nil, err
	}
	rec := &metapb.Procedure{Kind: metapb.ProcedureKind_PROCEDURE_KIND_DROP_TABLE, Step: stepPrepare,
		RequestId: req.RequestId, Origin: origin,
		Body: &metapb.Procedure_DropTable{DropTable: &metapb.DropTableProcedure{Request: proto.Clone(req).(*metapb.DropTableRequest)}}}
	return m.submit(ctx, rec)
}

func checkCreate(req *metapb.CreateTableRequest) error {
	bad := func(format string, args ...any) error {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "create table: "+format, args...)
	}
	if req.SchemaName == "" || req.Name == "" {
		return bad("schema and table name are required")
	}
	if pt := req.PartitionTableInfo; pt != nil {
		if pt.PartitionInfo == nil || pt.PartitionInfo.Info == nil {
			return bad("%s: partition_table_info without partition_info", req.Name)
		}
		if len(pt.SubTableNames) == 0 || len(pt.SubTableNames) > MaxSubTables {
			return bad("%s: %d sub-tables, want 1..%d", req.Name, len(pt.SubTableNames), MaxSubTables)
		}
		seen := map[string]bool{req.Name: true}
		for _, n := range pt.SubTableNames {
			if n == "" || seen[n] {
				return bad("%s: sub-table name %q is empty or repeated", req.Name, n)
			}
			seen[n] = true
		}
	}
	return nil
}

func (m *Manager) execCreateTable(ctx context.Context, p *proc) error {
	for {
		b := p.rec.GetCreateTable()
		switch p.rec.Step {
		case stepPrepare:
			if done, err := m.prepareCreate(ctx, p, b); err != nil || done {
				return err
			}
		case stepDispatch:
			req := b.Request
			err := m.dispatchOps(ctx, p, b.Ops, "CreateTableOnShard", func(ctx context.Context, op *metapb.TableOp) error {
				_, err := m.d.CreateTableOnShard(ctx, op.Node, &metapb.CreateTableOnShardRequest{
					Header: m.header(p), Update: update(op), Table: op.Table, EncodedSchema: req.EncodedSchema,
					Engine: req.Engine, CreateIfNotExist: req.CreateIfNotExist, Options: req.Options})
				return err
			})
			if err != nil {
				return err
			}
			p.rec.Step = stepCommit
		case stepCommit:
			return m.commitOps(ctx, p, b.Ops, &b.Committed, func(chunk []*metapb.TableOp, last bool) cluster.TableChange {
				var ch cluster.TableChange
				now := m.opts.Now().UnixMilli()
				for _, op := range chunk {
					rec := &metapb.TableRecord{Info: op.Table, ShardId: op.ShardId, CreatedAtMs: now}
					if b.Parent != nil {
						rec.ParentId = b.Parent.Id
					}
					ch.Create = append(ch.Create, rec)
				}
				if last {
					if b.Parent != nil {
						parent := &metapb.TableRecord{Info: b.Parent, CreatedAtMs: now}
						for _, op := range b.Ops {
							parent.SubTableIds = append(parent.SubTableIds, op.Table.Id)
						}
						ch.Create = append(ch.Create, parent)
					}
					b.Result = createResult(b.Parent, b.Ops)
				}
				return ch
			})
		default:
			return fmt.Errorf("procedure %d: unknown step %q", p.id, p.rec.Step)
		}
	}
}

// prepareCreate checks the names, allocates ids and picks shards. done is
// set when the table exists and create_if_not_exist made that a success.
func (m *Manager) prepareCreate(ctx context.Context, p *proc, b *metapb.CreateTableProcedure) (done bool, err error) {
	req := b.Request
	if t, ok := m.c.Table(req.SchemaName, req.Name); ok {
		if !req.CreateIfNotExist {
			return false, client.Errorf(metapb.Reason_TABLE_EXISTS, "table %s.%s already exists (id %d)", req.SchemaName, req.Name, t.Info.Id)
		}
		b.Result = m.existingResult(t)
		m.finish(p)
		return true, m.save(ctx, p)
	}
	names := []string{req.Name}
	if pt := req.PartitionTableInfo; pt != nil {
		names = pt.SubTableNames
		for _, n := range names {
			if t, ok := m.c.Table(req.SchemaName, n); ok {
				return false, client.Errorf(metapb.Reason_TABLE_EXISTS, "sub-table %s.%s of %s already exists (id %d)",
					req.SchemaName, n, req.Name, t.Info.Id)
			}
		}
	}
	schema, err := m.c.EnsureSchema(ctx, req.SchemaName)
	if err != nil {
		return false, err
	}
	m.pickMu.Lock()
	shards, err := m.c.PickShards(len(names), m.pending())
	if err == nil {
		m.reserve(p.id, shards)
	}
	m.pickMu.Unlock()
	if err != nil {
		return false, err
	}
	n := len(names)
	if req.PartitionTableInfo != nil {
		n++
	}
	ids, err := m.c.AllocTableIDs(ctx, n)
	if err != nil {
		return false, err
	}
	b.SchemaId = schema.Id
	if pt := req.PartitionTableInfo; pt != nil {
		b.Parent = &metapb.TableInfo{Id: ids[0], Name: req.Name, SchemaId: schema.Id, SchemaName: schema.Name,
			PartitionInfo: pt.PartitionInfo}
		ids = ids[1:]
	}
	for i, name := range names {
		b.Ops = append(b.Ops, &metapb.TableOp{
			Table:   &metapb.TableInfo{Id: ids[i], Name: name, SchemaId: schema.Id, SchemaName: schema.Name},
			ShardId: shards[i]})
	}
	p.rec.Step = stepDispatch
	return false, m.save(ctx, p)
}

// existingResult answers create_if_not_exist for an existing table.
func (m *Manager) existingResult(t *metapb.TableRecord) *metapb.CreateTableResponse {
	res := &metapb.CreateTableResponse{CreatedTable: t.Info, AlreadyExists: true}
	shardInfo := func(id uint32) *metapb.ShardInfo {
		v, _ := m.c.ShardVersion(id)
		return &metapb.ShardInfo{Id: id, Role: metapb.ShardRole_SHARD_ROLE_LEADER, Version: v}
	}
	if t.Info.PartitionInfo == nil {
		res.ShardInfo = shardInfo(t.ShardId)
		return res
	}
	for _, id := range t.SubTableIds {
		if sub, ok := m.c.TableByID(id); ok {
			res.SubTables = append(res.SubTables, &metapb.SubTable{Table: sub.Info, ShardInfo: shardInfo(sub.ShardId)})
		}
	}
	return res
}

func createResult(parent *metapb.TableInfo, ops []*metapb.TableOp) *metapb.CreateTableResponse {
	info := func(op *metapb.TableOp) *metapb.ShardInfo {
		return &metapb.ShardInfo{Id: op.ShardId, Role: metapb.ShardRole_SHARD_ROLE_LEADER, Version: op.Version}
	}
	if parent == nil {
		return &metapb.CreateTableResponse{CreatedTable: ops[0].Table, ShardInfo: info(ops[0])}
	}
	res := &metapb.CreateTableResponse{CreatedTable: parent}
	for _, op := range ops {
		res.SubTables = append(res.SubTables, &metapb.SubTable{Table: op.Table, ShardInfo: info(op)})
	}
	return res
}

func update(op *metapb.TableOp) *metapb.ShardVersionUpdate {
	return &metapb.ShardVersionUpdate{ShardId: op.ShardId, PrevVersion: op.PrevVersion, Version: op.Version}
}

func (m *Manager) execDropTable(ctx context.Context, p *proc) error {
	for {
		b := p.rec.GetDropTable()
		switch p.rec.Step {
		case stepPrepare:
			if err := m.prepareDrop(ctx, p, b); err != nil {
				return err
			}
		case stepDispatch:
			err := m.dispatchOps(ctx, p, b.Ops, "DropTableOnShard", func(ctx context.Context, op *metapb.TableOp) error {
				_, err := m.d.DropTableOnShard(ctx, op.Node, &metapb.DropTableOnShardRequest{
					Header: m.header(p), Update: update(op), Table: op.Table})
				return err
			})
			if err != nil {
				return err
			}
			p.rec.Step = stepCommit
		case stepCommit:
			return m.commitOps(ctx, p, b.Ops, &b.Committed, func(chunk []*metapb.TableOp, last bool) cluster.TableChange {
				var ch cluster.TableChange
				for _, op := range chunk {
					ch.Drop = append(ch.Drop, op.Table.Id)
				}
				if last {
					if b.Table.PartitionInfo != nil {
						ch.Drop = append(ch.Drop, b.Table.Id)
					}
					b.Result = &metapb.DropTableResponse{DroppedTable: b.Table}
				}
				return ch
			})
		default:
			return fmt.Errorf("procedure %d: unknown step %q", p.id, p.rec.Step)
		}
	}
}

func (m *Manager) prepareDrop(ctx context.Context, p *proc, b *metapb.DropTableProcedure) error {
	req := b.Request
	t, ok := m.c.Table(req.SchemaName, req.Name)
	if !ok {
		return client.Errorf(metapb.Reason_TABLE_NOT_FOUND, "table %s.%s not found", req.SchemaName, req.Name)
	}
	if t.ParentId != 0 {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "table %s.%s is a sub-table of partitioned table %d; drop the partitioned table",
			req.SchemaName, req.Name, t.ParentId)
	}
	b.Table = t.Info
	if t.Info.PartitionInfo == nil {
		b.Ops = []*metapb.TableOp{{Table: t.Info, ShardId: t.ShardId}}
	} else {
		for _, id := range t.SubTableIds {
			if sub, ok := m.c.TableByID(id); ok {
				b.Ops = append(b.Ops, &metapb.TableOp{Table: sub.Info, ShardId: sub.ShardId})
			}
		}
	}
	p.rec.Step = stepDispatch
	return m.save(ctx, p)
}

// dispatchOps locks the ops' shards, fixes their versions and nodes
// (persisted before the first event), and sends each op's event.
func (m *Manager) dispatchOps(ctx context.Context, p *proc, ops []*metapb.TableOp, event string,
	call func(ctx context.Context, op *metapb.TableOp) error) error {
	keys := shardKeys(ops)
	m.locks.add(p.id, keys)
	if err := m.locks.wait(ctx, p.id, keys); err != nil {
		return err
	}
	next := map[uint32]uint64{}
	fixed := false
	for _, op := range ops {
		cur, ok := next[op.ShardId]
		if !ok {
			v, found := m.c.ShardVersion(op.ShardId)
			if !found {
				return client.Errorf(metapb.Reason_SHARD_NOT_FOUND, "shard %d not found", op.ShardId)
			}
			cur = v
		}
		if op.Sent {
			// Fixed before a leader change: nothing else may have changed
			// the shard since (the shard lock).
			if op.PrevVersion != cur {
				return fmt.Errorf("shard %d is at version %d, but procedure %d expected %d", op.ShardId, cur, p.id, op.PrevVersion)
			}
			next[op.ShardId] = op.Version
			continue
		}
		node, _, err := m.c.ShardNode(op.ShardId)
		if err != nil {
			return err
		}
		if node == "" {
			return client.Errorf(metapb.Reason_NODE_DOWN, "shard %d has no node", op.ShardId)
		}
		if alive, _ := m.c.NodeAlive(node); !alive {
			return client.Errorf(metapb.Reason_NODE_DOWN, "node %s of shard %d is down", node, op.ShardId)
		}
		op.Node, op.PrevVersion, op.Version, op.Sent = node, cur, cur+1, true
		next[op.ShardId] = cur + 1
		fixed = true
	}
	if fixed {
		if err := m.save(ctx, p); err != nil {
			return err
		}
	}
	healed := map[uint32]bool{}
	for _, op := range ops {
		if !healed[op.ShardId] {
			healed[op.ShardId] = true
			if err := m.heal(ctx, p, op); err != nil {
				return err
			}
		}
		err := m.send(ctx, p, event, op.Node, func(ctx context.Context) error { return call(ctx, op) })
		if err != nil {
			return err
		}
		m.c.NoteShard(op.Node, op.ShardId, &metapb.ShardInfo{Id: op.ShardId, Role: metapb.ShardRole_SHARD_ROLE_LEADER, Version: op.Version})
	}
	return nil
}

// commitOps commits ops in chunks that fit a transaction, the procedure's
// progress with each, and finishes p with the last.
func (m *Manager) commitOps(ctx context.Context, p *proc, ops []*metapb.TableOp, committed *uint32,
	change func(chunk []*metapb.TableOp, last bool) cluster.TableChange) error {
	per := max((m.opts.MaxOps-4)/3, 1)
	for int(*committed) < len(ops) || len(ops) == 0 {
		prev := proto.Clone(p.rec).(*metapb.Procedure)
		start := int(*committed)
		end := min(start+per, len(ops))
		last := end == len(ops)
		chunk := ops[start:end]
		ch := change(chunk, last)
		ch.Versions = map[uint32]uint64{}
		for _, op := range chunk {
			ch.Versions[op.ShardId] = max(ch.Versions[op.ShardId], op.Version)
		}
		*committed = uint32(end)
		if last {
			m.finish(p)
		}
		if err := m.c.CommitTables(ctx, ch, m.put(p)); err != nil {
			p.rec = prev
			return err
		}
		p.publish()
		if last {
			return nil
		}
	}
	return nil
}

// heal reopens op's shard on its node first when the node is known to hold
// another version than the op starts from (a failed procedure raised it,
// or the node missed a change): the event would be refused otherwise.
// Opening at the version the node holds is a no-op, so a stale report
// costs nothing.
func (m *Manager) heal(ctx context.Context, p *proc, op *metapb.TableOp) error {
	v, open, known := m.c.NodeShardVersion(op.Node, op.ShardId)
	if !known || open && v == op.PrevVersion || open && v == op.Version {
		return nil
	}
	info := &metapb.ShardInfo{Id: op.ShardId, Role: metapb.ShardRole_SHARD_ROLE_LEADER, Version: op.PrevVersion}
	m.logger.Info("reopening shard before changing it", "cluster", m.name, "procedure", p.id, "shard", op.ShardId,
		"node", op.Node, "node_version", v, "open", open, "version", op.PrevVersion)
	err := m.send(ctx, p, "OpenShard", op.Node, func(ctx context.Context) error {
		_, err := m.d.OpenShard(ctx, op.Node, &metapb.OpenShardRequest{Header: m.header(p), Shard: info})
		return err
	})
	if err != nil {
		return err
	}
	m.c.NoteShard(op.Node, op.ShardId, info)
	return nil
}
