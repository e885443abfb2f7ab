package local

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/wal"
)

// metrics are the WAL's Prometheus metrics. They are always counted; they
// are exposed only when Options.Registerer is set.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector

	appends        prometheus.Counter
	appendErrors   prometheus.Counter
	entries        prometheus.Counter
	bytes          prometheus.Counter
	commits        prometheus.Counter
	fsyncs         prometheus.Counter
	groupSize      prometheus.Histogram
	appendDuration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "horaedb", "wal_local"
	m := &metrics{
		reg: reg,
		appends: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "appends_total",
			Help: "Appends acknowledged.",
		}),
		appendErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "append_errors_total",
			Help: "Appends that failed (including cancelled ones).",
		}),
		entries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "entries_total",
			Help: "Entries acknowledged.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "payload_bytes_total",
			Help: "Payload bytes acknowledged.",
		}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "commits_total",
			Help: "Pebble batches committed by the group committer.",
		}),
		fsyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "fsyncs_total",
			Help: "Pebble batches committed with sync; appends per fsync shows group commit at work.",
		}),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "group_commit_requests",
			Help:    "Requests (appends, truncations, drops) committed by one Pebble batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		appendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "append_duration_seconds",
			Help:    "Time from Append being called to it returning.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16),
		}),
	}
	m.collectors = []prometheus.Collector{
		m.appends, m.appendErrors, m.entries, m.bytes, m.commits, m.fsyncs,
		m.groupSize, m.appendDuration,
	}
	if reg == nil {
		return m, nil
	}
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, c := range m.collectors[:i] {
				reg.Unregister(c)
			}
			return nil, fmt.Errorf("wal/local: register metrics (is another WAL open with this registerer?): %w: %w", wal.ErrInvalid, err)
		}
	}
	return m, nil
}

// unregister removes the metrics from the registerer, so that a WAL closed
// and opened again can register them again.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
