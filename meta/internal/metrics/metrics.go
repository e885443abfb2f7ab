// Package metrics holds HoraeMeta's Prometheus metrics: leadership,
// procedures, events sent to nodes, MetaService calls and heartbeats, and
// (from the leader's model, at scrape time) live nodes and heartbeat lag.
package metrics

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/meta/internal/coordinator"
	"github.com/horaego/horaedb/proto/metapb"
)

// Metrics implements procedure.Observer and grpcsvc.Observer.
type Metrics struct {
	leader     prometheus.Gauge
	epoch      prometheus.Gauge
	running    *prometheus.GaugeVec
	ended      *prometheus.CounterVec
	events     *prometheus.CounterVec
	calls      *prometheus.HistogramVec
	forwarded  *prometheus.CounterVec
	heartbeats *prometheus.CounterVec
}

// New registers the metrics with reg. term returns the running term (nil
// on followers) for the node gauges.
func New(reg prometheus.Registerer, term func() *coordinator.Term) (*Metrics, error) {
	m := &Metrics{
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "horaemeta_leader", Help: "1 while this member is the meta leader, else 0."}),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "horaemeta_leader_epoch", Help: "Epoch of this member's current leader term (0 when not leading)."}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "horaemeta_procedures_running", Help: "Procedures running on this leader, by cluster and kind."},
			[]string{"cluster", "kind"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaemeta_procedures_total", Help: "Procedures ended, by cluster, kind and state (finished, failed)."},
			[]string{"cluster", "kind", "state"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaemeta_events_total", Help: "Events sent to data nodes, by cluster, event and result (ok, error)."},
			[]string{"cluster", "event", "result"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "horaemeta_grpc_request_duration_seconds", Help: "MetaService calls, by method and result (ok, error).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18)}, []string{"method", "result"}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaemeta_grpc_forwarded_total", Help: "MetaService calls this follower forwarded to the leader, by method."},
			[]string{"method"}),
		heartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaemeta_node_heartbeats_total", Help: "Heartbeats received by the leader, by cluster."},
			[]string{"cluster"}),
	}
	cs := []prometheus.Collector{m.leader, m.epoch, m.running, m.ended, m.events, m.calls, m.forwarded, m.heartbeats,
		&nodeCollector{term: term}}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("metrics: %w (one registry per meta server)", err)
			}
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Leading records a term's start (epoch > 0) or end (0).
func (m *Metrics) Leading(epoch uint64) {
	if epoch == 0 {
		m.leader.Set(0)
		m.epoch.Set(0)
		m.running.Reset()
		return
	}
	m.leader.Set(1)
	m.epoch.Set(float64(epoch))
}

func kindName(k metapb.ProcedureKind) string {
	switch k {
	case metapb.ProcedureKind_PROCEDURE_KIND_CREATE_TABLE:
		return "create_table"
	case metapb.ProcedureKind_PROCEDURE_KIND_DROP_TABLE:
		return "drop_table"
	case metapb.ProcedureKind_PROCEDURE_KIND_OPEN_SHARD:
		return "open_shard"
	case metapb.ProcedureKind_PROCEDURE_KIND_CLOSE_SHARD:
		return "close_shard"
	case metapb.ProcedureKind_PROCEDURE_KIND_TRANSFER_SHARD:
		return "transfer_shard"
	}
	return "unknown"
}

// ProcedureStarted implements procedure.Observer.
func (m *Metrics) ProcedureStarted(cluster string, kind metapb.ProcedureKind) {
	m.running.WithLabelValues(cluster, kindName(kind)).Inc()
}

// ProcedureEnded implements procedure.Observer.
func (m *Metrics) ProcedureEnded(cluster string, kind metapb.ProcedureKind, state metapb.ProcedureState) {
	m.running.WithLabelValues(cluster, kindName(kind)).Dec()
	s := "finished"
	if state == metapb.ProcedureState_PROCEDURE_STATE_FAILED {
		s = "failed"
	}
	m.ended.WithLabelValues(cluster, kindName(kind), s).Inc()
}

// EventSent implements procedure.Observer.
func (m *Metrics) EventSent(cluster, event string, err error) {
	m.events.WithLabelValues(cluster, event, result(err)).Inc()
}

// Call implements grpcsvc.Observer.
func (m *Metrics) Call(method string, forwarded bool, err error, d time.Duration) {
	m.calls.WithLabelValues(method, result(err)).Observe(d.Seconds())
	if forwarded {
		m.forwarded.WithLabelValues(method).Inc()
	}
}

// Heartbeat implements grpcsvc.Observer.
func (m *Metrics) Heartbeat(cluster, node string) { m.heartbeats.WithLabelValues(cluster).Inc() }

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// nodeCollector reports live nodes and heartbeat lag from the leader's
// model at scrape time.
type nodeCollector struct {
	term func() *coordinator.Term
}

var (
	nodesAliveDesc = prometheus.NewDesc("horaemeta_nodes_alive", "Data nodes heartbeating, by cluster (leader only).",
		[]string{"cluster"}, nil)
	nodesDeadDesc = prometheus.NewDesc("horaemeta_nodes_dead", "Registered data nodes not heartbeating, by cluster (leader only).",
		[]string{"cluster"}, nil)
	lagDesc = prometheus.NewDesc("horaemeta_node_heartbeat_lag_seconds", "Time since a data node's last heartbeat (leader only).",
		[]string{"cluster", "node"}, nil)
	stableDesc = prometheus.NewDesc("horaemeta_cluster_stable", "1 when the cluster is Stable (DDL allowed), by cluster (leader only).",
		[]string{"cluster"}, nil)
)

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- nodesAliveDesc
	ch <- nodesDeadDesc
	ch <- lagDesc
	ch <- stableDesc
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	t := c.term()
	if t == nil {
		return
	}
	for _, co := range t.Clusters() {
		snap := co.Cluster().Snapshot()
		name := snap.Info.Name
		alive, dead := 0, 0
		for _, n := range snap.Nodes {
			if n.Alive {
				alive++
			} else {
				dead++
			}
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, snap.Now.Sub(n.LastSeen).Seconds(), name, n.Record.Name)
		}
		ch <- prometheus.MustNewConstMetric(nodesAliveDesc, prometheus.GaugeValue, float64(alive), name)
		ch <- prometheus.MustNewConstMetric(nodesDeadDesc, prometheus.GaugeValue, float64(dead), name)
		stable := 0.0
		if snap.View.State == metapb.ClusterState_CLUSTER_STATE_STABLE {
			stable = 1
		}
		ch <- prometheus.MustNewConstMetric(stableDesc, prometheus.GaugeValue, stable, name)
	}
}
