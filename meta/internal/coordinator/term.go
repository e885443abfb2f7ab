package coordinator

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/meta/internal/procedure"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// Options configure a term.
type Options struct {
	// Epoch and Leader name the term.
	Epoch  uint64
	Leader string
	Guard  storage.Guard
	// Default is the cluster to create when it does not exist.
	Default cluster.Spec
	// Cluster and Procedure are the per-cluster options.
	Cluster   cluster.Options
	Procedure procedure.Options
	// ScheduleInterval is the scheduler's period.
	ScheduleInterval time.Duration
}

// Term is the running leader term.
type Term struct {
	opts   Options
	st     *storage.Storage
	d      procedure.Dispatcher
	logger *slog.Logger
	mgr    *cluster.Manager

	mu struct {
		sync.RWMutex
		coords map[string]*Coordinator
		closed bool
	}
}

// Start loads the clusters, resumes their procedures, creates the default
// cluster if needed and starts the schedulers.
func Start(ctx context.Context, st *storage.Storage, d procedure.Dispatcher, logger *slog.Logger, opts Options) (*Term, error) {
	t := &Term{opts: opts, st: st, d: d, logger: logger,
		mgr: cluster.NewManager(st, opts.Guard, logger, opts.Cluster)}
	t.mu.coords = map[string]*Coordinator{}
	loaded, err := t.mgr.LoadAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range loaded {
		t.add(l)
	}
	if _, err := t.mgr.Get(opts.Default.Name); err != nil {
		l, err := t.mgr.Create(ctx, opts.Default)
		if err != nil {
			t.Close()
			return nil, err
		}
		t.add(l)
	} else {
		t.warnDefaultDiffers()
	}
	return t, nil
}

// add starts a loaded cluster's coordinator.
func (t *Term) add(l *cluster.Loaded) *Coordinator {
	var co *Coordinator
	popts := t.opts.Procedure
	popts.Epoch, popts.Leader = t.opts.Epoch, t.opts.Leader
	popts.OnEnd = func() { co.Poke() }
	pm := procedure.New(l.Cluster, t.d, t.logger, popts)
	co = newCoordinator(l.Cluster, pm, t.logger, t.opts.ScheduleInterval)
	t.mu.Lock()
	t.mu.coords[l.Cluster.Name()] = co
	t.mu.Unlock()
	pm.Resume(l.Procedures)
	co.start()
	return co
}

// warnDefaultDiffers logs settings of the existing default cluster that
// differ from the config: they apply only when the cluster is created.
func (t *Term) warnDefaultDiffers() {
	c, err := t.mgr.Get(t.opts.Default.Name)
	if err != nil {
		return
	}
	info, want := c.Info(), t.opts.Default
	if info.NodeCount != want.NodeCount || info.ShardTotal != want.ShardTotal || info.TopologyType != want.Topology {
		t.logger.Warn("the default cluster exists with other settings than the config; the stored ones apply",
			"cluster", info.Name, "node_count", info.NodeCount, "shard_total", info.ShardTotal, "topology", info.TopologyType,
			"config_node_count", want.NodeCount, "config_shard_total", want.ShardTotal, "config_topology", want.Topology)
	}
	if info.EnableSchedule != want.EnableSchedule {
		t.logger.Warn("the default cluster's enable_schedule differs from the config; the stored value applies (horaectl schedule on|off changes it)",
			"cluster", info.Name, "enable_schedule", info.EnableSchedule, "config", want.EnableSchedule)
	}
}

// Epoch returns the term's epoch.
func (t *Term) Epoch() uint64 { return t.opts.Epoch }

// Cluster returns the coordinator of a cluster.
func (t *Term) Cluster(name string) (*Coordinator, error) {
	if _, err := t.mgr.Get(name); err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.mu.coords[name], nil
}

// Clusters returns every coordinator, by cluster id.
func (t *Term) Clusters() []*Coordinator {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*Coordinator, 0, len(t.mu.coords))
	for _, co := range t.mu.coords {
		out = append(out, co)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].c.ID() < out[j].c.ID() })
	return out
}

// CreateCluster creates and starts a cluster.
func (t *Term) CreateCluster(ctx context.Context, spec cluster.Spec) (*Coordinator, error) {
	l, err := t.mgr.Create(ctx, spec)
	if err != nil {
		return nil, err
	}
	return t.add(l), nil
}

// Close stops every cluster's scheduler and procedures and waits.
func (t *Term) Close() {
	t.mu.Lock()
	if t.mu.closed {
		t.mu.Unlock()
		return
	}
	t.mu.closed = true
	coords := make([]*Coordinator, 0, len(t.mu.coords))
	for _, co := range t.mu.coords {
		coords = append(coords, co)
	}
	t.mu.Unlock()
	var wg sync.WaitGroup
	for _, co := range coords {
		wg.Add(1)
		go func() {
			defer wg.Done()
			co.close()
		}()
	}
	wg.Wait()
}

// TopologyOf converts a topology-type name.
func TopologyOf(s string) metapb.TopologyType {
	if s == "dynamic" {
		return metapb.TopologyType_TOPOLOGY_TYPE_DYNAMIC
	}
	return metapb.TopologyType_TOPOLOGY_TYPE_STATIC
}
