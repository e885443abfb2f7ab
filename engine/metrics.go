package engine

import "github.com/prometheus/client_golang/prometheus"

// metrics of the engine, registered with the injected Registerer.
type metrics struct {
	writeRows      prometheus.Counter
	writeBatches   prometheus.Counter
	writeDuration  prometheus.Histogram
	flushes        prometheus.Counter
	flushFailures  prometheus.Counter
	flushDuration  prometheus.Histogram
	flushBytes     prometheus.Counter
	replayedRows   prometheus.Counter
	scans          prometheus.Counter
	scannedSSTs    prometheus.Counter
	scannedRecords prometheus.Counter

	compactions           prometheus.Counter
	compactionFailures    prometheus.Counter
	compactionInputBytes  prometheus.Counter
	compactionOutputBytes prometheus.Counter

	writeStalls        prometheus.Counter
	writeStallDuration prometheus.Histogram
	writeRejections    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, budget *memBudget) *metrics {
	m := &metrics{
		writeRows:      prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_write_rows_total", Help: "Rows written."}),
		writeBatches:   prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_write_batches_total", Help: "Write batches applied."}),
		writeDuration:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "horaedb_engine_write_duration_seconds", Help: "Latency of a table write, WAL included.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		flushes:        prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_flushes_total", Help: "Memtable flushes."}),
		flushFailures:  prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_flush_failures_total", Help: "Failed memtable flushes."}),
		flushDuration:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "horaedb_engine_flush_duration_seconds", Help: "Duration of a memtable flush.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		flushBytes:     prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_flush_bytes_total", Help: "Bytes of SSTs written by flushes."}),
		replayedRows:   prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_replayed_rows_total", Help: "Rows recovered from the WAL."}),
		scans:          prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_scans_total", Help: "Table scans."}),
		scannedSSTs:    prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_scanned_ssts_total", Help: "SSTs read by scans."}),
		scannedRecords: prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_scanned_rows_total", Help: "Rows returned by scans."}),

		compactions:           prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_compactions_total", Help: "Compaction tasks run."}),
		compactionFailures:    prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_compaction_failures_total", Help: "Failed compaction tasks."}),
		compactionInputBytes:  prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_compaction_input_bytes_total", Help: "SST bytes read by compactions."}),
		compactionOutputBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_compaction_output_bytes_total", Help: "SST bytes written by compactions."}),

		writeStalls:        prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_write_stalls_total", Help: "Writes that waited for memtable memory."}),
		writeStallDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "horaedb_engine_write_stall_duration_seconds", Help: "How long stalled writes waited before being admitted.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		writeRejections:    prometheus.NewCounter(prometheus.CounterOpts{Name: "horaedb_engine_write_rejections_total", Help: "Writes refused as server busy: memtable memory stayed over the limit."}),
	}
	memBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "horaedb_engine_memtable_bytes", Help: "Bytes held by all memtables."},
		func() float64 { return float64(budget.used.Load()) })
	if reg != nil {
		reg.MustRegister(m.writeRows, m.writeBatches, m.writeDuration, m.flushes, m.flushFailures,
			m.flushDuration, m.flushBytes, m.replayedRows, m.scans, m.scannedSSTs, m.scannedRecords,
			m.compactions, m.compactionFailures, m.compactionInputBytes, m.compactionOutputBytes,
			m.writeStalls, m.writeStallDuration, m.writeRejections, memBytes)
	}
	return m
}
