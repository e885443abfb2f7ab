package cluster

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// maxNameLen bounds schema and table names.
const maxNameLen = 512

func checkName(what, name string) error {
	if name == "" {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "empty %s name", what)
	}
	if len(name) > maxNameLen {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "%s name of %d bytes is longer than %d", what, len(name), maxNameLen)
	}
	return nil
}

// Schema returns a schema by name.
func (c *Cluster) Schema(name string) (*metapb.SchemaRecord, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.mu.schemaN[name]
	if !ok {
		return nil, false
	}
	return proto.Clone(c.mu.schemas[id]).(*metapb.SchemaRecord), true
}

// Schemas returns every schema, by id.
func (c *Cluster) Schemas() []*metapb.SchemaRecord {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*metapb.SchemaRecord, 0, len(c.mu.schemas))
	for _, s := range c.mu.schemas {
		out = append(out, proto.Clone(s).(*metapb.SchemaRecord))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out
}

// EnsureSchema returns the schema named name, creating it if needed.
func (c *Cluster) EnsureSchema(ctx context.Context, name string) (*metapb.SchemaRecord, error) {
	if err := checkName("schema", name); err != nil {
		return nil, err
	}
	if s, ok := c.Schema(name); ok {
		return s, nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if s, ok := c.Schema(name); ok {
		return s, nil
	}
	id, err := c.schemaIDs.Next(ctx)
	if err != nil {
		return nil, err
	}
	if id > 1<<32-1 {
		return nil, fmt.Errorf("cluster %s: schema ids exhausted", c.Name())
	}
	s := &metapb.SchemaRecord{Id: uint32(id), Name: name, CreatedAtMs: c.opts.Now().UnixMilli()}
	nameKey := c.keys.SchemaName(c.id, name)
	conds := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(nameKey), "=", 0)}
	ops := []clientv3.Op{storage.PutString(nameKey, strconv.FormatUint(id, 10)), storage.Put(c.keys.Schema(c.id, s.Id), s)}
	err = c.commit(ctx, conds, ops, func(int64) {
		c.mu.schemas[s.Id], c.mu.schemaN[name] = s, s.Id
	})
	if err != nil {
		return nil, err
	}
	c.logger.Info("schema created", "cluster", c.Name(), "schema", name, "id", s.Id)
	return proto.Clone(s).(*metapb.SchemaRecord), nil
}

// Table returns a table by schema and name.
func (c *Cluster) Table(schemaName, name string) (*metapb.TableRecord, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tableLocked(schemaName, name)
}

func (c *Cluster) tableLocked(schemaName, name string) (*metapb.TableRecord, bool) {
	sid, ok := c.mu.schemaN[schemaName]
	if !ok {
		return nil, false
	}
	id, ok := c.mu.tableN[tableKey{sid, name}]
	if !ok {
		return nil, false
	}
	return proto.Clone(c.mu.tables[id]).(*metapb.TableRecord), true
}

// TableByID returns a table by id.
func (c *Cluster) TableByID(id uint64) (*metapb.TableRecord, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.mu.tables[id]
	if !ok {
		return nil, false
	}
	return proto.Clone(t).(*metapb.TableRecord), true
}

// Tables returns the tables of a schema ("" for all), by id.
func (c *Cluster) Tables(schemaName string) []*metapb.TableRecord {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*metapb.TableRecord, 0, len(c.mu.tables))
	for _, t := range c.mu.tables {
		if schemaName == "" || t.Info.SchemaName == schemaName {
			out = append(out, proto.Clone(t).(*metapb.TableRecord))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info.Id < out[j].Info.Id })
	return out
}

// AllocTableIDs allocates n table ids.
func (c *Cluster) AllocTableIDs(ctx context.Context, n int) ([]uint64, error) {
	return c.tableIDs.NextN(ctx, n)
}

// CheckDDL refuses DDL unless the cluster is Stable.
func (c *Cluster) CheckDDL() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ensureStableLocked()
}

// PickShards picks n shards for new tables: those with the fewest tables
// (counting pending, tables being created) among shards whose node is
// alive, ties to the lower id, all different while there are enough shards.
func (c *Cluster) PickShards(n int, pending map[uint32]int) ([]uint32, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	now := c.opts.Now()
	type cand struct {
		id     uint32
		tables int
	}
	var cands []cand
	for _, sn := range c.mu.view.ShardNodes {
		nd := c.mu.nodes[sn.Node]
		if nd == nil || !c.aliveLocked(nd, now) {
			continue
		}
		cands = append(cands, cand{sn.ShardId, len(c.mu.shards[sn.ShardId].tables) + pending[sn.ShardId]})
	}
	if len(cands) == 0 {
		return nil, client.Errorf(metapb.Reason_NODE_DOWN, "cluster %s: no shard has a live node", c.mu.info.Name)
	}
	out := make([]uint32, 0, n)
	for len(out) < n {
		sort.Slice(cands, func(i, j int) bool {
			if cands[i].tables != cands[j].tables {
				return cands[i].tables < cands[j].tables
			}
			return cands[i].id < cands[j].id
		})
		out = append(out, cands[0].id)
		cands[0].tables++
	}
	return out, nil
}

// TableChange is what a DDL procedure commits: tables created and
// dropped, and the shard versions that include the change.
type TableChange struct {
	Create []*metapb.TableRecord
	Drop   []uint64
	// Versions sets shards' versions; each must be above the current one.
	Versions map[uint32]uint64
}

// CommitTables commits a table change and extra operations (the
// procedure's record) in one transaction.
func (c *Cluster) CommitTables(ctx context.Context, ch TableChange, extra ...clientv3.Op) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.RLock()
	var conds []clientv3.Cmp
	var ops []clientv3.Op
	shardViews := map[uint32]*metapb.ShardView{}
	now := c.opts.Now().UnixMilli()
	for id, v := range ch.Versions {
		sh := c.mu.shards[id]
		if sh == nil {
			c.mu.RUnlock()
			return client.Errorf(metapb.Reason_SHARD_NOT_FOUND, "cluster %s has no shard %d", c.mu.info.Name, id)
		}
		if v <= sh.view.Version {
			c.mu.RUnlock()
			return fmt.Errorf("%w: shard %d is at version %d, not below %d", storage.ErrConflict, id, sh.view.Version, v)
		}
		sv := &metapb.ShardView{ShardId: id, Version: v, UpdatedAtMs: now}
		shardViews[id] = sv
		key := c.keys.Shard(c.id, id)
		conds = append(conds, clientv3.Compare(clientv3.ModRevision(key), "=", sh.modRev))
		ops = append(ops, storage.Put(key, sv))
	}
	for _, t := range ch.Create {
		nameKey := c.keys.TableName(c.id, t.Info.SchemaId, t.Info.Name)
		conds = append(conds, clientv3.Compare(clientv3.CreateRevision(nameKey), "=", 0))
		rec := proto.Clone(t).(*metapb.TableRecord)
		rec.Info.SchemaName = "" // derived from the schema on load
		ops = append(ops, storage.PutString(nameKey, strconv.FormatUint(t.Info.Id, 10)), storage.Put(c.keys.Table(c.id, t.Info.Id), rec))
	}
	var dropped []*metapb.TableRecord
	for _, id := range ch.Drop {
		t := c.mu.tables[id]
		if t == nil {
			continue
		}
		dropped = append(dropped, t)
		ops = append(ops, clientv3.OpDelete(c.keys.TableName(c.id, t.Info.SchemaId, t.Info.Name)), clientv3.OpDelete(c.keys.Table(c.id, id)))
	}
	c.mu.RUnlock()
	ops = append(ops, extra...)
	return c.commit(ctx, conds, ops, func(rev int64) {
		for id, sv := range shardViews {
			c.mu.shards[id].view, c.mu.shards[id].modRev = sv, rev
		}
		for _, t := range dropped {
			delete(c.mu.tables, t.Info.Id)
			delete(c.mu.tableN, tableKey{t.Info.SchemaId, t.Info.Name})
			if sh := c.mu.shards[t.ShardId]; sh != nil && t.Info.PartitionInfo == nil {
				delete(sh.tables, t.Info.Id)
			}
		}
		for _, t := range ch.Create {
			t = proto.Clone(t).(*metapb.TableRecord)
			c.mu.tables[t.Info.Id] = t
			c.mu.tableN[tableKey{t.Info.SchemaId, t.Info.Name}] = t.Info.Id
			if t.Info.PartitionInfo == nil {
				c.mu.shards[t.ShardId].tables[t.Info.Id] = struct{}{}
			}
		}
	})
}

// TablesOfShards lists the tables of shards at their current versions.
func (c *Cluster) TablesOfShards(ids []uint32) (map[uint32]*metapb.TablesOfShard, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[uint32]*metapb.TablesOfShard, len(ids))
	for _, id := range ids {
		sh := c.mu.shards[id]
		if sh == nil {
			return nil, client.Errorf(metapb.Reason_SHARD_NOT_FOUND, "cluster %s has no shard %d", c.mu.info.Name, id)
		}
		ts := &metapb.TablesOfShard{ShardInfo: c.shardInfoLocked(id, metapb.ShardRole_SHARD_ROLE_LEADER)}
		tids := make([]uint64, 0, len(sh.tables))
		for tid := range sh.tables {
			tids = append(tids, tid)
		}
		slices.Sort(tids)
		for _, tid := range tids {
			ts.Tables = append(ts.Tables, proto.Clone(c.mu.tables[tid].Info).(*metapb.TableInfo))
		}
		out[id] = ts
	}
	return out, nil
}

// Route says where tables of a schema live; unknown tables are left out.
func (c *Cluster) Route(schemaName string, names []string) *metapb.RouteTablesResponse {
	c.mu.RLock()
	defer c.mu.RUnlock()
	resp := &metapb.RouteTablesResponse{ClusterTopologyVersion: c.mu.view.Version, Entries: map[string]*metapb.RouteEntry{}}
	for _, name := range names {
		t, ok := c.tableLocked(schemaName, name)
		if !ok {
			continue
		}
		e := &metapb.RouteEntry{Table: t.Info}
		if t.Info.PartitionInfo == nil {
			if node := c.nodeOfLocked(t.ShardId); node != "" {
				e.NodeShards = []*metapb.NodeShard{{Endpoint: node, ShardInfo: c.shardInfoLocked(t.ShardId, metapb.ShardRole_SHARD_ROLE_LEADER)}}
			}
		}
		resp.Entries[name] = e
	}
	return resp
}
