package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/horaego/horaedb/engine/internal/manifest"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
)

// CreateTableRequest describes a new table.
type CreateTableRequest struct {
	// ID of the table; 0 allocates one (standalone; a cluster's meta
	// service hands ids out instead).
	ID       uint64
	Database string
	Name     string
	ShardID  uint32
	Schema   *schema.Schema
	// Options; nil means the engine's default table options.
	Options *options.Table
}

// CreateTable creates and opens a table in an open shard.
func (e *Engine) CreateTable(ctx context.Context, req CreateTableRequest) (*Table, error) {
	if req.Name == "" {
		return nil, fmt.Errorf("engine: create table: empty table name")
	}
	key := tableKey{req.Database, req.Name}
	e.mu.Lock()
	if e.mu.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	s, ok := e.mu.shards[req.ShardID]
	if !ok {
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: shard %d", ErrShardNotOpen, req.ShardID)
	}
	if _, exists := e.mu.byName[key]; exists || e.mu.creating[key] {
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrTableExists, req.Name)
	}
	e.mu.creating[key] = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.mu.creating, key)
		e.mu.Unlock()
	}()

	if req.ID == 0 {
		id, err := e.AllocTableID(ctx)
		if err != nil {
			return nil, err
		}
		req.ID = id
	}
	opts := *e.o.DefaultTableOptions
	if req.Options != nil {
		opts = *req.Options
	}
	meta := manifest.TableMeta{ID: req.ID, Name: req.Name, Database: req.Database, ShardID: req.ShardID}
	m, err := manifest.Create(ctx, e.o.Store, manifest.State{Table: meta, Schema: req.Schema, Options: opts}, e.o.SnapshotEvery)
	if err != nil {
		return nil, fmt.Errorf("engine: create table %s: %w", req.Name, err)
	}
	data, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	// The registry entry makes the table exist.
	if err := e.o.Store.Put(ctx, registryKey(req.ShardID, req.ID), data); err != nil {
		_ = manifest.Delete(ctx, e.o.Store, req.ID)
		return nil, fmt.Errorf("engine: create table %s: %w", req.Name, err)
	}
	t := e.newTable(s, m)
	e.mu.Lock()
	defer e.mu.Unlock()
	if cur, ok := e.mu.shards[req.ShardID]; !ok || cur != s {
		return nil, fmt.Errorf("%w: shard %d closed while creating %s", ErrShardNotOpen, req.ShardID, req.Name)
	}
	s.tables[t.ID()] = t
	e.mu.byName[key] = t
	e.log.Info("table created", "table", req.Name, "id", req.ID, "shard", req.ShardID)
	return t, nil
}

// DropTable drops a table: it stops serving it, removes it from its
// shard's registry, its WAL entries and its files.
func (e *Engine) DropTable(ctx context.Context, database, name string) error {
	key := tableKey{database, name}
	e.mu.Lock()
	t, ok := e.mu.byName[key]
	if !ok {
		e.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrTableNotFound, name)
	}
	s := e.mu.shards[t.ShardID()]
	e.mu.creating[key] = true // no re-create until the drop is done
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.mu.creating, key)
		e.mu.Unlock()
	}()

	// Stop writers and flushes.
	t.flushMu.Lock()
	t.writeMu.Lock()
	t.dropped.Store(true)
	t.writeMu.Unlock()
	t.flushMu.Unlock()

	if err := e.o.Store.Delete(ctx, registryKey(t.ShardID(), t.ID())); err != nil {
		t.dropped.Store(false)
		return fmt.Errorf("engine: drop table %s: %w", name, err)
	}
	t.writeMu.Lock()
	t.releaseMemtables()
	t.writeMu.Unlock()
	e.mu.Lock()
	delete(e.mu.byName, key)
	if s != nil {
		delete(s.tables, t.ID())
	}
	e.mu.Unlock()
	// The table is gone; what follows is cleanup that a crash may leave
	// undone without harm.
	var errs []error
	errs = append(errs, t.log.DropTable(ctx, t.ID()))
	errs = append(errs, manifest.Delete(ctx, e.o.Store, t.ID()))
	if err := errors.Join(errs...); err != nil {
		e.log.Warn("cleanup after drop failed", "table", name, "err", err)
	}
	e.log.Info("table dropped", "table", name, "id", t.ID())
	return nil
}

const nextIDKey = "engine/next_table_id"

// AllocTableID returns a table id never handed out before by this store.
// Standalone nodes use it; in a cluster the meta service allocates ids.
func (e *Engine) AllocTableID(ctx context.Context) (uint64, error) {
	e.idMu.Lock()
	defer e.idMu.Unlock()
	e.mu.Lock()
	next := e.mu.nextID
	e.mu.Unlock()
	data, err := e.o.Store.Get(ctx, nextIDKey)
	switch {
	case err == nil:
		stored, perr := strconv.ParseUint(string(data), 10, 64)
		if perr != nil {
			return 0, fmt.Errorf("engine: corrupt %s: %v", nextIDKey, perr)
		}
		next = max(next, stored)
	case !errors.Is(err, objstore.ErrNotFound):
		return 0, err
	}
	next = max(next, 1)
	if err := e.o.Store.Put(ctx, nextIDKey, []byte(strconv.FormatUint(next+1, 10))); err != nil {
		return 0, err
	}
	e.mu.Lock()
	e.mu.nextID = max(e.mu.nextID, next+1)
	e.mu.Unlock()
	return next, nil
}
