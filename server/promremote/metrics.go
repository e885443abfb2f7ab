package promremote

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// The api label of the request counter.
const (
	apiWrite = "write"
	apiRead  = "read"
)

// metrics of the remote write and read endpoints. The HTTP server counts
// requests by route too; these add what only the handler knows.
type metrics struct {
	requests       *prometheus.CounterVec
	samplesWritten prometheus.Counter
	samplesRead    prometheus.Counter
	dropped        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaedb_prom_remote_requests_total",
			Help: "Prometheus remote write and read requests, by api (write, read) and status code.",
		}, []string{"api", "code"}),
		samplesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "horaedb_prom_remote_write_samples_total",
			Help: "Samples written by Prometheus remote write.",
		}),
		samplesRead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "horaedb_prom_remote_read_samples_total",
			Help: "Samples answered to Prometheus remote read.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "horaedb_prom_remote_write_ignored_total",
			Help: "Parts of remote-write requests that are not stored, by kind (histogram, exemplar, metadata).",
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.samplesWritten, m.samplesRead, m.dropped} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("promremote: metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) request(api string, code int) {
	m.requests.WithLabelValues(api, strconv.Itoa(code)).Inc()
}

func (m *metrics) ignored(st writeStats) {
	m.dropped.WithLabelValues("histogram").Add(float64(st.histograms))
	m.dropped.WithLabelValues("exemplar").Add(float64(st.exemplars))
	m.dropped.WithLabelValues("metadata").Add(float64(st.metadata))
}
