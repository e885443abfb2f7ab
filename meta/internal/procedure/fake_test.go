package procedure

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

// fakeNodes is an in-memory Dispatcher: every node keeps shard versions
// and tables and applies the fencing rules of the protocol. fail, when
// set, runs first and may fail or block an event.
type fakeNodes struct {
	mu     sync.Mutex
	epoch  uint64
	shards map[string]map[uint32]*fakeShard // node → shard
	events []string
	fail   func(event, node string, shard uint32) error
}

type fakeShard struct {
	version uint64
	tables  map[uint64]bool
}

func newFakeNodes() *fakeNodes { return &fakeNodes{shards: map[string]map[uint32]*fakeShard{}} }

func (f *fakeNodes) before(event, node string, h *metapb.EventHeader, shard uint32) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(event, node, shard); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if h.MetaEpoch < f.epoch {
		return client.StaleEpoch(h.MetaEpoch, f.epoch)
	}
	f.epoch = h.MetaEpoch
	f.events = append(f.events, fmt.Sprintf("%s %s %d", event, node, shard))
	if f.shards[node] == nil {
		f.shards[node] = map[uint32]*fakeShard{}
	}
	return nil
}

func (f *fakeNodes) setFail(fn func(event, node string, shard uint32) error) {
	f.mu.Lock()
	f.fail = fn
	f.mu.Unlock()
}

func (f *fakeNodes) shard(node string, id uint32) *fakeShard {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shards[node][id]
	if s == nil {
		return nil
	}
	c := &fakeShard{version: s.version, tables: map[uint64]bool{}}
	for k := range s.tables {
		c.tables[k] = true
	}
	return c
}

func (f *fakeNodes) count(event string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.events {
		if len(e) > len(event) && e[:len(event)+1] == event+" " {
			n++
		}
	}
	return n
}

func (f *fakeNodes) OpenShard(_ context.Context, node string, req *metapb.OpenShardRequest) (*metapb.OpenShardResponse, error) {
	if err := f.before("OpenShard", node, req.Header, req.Shard.Id); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shards[node][req.Shard.Id]
	if s != nil && s.version > req.Shard.Version {
		return nil, client.VersionMismatch(req.Shard.Id, s.version, req.Shard.Version)
	}
	if s == nil || s.version < req.Shard.Version {
		f.shards[node][req.Shard.Id] = &fakeShard{version: req.Shard.Version, tables: map[uint64]bool{}}
	}
	return &metapb.OpenShardResponse{Shard: req.Shard}, nil
}

func (f *fakeNodes) CloseShard(_ context.Context, node string, req *metapb.CloseShardRequest) (*metapb.CloseShardResponse, error) {
	if err := f.before("CloseShard", node, req.Header, req.Shard.Id); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.shards[node], req.Shard.Id)
	return &metapb.CloseShardResponse{}, nil
}

func (f *fakeNodes) change(node string, u *metapb.ShardVersionUpdate, table uint64, create bool) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shards[node][u.ShardId]
	if s == nil {
		return 0, client.Errorf(metapb.Reason_SHARD_NOT_FOUND, "shard %d not open on %s", u.ShardId, node)
	}
	switch {
	case s.version == u.PrevVersion:
		if create {
			s.tables[table] = true
		} else {
			delete(s.tables, table)
		}
		s.version = u.Version
	case s.version == u.Version && s.tables[table] == create:
	default:
		return 0, client.VersionMismatch(u.ShardId, s.version, u.PrevVersion)
	}
	return s.version, nil
}

func (f *fakeNodes) CreateTableOnShard(ctx context.Context, node string, req *metapb.CreateTableOnShardRequest) (*metapb.CreateTableOnShardResponse, error) {
	if err := f.before("CreateTableOnShard", node, req.Header, req.Update.ShardId); err != nil {
		return nil, err
	}
	v, err := f.change(node, req.Update, req.Table.Id, true)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		// Applied, but the caller gave up: it never learns.
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return &metapb.CreateTableOnShardResponse{ShardVersion: v}, nil
}

func (f *fakeNodes) DropTableOnShard(_ context.Context, node string, req *metapb.DropTableOnShardRequest) (*metapb.DropTableOnShardResponse, error) {
	if err := f.before("DropTableOnShard", node, req.Header, req.Update.ShardId); err != nil {
		return nil, err
	}
	v, err := f.change(node, req.Update, req.Table.Id, false)
	if err != nil {
		return nil, err
	}
	return &metapb.DropTableOnShardResponse{ShardVersion: v}, nil
}

// env is a Stable cluster "c" of 4 shards on nodes n1 and n2 (shards
// opened on the fake nodes), with a procedure manager.
type env struct {
	t     *testing.T
	st    *storage.Storage
	guard storage.Guard
	c     *cluster.Cluster
	nodes *fakeNodes
	m     *Manager
	opts  Options
	errs  chan error // OnTermError
}

const n1, n2 = "127.0.0.1:1001", "127.0.0.1:1002"

func newEnv(t *testing.T, tweak func(*Options)) *env {
	t.Helper()
	em, err := metatest.Etcd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(em.Close)
	st := storage.New(em.Client, "/horaedb", storage.Options{})
	e := &env{t: t, st: st, nodes: newFakeNodes(), errs: make(chan error, 100)}
	e.newTerm()
	mgr := cluster.NewManager(st, e.guard, slog.New(slog.DiscardHandler), cluster.Options{NodeTimeout: time.Minute, IDStep: 3})
	ctx := context.Background()
	l, err := mgr.Create(ctx, cluster.Spec{Name: "c", NodeCount: 2, ShardTotal: 4, EnableSchedule: true})
	if err != nil {
		t.Fatal(err)
	}
	e.c = l.Cluster
	for _, n := range []string{n1, n2} {
		if _, err := e.c.Heartbeat(ctx, &metapb.NodeInfo{Endpoint: n}); err != nil {
			t.Fatal(err)
		}
	}
	stable := metapb.ClusterState_CLUSTER_STATE_STABLE
	if err := e.c.AssignShards(ctx, map[uint32]string{0: n1, 1: n2, 2: n1, 3: n2}, &stable); err != nil {
		t.Fatal(err)
	}
	e.opts = Options{Timeout: 5 * time.Second, DispatchTimeout: time.Second, Retention: time.Minute, MaxOps: 32,
		Epoch: uint64(e.guard.Rev), Leader: "m0", OnTermError: func(err error) { e.errs <- err }}
	if tweak != nil {
		tweak(&e.opts)
	}
	e.m = New(e.c, e.nodes, slog.New(slog.DiscardHandler), e.opts)
	e.m.Resume(nil)
	t.Cleanup(func() { e.m.Close() })
	for id := range uint32(4) {
		node, _, _ := e.c.ShardNode(id)
		e.wait(e.m.OpenShard(ctx, id, node, OriginScheduler))
	}
	return e
}

// newTerm makes a new leader term: a new election key; a new key's
// creation revision is the revision of the put.
func (e *env) newTerm() {
	key := fmt.Sprintf("%sterm-%d", e.st.Keys().Election(), time.Now().UnixNano())
	resp, err := e.st.Client().Put(context.Background(), key, "m")
	if err != nil {
		e.t.Fatal(err)
	}
	e.guard = storage.Guard{Key: key, Rev: resp.Header.Revision}
}

// wait waits for a procedure and fails the test on error.
func (e *env) wait(h *Handle, err error) *metapb.Procedure {
	e.t.Helper()
	rec, err := e.waitErr(h, err)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

func (e *env) waitErr(h *Handle, err error) (*metapb.Procedure, error) {
	e.t.Helper()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return h.Wait(ctx)
}

func createReq(name string) *metapb.CreateTableRequest {
	return &metapb.CreateTableRequest{SchemaName: "public", Name: name, EncodedSchema: []byte("s")}
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.closed
}
