// Package procedure runs HoraeMeta's procedures: create/drop table and
// open/close/transfer shard, as explicit state machines persisted in etcd
// (meta/docs/procedures.md).
//
// A procedure's record is written before it starts and after every step
// that must survive a leader change; the step that changes cluster
// metadata commits the record in the same transaction. A new leader loads
// every RUNNING record and resumes it from its step. Steps are idempotent:
// an event sent again carries the same shard versions, and the node
// answers a repeat of a change it already applied with success. Sending an
// event is retried with backoff until the procedure's deadline
// (procedure-timeout); then the procedure fails with a timeout error that
// says what it was waiting for. No procedure is dropped silently: it ends
// FINISHED or FAILED, or it stays RUNNING for the next leader.
package procedure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("procedure: manager closed")

// Dispatcher sends events to data nodes.
type Dispatcher interface {
	OpenShard(ctx context.Context, node string, req *metapb.OpenShardRequest) (*metapb.OpenShardResponse, error)
	CloseShard(ctx context.Context, node string, req *metapb.CloseShardRequest) (*metapb.CloseShardResponse, error)
	CreateTableOnShard(ctx context.Context, node string, req *metapb.CreateTableOnShardRequest) (*metapb.CreateTableOnShardResponse, error)
	DropTableOnShard(ctx context.Context, node string, req *metapb.DropTableOnShardRequest) (*metapb.DropTableOnShardResponse, error)
}

// Observer is told what procedures do (metrics); every method must be
// cheap.
type Observer interface {
	ProcedureStarted(cluster string, kind metapb.ProcedureKind)
	ProcedureEnded(cluster string, kind metapb.ProcedureKind, state metapb.ProcedureState)
	EventSent(cluster, event string, err error)
}

// Options configure a Manager.
type Options struct {
	// Timeout bounds a procedure.
	Timeout time.Duration
	// MaxOps caps the operations of one etcd transaction.
	MaxOps int
	// DispatchTimeout bounds one event.
	DispatchTimeout time.Duration
	// Retention is how long finished procedures are kept.
	Retention time.Duration
	// Epoch and Leader name the leader term in events.
	Epoch  uint64
	Leader string
	// OnTermError is called when the term can no longer be trusted: a
	// write's outcome is unknown, or a node has seen a newer epoch.
	OnTermError func(error)
	// Observer may be nil.
	Observer Observer
	// OnEnd, if set, is called after a procedure ends or stops.
	OnEnd func()
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Manager runs the procedures of one cluster during one leader term.
type Manager struct {
	c      *cluster.Cluster
	d      Dispatcher
	logger *slog.Logger
	opts   Options
	name   string
	locks  *lockTable
	pickMu sync.Mutex // makes picking shards and reserving them one step
	done   chan struct{}
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		closed    bool
		procs     map[uint64]*proc
		byRequest map[string]*proc
		// reserved are the shards running create-table procedures picked,
		// so that concurrent creates spread.
		reserved map[uint64][]uint32
	}
}

// proc is a procedure in memory.
type proc struct {
	id   uint64
	kind metapb.ProcedureKind
	// rec is owned by the procedure's goroutine while it runs; others read
	// snapshot.
	rec  *metapb.Procedure
	done chan struct{}

	mu struct {
		sync.Mutex
		snapshot *metapb.Procedure
		err      error
	}
}

func (p *proc) publish() {
	s := proto.Clone(p.rec).(*metapb.Procedure)
	p.mu.Lock()
	p.mu.snapshot = s
	p.mu.Unlock()
}

func (p *proc) snapshot() *metapb.Procedure {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.snapshot
}

// Handle waits for a procedure.
type Handle struct{ p *proc }

// ID returns the procedure id.
func (h *Handle) ID() uint64 { return h.p.id }

// Done is closed when the procedure has ended (or stopped with the term).
func (h *Handle) Done() <-chan struct{} { return h.p.done }

// Wait waits for the procedure and returns its final record, or its error.
func (h *Handle) Wait(ctx context.Context) (*metapb.Procedure, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-h.p.done:
	}
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	return h.p.mu.snapshot, h.p.mu.err
}

// New returns a Manager for c. It starts nothing; Resume starts the
// procedures loaded with the cluster.
func New(c *cluster.Cluster, d Dispatcher, logger *slog.Logger, opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{c: c, d: d, logger: logger, opts: opts, name: c.Name(), locks: newLockTable(), done: make(chan struct{})}
	m.mu.procs = map[uint64]*proc{}
	m.mu.byRequest = map[string]*proc{}
	m.mu.reserved = map[uint64][]uint32{}
	return m
}

// Resume registers the procedures read from etcd: RUNNING ones start again
// from their steps, in id order (so they queue for their locks before any
// new procedure); ended ones are kept for idempotent retries until their
// retention passes. It also starts the janitor that forgets old ones.
func (m *Manager) Resume(records []*metapb.Procedure) {
	sort.Slice(records, func(i, j int) bool { return records[i].Id < records[j].Id })
	for _, rec := range records {
		p := &proc{id: rec.Id, kind: rec.Kind, rec: proto.Clone(rec).(*metapb.Procedure), done: make(chan struct{})}
		p.publish()
		if rec.State != metapb.ProcedureState_PROCEDURE_STATE_RUNNING {
			p.mu.err = recordError(rec)
			close(p.done)
			m.register(p, nil)
			continue
		}
		m.logger.Info("resuming procedure", "cluster", m.name, "id", rec.Id, "kind", rec.Kind, "step", rec.Step)
		m.register(p, lockKeys(rec))
		m.launch(p)
	}
	m.wg.Add(1)
	go m.janitor()
}

// register records p and queues it on keys.
func (m *Manager) register(p *proc, keys []string) {
	m.mu.Lock()
	m.mu.procs[p.id] = p
	if p.rec.RequestId != "" {
		m.mu.byRequest[p.rec.RequestId] = p
	}
	m.mu.Unlock()
	if len(keys) > 0 {
		m.locks.add(p.id, keys)
	}
}

// lockKeys are the keys a procedure queues on when it starts (resumed
// DDL procedures that have picked shards queue those too).
func lockKeys(rec *metapb.Procedure) []string {
	var keys []string
	if k := nameKey(rec); k != "" {
		keys = append(keys, k)
	}
	var ops []*metapb.TableOp
	switch b := rec.Body.(type) {
	case *metapb.Procedure_CreateTable:
		ops = b.CreateTable.Ops
	case *metapb.Procedure_DropTable:
		ops = b.DropTable.Ops
	case *metapb.Procedure_Shard:
		keys = append(keys, shardLock(b.Shard.ShardId))
	}
	return append(keys, shardKeys(ops)...)
}

// shardKeys returns the sorted shard lock keys of ops.
func shardKeys(ops []*metapb.TableOp) []string {
	seen := map[uint32]bool{}
	var ids []uint32
	for _, op := range ops {
		if !seen[op.ShardId] {
			seen[op.ShardId] = true
			ids = append(ids, op.ShardId)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = shardLock(id)
	}
	return keys
}

// nameKey is the table lock of a DDL procedure.
func nameKey(rec *metapb.Procedure) string {
	switch b := rec.Body.(type) {
	case *metapb.Procedure_CreateTable:
		return tableLock(b.CreateTable.Request.GetSchemaName(), b.CreateTable.Request.GetName())
	case *metapb.Procedure_DropTable:
		return tableLock(b.DropTable.Request.GetSchemaName(), b.DropTable.Request.GetName())
	}
	return ""
}

// submit persists a new procedure and starts it; a procedure with the same
// request id is returned instead, running or ended.
func (m *Manager) submit(ctx context.Context, rec *metapb.Procedure) (*Handle, error) {
	m.mu.Lock()
	if m.mu.closed {
		m.mu.Unlock()
		return nil, notLeader("the meta leader is stepping down")
	}
	if rec.RequestId != "" {
		if p := m.mu.byRequest[rec.RequestId]; p != nil {
			m.mu.Unlock()
			return &Handle{p}, nil
		}
	}
	m.mu.Unlock()

	id, err := m.c.NextProcedureID(ctx)
	if err != nil {
		return nil, m.termErr(err)
	}
	now := m.opts.Now()
	rec.Id = id
	rec.State = metapb.ProcedureState_PROCEDURE_STATE_RUNNING
	rec.CreatedAtMs, rec.UpdatedAtMs = now.UnixMilli(), now.UnixMilli()
	rec.DeadlineMs = now.Add(m.opts.Timeout).UnixMilli()
	if err := m.c.Commit(ctx, storage.Put(m.c.Keys().Procedure(m.c.ID(), id), rec)); err != nil {
		return nil, m.termErr(err)
	}
	p := &proc{id: id, kind: rec.Kind, rec: rec, done: make(chan struct{})}
	p.publish()
	m.mu.Lock()
	if m.mu.closed {
		m.mu.Unlock()
		return nil, notLeader("the meta leader is stepping down; the procedure will be resumed by the next leader")
	}
	m.mu.Unlock()
	m.register(p, lockKeys(rec))
	m.launch(p)
	return &Handle{p}, nil
}

// launch runs p in its own goroutine.
func (m *Manager) launch(p *proc) {
	if m.opts.Observer != nil {
		m.opts.Observer.ProcedureStarted(m.name, p.kind)
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.run(p)
	}()
}

// ctx returns a context cancelled when the manager closes.
func (m *Manager) ctx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-m.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// run drives p to its end.
func (m *Manager) run(p *proc) {
	ctx, cancel := m.ctx()
	defer cancel()
	err := m.locks.wait(ctx, p.id, lockKeys(p.rec))
	if err == nil {
		err = m.exec(ctx, p)
	}
	switch {
	case err == nil:
	case ctx.Err() != nil || isTermError(err):
		// The term is over; the next leader resumes the procedure.
		if !errors.Is(err, context.Canceled) {
			m.reportTermErr(err)
		}
		err = notLeader(fmt.Sprintf("the meta leader changed during procedure %d; it continues under the new leader (retry, with the same request_id to wait for it)", p.id))
	default:
		if ferr := m.fail(ctx, p, err); ferr != nil {
			m.reportTermErr(ferr)
			err = notLeader(fmt.Sprintf("procedure %d failed (%v) and could not record it; the next leader resumes it", p.id, err))
		} else {
			err = recordError(p.rec)
		}
	}
	m.locks.release(p.id)
	m.reserve(p.id, nil)
	p.publish()
	p.mu.Lock()
	p.mu.err = err
	p.mu.Unlock()
	close(p.done)
	if m.opts.OnEnd != nil {
		m.opts.OnEnd()
	}
	if m.opts.Observer != nil && p.rec.State != metapb.ProcedureState_PROCEDURE_STATE_RUNNING {
		m.opts.Observer.ProcedureEnded(m.name, p.kind, p.rec.State)
	}
	if p.rec.State == metapb.ProcedureState_PROCEDURE_STATE_FAILED {
		m.logger.Warn("procedure failed", "cluster", m.name, "id", p.id, "kind", p.kind, "err", p.rec.Error)
	} else if p.rec.State == metapb.ProcedureState_PROCEDURE_STATE_FINISHED {
		m.logger.Info("procedure finished", "cluster", m.name, "id", p.id, "kind", p.kind)
	}
}

// exec runs p's steps.
func (m *Manager) exec(ctx context.Context, p *proc) error {
	switch p.rec.Body.(type) {
	case *metapb.Procedure_CreateTable:
		return m.execCreateTable(ctx, p)
	case *metapb.Procedure_DropTable:
		return m.execDropTable(ctx, p)
	case *metapb.Procedure_Shard:
		return m.execShard(ctx, p)
	}
	return fmt.Errorf("procedure %d: unknown kind %s", p.id, p.kind)
}

// save persists p's record (after a step).
func (m *Manager) save(ctx context.Context, p *proc) error {
	p.rec.UpdatedAtMs = m.opts.Now().UnixMilli()
	err := m.c.Commit(ctx, m.put(p))
	p.publish()
	return err
}

// put is the operation writing p's record.
func (m *Manager) put(p *proc) storage.Op {
	p.rec.UpdatedAtMs = m.opts.Now().UnixMilli()
	return storage.Put(m.c.Keys().Procedure(m.c.ID(), p.id), p.rec)
}

// finish marks p FINISHED (the caller commits put(p)).
func (m *Manager) finish(p *proc) {
	p.rec.State = metapb.ProcedureState_PROCEDURE_STATE_FINISHED
	p.rec.Step = "done"
}

// fail records p as FAILED with err. DDL procedures that may have reached
// a node also raise the shards' versions past what the event carried, and
// reopen them, so the node's state and meta's meet again.
func (m *Manager) fail(ctx context.Context, p *proc, cause error) (err error) {
	prev := proto.Clone(p.rec).(*metapb.Procedure)
	defer func() {
		if err != nil {
			p.rec = prev // still RUNNING in etcd
		}
	}()
	p.rec.State = metapb.ProcedureState_PROCEDURE_STATE_FAILED
	p.rec.Error = cause.Error()
	p.rec.ErrorReason = metapb.Reason_PROCEDURE_FAILED
	var ce *client.Error
	if errors.As(cause, &ce) {
		p.rec.ErrorReason = ce.Reason()
	}
	poison := poisonVersions(p.rec)
	if len(poison) == 0 {
		return m.save(ctx, p)
	}
	if err := m.c.CommitTables(ctx, cluster.TableChange{Versions: poison}, m.put(p)); err != nil {
		return err
	}
	p.publish()
	m.reopen(ctx, p, poison)
	return nil
}

// poisonVersions returns, for each shard a failed DDL procedure may have
// changed on its node, a version above any the procedure used.
func poisonVersions(rec *metapb.Procedure) map[uint32]uint64 {
	var ops []*metapb.TableOp
	switch b := rec.Body.(type) {
	case *metapb.Procedure_CreateTable:
		ops = b.CreateTable.Ops
	case *metapb.Procedure_DropTable:
		ops = b.DropTable.Ops
	}
	out := map[uint32]uint64{}
	for _, op := range ops {
		if op.Sent && op.Version+1 > out[op.ShardId] {
			out[op.ShardId] = op.Version + 1
		}
	}
	return out
}

// reopen asks the nodes of shards to open them at their new versions,
// once; the scheduler retries later if this fails.
func (m *Manager) reopen(ctx context.Context, p *proc, versions map[uint32]uint64) {
	for id, v := range versions {
		node, _, err := m.c.ShardNode(id)
		if err != nil || node == "" {
			continue
		}
		info := &metapb.ShardInfo{Id: id, Role: metapb.ShardRole_SHARD_ROLE_LEADER, Version: v}
		dctx, cancel := context.WithTimeout(ctx, m.opts.DispatchTimeout)
		_, err = m.d.OpenShard(dctx, node, &metapb.OpenShardRequest{Header: m.header(p), Shard: info})
		cancel()
		m.observe("OpenShard", err)
		if err != nil {
			m.logger.Warn("cannot reopen shard after a failed procedure", "cluster", m.name, "shard", id, "node", node, "err", err)
			continue
		}
		m.c.NoteShard(node, id, info)
	}
}

func (m *Manager) observe(event string, err error) {
	if m.opts.Observer != nil {
		m.opts.Observer.EventSent(m.name, event, err)
	}
}

// header is the EventHeader of p's events.
func (m *Manager) header(p *proc) *metapb.EventHeader {
	return &metapb.EventHeader{ClusterName: m.name, MetaEpoch: m.opts.Epoch, MetaLeader: m.opts.Leader, ProcedureId: p.id}
}

// isTermError says whether err means the term cannot go on: lost
// leadership, a write with an unknown outcome, a node with a newer epoch.
func isTermError(err error) bool {
	if errors.Is(err, client.ErrStaleEpoch) || errors.Is(err, client.ErrNotLeader) {
		return true
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		return false
	}
	return errors.Is(err, storage.ErrNotLeader) || errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrEtcd)
}

// termErr reports err when it ends the term, and returns it.
func (m *Manager) termErr(err error) error {
	m.reportTermErr(err)
	return err
}

// reportTermErr tells the term when err ends it.
func (m *Manager) reportTermErr(err error) {
	if m.opts.OnTermError != nil && isTermError(err) {
		m.opts.OnTermError(err)
	}
}

func notLeader(msg string) error { return client.Errorf(metapb.Reason_NOT_LEADER, "%s", msg) }

// recordError is the error of an ended record (nil if it finished).
func recordError(rec *metapb.Procedure) error {
	if rec.State != metapb.ProcedureState_PROCEDURE_STATE_FAILED {
		return nil
	}
	e := client.Errorf(rec.ErrorReason, "%s", rec.Error)
	e.Detail.ProcedureId = rec.Id
	return e
}

// Close stops every procedure (they stay RUNNING in etcd) and waits for
// them.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.mu.closed {
		m.mu.Unlock()
		m.wg.Wait()
		return
	}
	m.mu.closed = true
	m.mu.Unlock()
	close(m.done)
	m.wg.Wait()
}

// List returns the procedures known to this term: running ones and ended
// ones still retained, by id.
func (m *Manager) List() []*metapb.Procedure {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*metapb.Procedure, 0, len(m.mu.procs))
	for _, p := range m.mu.procs {
		out = append(out, p.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out
}

// reserve records the shards a create-table procedure picked (nil: none).
func (m *Manager) reserve(id uint64, shards []uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if shards == nil {
		delete(m.mu.reserved, id)
		return
	}
	m.mu.reserved[id] = shards
}

// pending counts the tables being created per shard.
func (m *Manager) pending() map[uint32]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[uint32]int{}
	for _, shards := range m.mu.reserved {
		for _, s := range shards {
			out[s]++
		}
	}
	return out
}

// BusyShards returns the shards with a procedure queued or running.
func (m *Manager) BusyShards() map[uint32]bool { return m.locks.shards() }

// RunningFrom counts the running procedures started by origin.
func (m *Manager) RunningFrom(origin string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.mu.procs {
		select {
		case <-p.done:
		default:
			if p.snapshot().Origin == origin {
				n++
			}
		}
	}
	return n
}

// janitor forgets ended procedures older than the retention.
func (m *Manager) janitor() {
	defer m.wg.Done()
	period := min(m.opts.Retention/2, time.Minute)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case <-t.C:
		}
		cutoff := m.opts.Now().Add(-m.opts.Retention).UnixMilli()
		var old []*proc
		m.mu.Lock()
		for _, p := range m.mu.procs {
			select {
			case <-p.done:
				if s := p.snapshot(); s.State != metapb.ProcedureState_PROCEDURE_STATE_RUNNING && s.UpdatedAtMs < cutoff {
					old = append(old, p)
				}
			default:
			}
		}
		m.mu.Unlock()
		for _, p := range old {
			ctx, cancel := m.ctx()
			err := m.c.Commit(ctx, storage.Delete(m.c.Keys().Procedure(m.c.ID(), p.id)))
			cancel()
			if err != nil {
				m.reportTermErr(err)
				return
			}
			m.mu.Lock()
			delete(m.mu.procs, p.id)
			if id := p.snapshot().RequestId; m.mu.byRequest[id] == p {
				delete(m.mu.byRequest, id)
			}
			m.mu.Unlock()
		}
	}
}
