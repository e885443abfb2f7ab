package promremote

import (
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/prompb"
)

// BenchmarkRemoteWriteDecode decodes a request shaped like Prometheus'
// default batch (max_samples_per_send 2000): 500 series of 10 labels, 4
// samples each, from the compressed body to write tables.
func BenchmarkRemoteWriteDecode(b *testing.B) {
	req := &prompb.WriteRequest{}
	for i := range 500 {
		ls := labels("__name__", fmt.Sprintf("metric_%d", i%20), "instance", fmt.Sprintf("host-%d:9100", i/20), "job", "node")
		for j := range 7 {
			ls = append(ls, prompb.Label{Name: fmt.Sprintf("label_%d", j), Value: fmt.Sprintf("value_%d_%d", j, i)})
		}
		req.Timeseries = append(req.Timeseries, series(ls, 0, 1, 15000, 2, 30000, 3, 45000, 4))
	}
	body := encode(b, req)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		raw, err := decompress(body, 64<<20)
		if err != nil {
			b.Fatal(err)
		}
		if _, st, err := decodeWrite(raw, "timestamp"); err != nil || st.samples != 2000 {
			b.Fatal(err, st)
		}
	}
}
