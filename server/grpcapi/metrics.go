package grpcapi

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's metrics, labelled by method ("Write") and by the
// header code of the answer ("200", "400"), or by the gRPC status code
// ("Canceled") of a call that ended without one.
type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	writeRows prometheus.Counter
	payloads  *prometheus.CounterVec
	forwarded *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaedb_grpc_requests_total",
			Help: "StorageService calls by method and code (the response header's, or the gRPC status's).",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "horaedb_grpc_request_duration_seconds",
			Help:    "Time to answer a StorageService call, by method; for streams, the whole call.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"method"}),
		writeRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "horaedb_grpc_write_rows_total",
			Help: "Rows written through Write and StreamWrite.",
		}),
		payloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaedb_grpc_arrow_payloads_total",
			Help: "Arrow payloads of query results sent, by compression (NONE, ZSTD).",
		}, []string{"compression"}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaedb_grpc_forwarded_total",
			Help: "Calls (or, for writes, parts of calls) forwarded to the node that serves their tables, by method.",
		}, []string{"method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.writeRows, m.payloads, m.forwarded} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("grpcapi: metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(method, code string, took time.Duration) {
	m.requests.WithLabelValues(method, code).Inc()
	m.duration.WithLabelValues(method).Observe(took.Seconds())
}

// logFailure logs a failed call: at debug level when the client is at
// fault, as a warning when we are.
func (s *Service) logFailure(ctx context.Context, method string, err error, attrs ...any) {
	code := codeOf(err)
	level := slog.LevelDebug
	if code >= 500 {
		level = slog.LevelWarn
	}
	s.log.Log(ctx, level, "grpc call failed", append([]any{"method", method, "code", strconv.Itoa(int(code)), "err", err}, attrs...)...)
}
