// Package coordinator runs a meta leader term: it loads every cluster,
// creates the default cluster, and for each cluster runs the procedure
// manager and the scheduler loop that turns scheduler plans into
// procedures. Closing the term stops all of it at once.
package coordinator

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/horaego/horaedb/meta/internal/cluster"
	"github.com/horaego/horaedb/meta/internal/procedure"
	"github.com/horaego/horaedb/meta/internal/scheduler"
	"github.com/horaego/horaedb/proto/metapb"
)

// Coordinator runs one cluster during one term.
type Coordinator struct {
	c        *cluster.Cluster
	pm       *procedure.Manager
	logger   *slog.Logger
	interval time.Duration
	poke     chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

func newCoordinator(c *cluster.Cluster, pm *procedure.Manager, logger *slog.Logger, interval time.Duration) *Coordinator {
	return &Coordinator{c: c, pm: pm, logger: logger, interval: interval, poke: make(chan struct{}, 1), done: make(chan struct{})}
}

// Cluster returns the cluster.
func (co *Coordinator) Cluster() *cluster.Cluster { return co.c }

// Procedures returns the procedure manager.
func (co *Coordinator) Procedures() *procedure.Manager { return co.pm }

// Poke makes the scheduler look at the cluster now.
func (co *Coordinator) Poke() {
	select {
	case co.poke <- struct{}{}:
	default:
	}
}

// start runs the scheduler loop.
func (co *Coordinator) start() {
	co.wg.Add(1)
	go func() {
		defer co.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-co.done
			cancel()
		}()
		t := time.NewTicker(co.interval)
		defer t.Stop()
		for {
			co.scheduleOnce(ctx)
			select {
			case <-co.done:
				return
			case <-t.C:
			case <-co.poke:
			}
		}
	}()
}

// scheduleOnce runs the scheduler once and starts its plan.
func (co *Coordinator) scheduleOnce(ctx context.Context) {
	snap := co.c.Snapshot()
	budget := int(snap.Info.ProcedureExecutingBatchSize) - co.pm.RunningFrom(procedure.OriginScheduler)
	if snap.Info.ProcedureExecutingBatchSize == 0 {
		budget = 1 << 30
	}
	plan := scheduler.Schedule(scheduler.Input{Snap: snap, Busy: co.pm.BusyShards(), Budget: budget})
	if plan.Empty() {
		return
	}
	name := snap.Info.Name
	if plan.Assign != nil {
		if err := co.c.AssignShards(ctx, plan.Assign, plan.State); err != nil {
			co.logger.Warn("cannot assign shards", "cluster", name, "err", err)
			return
		}
		co.logger.Info("shards assigned", "cluster", name, "assignment", plan.Assign)
		co.Poke()
		return
	}
	for _, mv := range plan.Opens {
		co.submit(name, "open", mv, func() error {
			_, err := co.pm.OpenShard(ctx, mv.Shard, mv.To, procedure.OriginScheduler)
			return err
		})
	}
	for _, mv := range plan.Closes {
		co.submit(name, "close", mv, func() error {
			_, err := co.pm.CloseShard(ctx, mv.Shard, mv.From, procedure.OriginScheduler)
			return err
		})
	}
	for _, mv := range plan.Transfers {
		co.submit(name, "transfer", mv, func() error {
			_, err := co.pm.TransferShard(ctx, mv.Shard, mv.From, mv.To, true, procedure.OriginScheduler, "")
			return err
		})
	}
	if plan.State != nil {
		if err := co.c.SetState(ctx, *plan.State); err != nil {
			co.logger.Warn("cannot change cluster state", "cluster", name, "err", err)
			return
		}
		co.logger.Info("cluster state changed", "cluster", name, "state", *plan.State)
		if *plan.State == metapb.ClusterState_CLUSTER_STATE_STABLE {
			co.logger.Info("cluster is stable: DDL allowed", "cluster", name)
		}
	}
}

func (co *Coordinator) submit(cluster, what string, mv scheduler.Move, fn func() error) {
	if err := fn(); err != nil {
		co.logger.Warn("scheduler cannot start a procedure", "cluster", cluster, "op", what, "shard", mv.Shard,
			"from", mv.From, "to", mv.To, "err", err)
		return
	}
	co.logger.Info("scheduler started a procedure", "cluster", cluster, "op", what, "shard", mv.Shard, "from", mv.From, "to", mv.To)
}

// close stops the scheduler and the procedures, and waits for them.
func (co *Coordinator) close() {
	co.once.Do(func() { close(co.done) })
	co.wg.Wait()
	co.pm.Close()
}
