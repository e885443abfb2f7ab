package kafka

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
	records        *counter
	failFast       *counter
	metaRecords    *counter
	deletes        *counter
	readRecords    *counter
	down           prometheus.Gauge
	appendDuration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "horaedb", "wal_kafka"
	counter := func(name, help string) *counter {
		return &counter{Counter: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})}
	}
	m := &metrics{
		reg:          reg,
		appends:      counter("appends_total", "Appends acknowledged."),
		appendErrors: counter("append_errors_total", "Appends that failed (including cancelled and refused ones)."),
		entries:      counter("entries_total", "Entries acknowledged."),
		bytes:        counter("payload_bytes_total", "Payload bytes acknowledged."),
		records:      counter("records_produced_total", "Data records produced (an Append larger than a message is several)."),
		failFast: counter("fail_fast_total",
			"Appends refused at once because Kafka had not acknowledged appends recently."),
		metaRecords: counter("meta_records_total", "Records written to the meta topics (marks, purge floors, snapshots)."),
		deletes:     counter("delete_records_total", "DeleteRecords requests that deleted dead records."),
		readRecords: counter("read_records_total", "Records fetched by readers."),
		down: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "unavailable",
			Help: "1 while appends fail fast because Kafka has not acknowledged recently, else 0."}),
		appendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "append_duration_seconds",
			Help:    "Time from Append being called to it returning successfully.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 18),
		}),
	}
	m.collectors = []prometheus.Collector{
		m.appends, m.appendErrors, m.entries, m.bytes, m.records, m.failFast, m.metaRecords,
		m.deletes, m.readRecords, m.down, m.appendDuration,
	}
	if reg == nil {
		return m, nil
	}
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, c := range m.collectors[:i] {
				reg.Unregister(c)
			}
			return nil, fmt.Errorf("wal/kafka: register metrics (is another WAL open with this registerer?): %w: %w", wal.ErrInvalid, err)
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

// value returns the counter's value.
func (c *counter) value() uint64 { return uint64(math.Float64frombits(c.bits.Load())) }
