package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/horaego/horaedb/engine"
)

// What the node does when it loses a shard's lock (shardlock.go): at once,
// the shard is fenced (its tables are refused with ErrShardLockLost) and
// dropped from the heartbeats, so HoraeMeta opens it again, here or
// elsewhere; then, fenceCloseGrace later (so that a statement that looked
// its table up just before ends with its own result, not a "dropped
// table") and serialised with the shard's events, the engine closes the
// shard without flushing (what is unflushed stays in the WAL, which
// whoever opens it next replays). An OpenShard of the shard takes the lock
// again and lifts the fence.

// fenceCloseGrace is the time between fencing a shard and closing it in
// the engine.
const fenceCloseGrace = time.Second

// fence marks a shard whose lock was lost, and the tables it served: they
// are refused with ErrShardLockLost (not "not found") until HoraeMeta
// opens or closes the shard here.
type fence struct {
	reason string
	tables map[[2]string]bool // database, name
}

// lockLost is shardLocks' onLost.
func (m *Member) lockLost(id uint32, reason string) {
	f := &fence{reason: reason, tables: map[[2]string]bool{}}
	if ts, err := m.o.Engine.ShardTables(id); err == nil {
		for _, t := range ts {
			f.tables[[2]string{t.Database(), t.Name()}] = true
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mu.fenced[id] = f
	delete(m.mu.shards, id)
	if m.mu.closed {
		return // the engine closes with the node
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTimer(fenceCloseGrace)
		defer t.Stop()
		select {
		case <-m.stop:
			return // the engine closes with the node
		case <-t.C:
		}
		m.closeFenced(id, f)
	}()
}

// closeFenced closes shard id in the engine, without flushing, if it is
// still fenced by f. The fence stays.
func (m *Member) closeFenced(id uint32, f *fence) {
	unlock := m.lockShard(id)
	defer unlock()
	m.mu.Lock()
	still := m.mu.fenced[id] == f
	m.mu.Unlock()
	if !still {
		return // opened again meanwhile
	}
	if err := m.o.Engine.CloseShard(context.Background(), id, false); err != nil && !errors.Is(err, engine.ErrShardNotOpen) {
		m.log.Warn("closing a shard whose lock was lost", "shard", id, "err", err)
	}
	m.log.Info("closed a shard whose lock was lost", "shard", id)
}

// unfence lifts the fence of shard id (an OpenShard took its lock again).
func (m *Member) unfence(id uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mu.fenced, id)
}

// Serving returns nil if the node may read and write the tables of shard
// id as far as its lock goes, else an error wrapping ErrShardLockLost.
func (m *Member) Serving(id uint32) error {
	m.mu.Lock()
	f := m.mu.fenced[id]
	m.mu.Unlock()
	if f != nil {
		return fmt.Errorf("%w: shard %d (%s)", ErrShardLockLost, id, f.reason)
	}
	return nil
}

// fencedTable returns an error wrapping ErrShardLockLost if the table
// database.name was served by a shard fenced since.
func (m *Member) fencedTable(database, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, f := range m.mu.fenced {
		if f.tables[[2]string{database, name}] {
			return fmt.Errorf("%w: shard %d (%s)", ErrShardLockLost, id, f.reason)
		}
	}
	return nil
}

// HoldsLock reports whether the node holds the lock of shard id (always
// false without shard locks).
func (m *Member) HoldsLock(id uint32) bool {
	return m.shardLocks != nil && m.shardLocks.Holds(id)
}

// Serves reports whether the node serves table database.name now: it is
// open here and its shard's lock is held (or locks are off).
func (m *Member) Serves(database, name string) bool {
	t, err := m.o.Engine.Table(database, name)
	return err == nil && m.Serving(t.ShardID()) == nil
}
