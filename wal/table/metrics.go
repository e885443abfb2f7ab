package table

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/wal"
)

// metrics are the WAL's Prometheus metrics. They are always counted; they
// are exposed only when Options.Registerer is set.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector

	appends        *counter
	appendErrors   *counter
	entries        *counter
	bytes          *counter
	commits        *counter
	failFast       *counter
	deletedRows    *counter
	groupSize      prometheus.Histogram
	appendDuration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "horaedb", "wal_table"
	counter := func(name, help string) *counter {
		return &counter{Counter: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})}
	}
	m := &metrics{
		reg:          reg,
		appends:      counter("appends_total", "Appends acknowledged."),
		appendErrors: counter("append_errors_total", "Appends that failed (including cancelled and refused ones)."),
		entries:      counter("entries_total", "Entries acknowledged."),
		bytes:        counter("payload_bytes_total", "Payload bytes acknowledged."),
		commits:      counter("commits_total", "Group commits: transactions committed."),
		failFast: counter("fail_fast_total",
			"Requests failed without an attempt because the database failed the group commit before them."),
		deletedRows: counter("deleted_rows_total", "Rows deleted by the cleaner (truncated or expired)."),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "group_commit_requests",
			Help:    "Requests (appends, truncations, drops) committed by one transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		appendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "append_duration_seconds",
			Help:    "Time from Append being called to it returning successfully.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 18),
		}),
	}
	m.collectors = []prometheus.Collector{
		m.appends, m.appendErrors, m.entries, m.bytes, m.commits, m.failFast, m.deletedRows,
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
			return nil, fmt.Errorf("wal/table: register metrics (is another WAL open with this registerer?): %w: %w", wal.ErrInvalid, err)
		}
	}
	return m, nil
}

// unregister removes the metrics from the registerer.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

// counter is a Prometheus counter whose value Stats can read.
type counter struct {
	prometheus.Counter
	bits atomic.Uint64 // float64 bits of the value
}

func (c *counter) Inc() { c.Add(1) }

func (c *counter) Add(v float64) {
	c.Counter.Add(v)
	for {
		old := c.bits.Load()
		if c.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func (c *counter) value() uint64 { return uint64(math.Float64frombits(c.bits.Load())) }
