package grpcapi

import (
	"strconv"
	"testing"

	"github.com/horaego/horaedb/proto/storagepb"
)

// benchWriteRequest is 1,000 points of 1,000 series (host, region) with
// three double fields, as the Go SDK batches them: one entry per series.
func benchWriteRequest(ts int64) *storagepb.WriteRequest {
	tr := &storagepb.WriteTableRequest{Table: "cpu", TagNames: []string{"host", "region"},
		FieldNames: []string{"usage_user", "usage_system", "usage_idle"}}
	for h := range 1_000 {
		tr.Entries = append(tr.Entries, &storagepb.WriteSeriesEntry{
			Tags: []*storagepb.Tag{{NameIndex: 0, Value: str("host_" + strconv.Itoa(h))},
				{NameIndex: 1, Value: str("region_" + strconv.Itoa(h%10))}},
			FieldGroups: []*storagepb.FieldGroup{{Timestamp: ts, Fields: []*storagepb.Field{
				{NameIndex: 0, Value: f64(float64(h % 100))}, {NameIndex: 1, Value: f64(1)}, {NameIndex: 2, Value: f64(2)}}}},
		})
	}
	return &storagepb.WriteRequest{TableRequests: []*storagepb.WriteTableRequest{tr}}
}

// BenchmarkWrite is Write of 1,000 points over a loopback gRPC connection
// into a real executor and engine.
func BenchmarkWrite(b *testing.B) {
	v := newTestEnv(b, nil)
	reqs := make([]*storagepb.WriteRequest, 100)
	for i := range reqs {
		reqs[i] = benchWriteRequest(nowMs - int64(len(reqs)-i)*10_000)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		resp, err := v.client.Write(testCtx(b), reqs[i%len(reqs)])
		if err != nil || resp.GetHeader().GetCode() != 200 {
			b.Fatal(resp, err)
		}
		i++
	}
	b.ReportMetric(float64(b.N*1_000)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkWriteTables is the conversion alone.
func BenchmarkWriteTables(b *testing.B) {
	req := benchWriteRequest(nowMs)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := WriteTables(req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/point")
}
