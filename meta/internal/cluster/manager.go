package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/config"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// Spec describes a cluster to create.
type Spec struct {
	Name           string
	NodeCount      uint32
	ShardTotal     uint32
	Topology       metapb.TopologyType
	EnableSchedule bool
	// BatchSize caps the scheduler's concurrent procedures (0: no cap).
	BatchSize uint32
}

// Check validates a spec.
func (s Spec) Check() error {
	if err := config.CheckClusterName(s.Name); err != nil {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "%v", err)
	}
	if s.NodeCount == 0 {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "cluster %s: node count must be positive", s.Name)
	}
	if s.ShardTotal == 0 || s.ShardTotal > config.MaxShardTotal {
		return client.Errorf(metapb.Reason_INVALID_ARGUMENT, "cluster %s: shard total %d out of range 1..%d",
			s.Name, s.ShardTotal, config.MaxShardTotal)
	}
	return nil
}

// Manager holds the clusters of one leader term.
type Manager struct {
	st     *storage.Storage
	guard  storage.Guard
	logger *slog.Logger
	opts   Options
	ids    *storage.IDAlloc

	mu struct {
		sync.RWMutex
		clusters map[string]*Cluster
	}
}

// NewManager returns an empty Manager for a term.
func NewManager(st *storage.Storage, g storage.Guard, logger *slog.Logger, opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{st: st, guard: g, logger: logger, opts: opts,
		ids: storage.NewIDAlloc(st, st.Keys().ClusterIDs(), 1, g)}
	m.mu.clusters = map[string]*Cluster{}
	return m
}

// LoadAll loads every cluster from etcd.
func (m *Manager) LoadAll(ctx context.Context) ([]*Loaded, error) {
	var ids []uint32
	keys := m.st.Keys()
	err := m.st.Scan(ctx, keys.ClusterNames(), func(key string, v []byte, _ int64) error {
		id, err := strconv.ParseUint(string(v), 10, 32)
		if err != nil {
			return fmt.Errorf("%w: %s: %q", storage.ErrCorrupt, key, v)
		}
		ids = append(ids, uint32(id))
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Loaded, 0, len(ids))
	for _, id := range ids {
		l, err := Load(ctx, m.st, id, m.guard, m.logger, m.opts)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		m.mu.clusters[l.Cluster.Name()] = l.Cluster
		m.mu.Unlock()
		out = append(out, l)
	}
	return out, nil
}

// Create creates a cluster; ErrClusterExists if the name is taken.
func (m *Manager) Create(ctx context.Context, s Spec) (*Loaded, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if _, err := m.Get(s.Name); err == nil {
		return nil, client.Errorf(metapb.Reason_CLUSTER_EXISTS, "cluster %s already exists", s.Name)
	}
	id, err := m.ids.Next(ctx)
	if err != nil {
		return nil, err
	}
	if id > 1<<32-1 {
		return nil, errors.New("cluster ids exhausted")
	}
	cid := uint32(id)
	if s.BatchSize == 0 {
		s.BatchSize = 1<<32 - 1
	}
	now := m.opts.Now().UnixMilli()
	info := &metapb.ClusterRecord{Id: cid, Name: s.Name, NodeCount: s.NodeCount, ShardTotal: s.ShardTotal,
		TopologyType: s.Topology, EnableSchedule: s.EnableSchedule, ProcedureExecutingBatchSize: s.BatchSize,
		CreatedAtMs: now, ModifiedAtMs: now}
	keys := m.st.Keys()
	nameKey := keys.ClusterName(s.Name)
	_, err = m.st.Commit(ctx, m.guard, []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(nameKey), "=", 0)},
		storage.PutString(nameKey, strconv.FormatUint(id, 10)),
		storage.Put(keys.ClusterInfo(cid), info),
		storage.Put(keys.ClusterView(cid), &metapb.ClusterView{UpdatedAtMs: now}))
	if errors.Is(err, storage.ErrConflict) {
		return nil, client.Errorf(metapb.Reason_CLUSTER_EXISTS, "cluster %s already exists", s.Name)
	}
	if err != nil {
		return nil, err
	}
	l, err := Load(ctx, m.st, cid, m.guard, m.logger, m.opts)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.mu.clusters[s.Name] = l.Cluster
	m.mu.Unlock()
	m.logger.Info("cluster created", "cluster", s.Name, "id", cid, "nodes", s.NodeCount, "shards", s.ShardTotal,
		"topology", s.Topology)
	return l, nil
}

// Get returns the cluster named name.
func (m *Manager) Get(name string) (*Cluster, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.mu.clusters[name]
	if !ok {
		return nil, client.Errorf(metapb.Reason_CLUSTER_NOT_FOUND, "cluster %q not found", name)
	}
	return c, nil
}

// List returns the clusters by id.
func (m *Manager) List() []*Cluster {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Cluster, 0, len(m.mu.clusters))
	for _, c := range m.mu.clusters {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
