package sdk

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CeresDB/horaedb-client-go/horaedb"
)

// The figures of docs/benchmarks.md ("gRPC storage API through the Go
// SDK"): `make sdk-bench`, i.e.
//
//	cd integration_tests/sdk/go && GOFLAGS=-mod=mod GONOSUMDB=github.com/CeresDB \
//	  go test -run '^$' -bench . -benchtime 1x -count 5 -timeout 60m
//
// Client and server share the machine.

const (
	benchHosts     = 1_000 // series: one per host
	benchBatch     = 1_000 // points per Write, as an SDK user batches them
	benchInterval  = 10_000
	benchTable     = "cpu"
	benchPerSeries = 1_000 // points per series: 1M points in all
)

// cpuBatches builds the points of the benchmark table: benchHosts series
// (host, region) with three double fields, points every 10 s ending now,
// in batches of benchBatch points, each batch one timestamp for 1,000
// hosts.
func cpuBatches(b *testing.B, perSeries int) [][]horaedb.Point {
	b.Helper()
	end := time.Now().UnixMilli()
	var batches [][]horaedb.Point
	for i := range perSeries {
		ts := end - int64(perSeries-i)*benchInterval
		for h := 0; h < benchHosts; h += benchBatch {
			batch := make([]horaedb.Point, 0, benchBatch)
			for j := h; j < h+benchBatch && j < benchHosts; j++ {
				p, err := horaedb.NewPointBuilder(benchTable).SetTimestamp(ts).
					AddTag("host", horaedb.NewStringValue("host_"+strconv.Itoa(j))).
					AddTag("region", horaedb.NewStringValue("region_"+strconv.Itoa(j%10))).
					AddField("usage_user", horaedb.NewDoubleValue(float64((i*7+j)%100))).
					AddField("usage_system", horaedb.NewDoubleValue(float64((i*3+j)%100))).
					AddField("usage_idle", horaedb.NewDoubleValue(float64((i+j)%100))).
					Build()
				if err != nil {
					b.Fatal(err)
				}
				batch = append(batch, p)
			}
			batches = append(batches, batch)
		}
	}
	return batches
}

// load writes batches with the given number of concurrent writers and
// returns how long it took.
func load(b *testing.B, c horaedb.Client, batches [][]horaedb.Point, writers int) time.Duration {
	b.Helper()
	next := make(chan []horaedb.Point)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	began := time.Now()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range next {
				resp, err := c.Write(testCtx(b), horaedb.WriteRequest{Points: batch})
				if err == nil && resp.Success != uint32(len(batch)) {
					err = fmt.Errorf("write: %+v", resp)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for _, batch := range batches {
		select {
		case next <- batch:
		case err := <-errs:
			close(next)
			wg.Wait()
			b.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	took := time.Since(began)
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return took
}

// BenchmarkSDKWrite writes 200,000 points (1,000 series, batches of 1,000)
// into a fresh node per run and reports points per second, with 1, 4 and 16
// concurrent writers sharing one client. Each Write is acknowledged after
// the WAL's fsync, so one writer waits for one fsync per batch; concurrent
// writers share them (group commit).
func BenchmarkSDKWrite(b *testing.B) {
	for _, writers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			batches := cpuBatches(b, 200)
			for range b.N {
				n := startNode(b, "")
				c := newClient(b, n, horaedb.Proxy)
				took := load(b, c, batches, writers)
				b.ReportMetric(float64(len(batches)*benchBatch)/took.Seconds(), "points/s")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}

// BenchmarkSDKQuery loads 1M points (1,000 series × 1,000), flushes them to
// SSTs, and measures SqlQuery latency through the SDK: a point query (one
// series at one timestamp) and aggregates over all 1M rows. Each reports the
// median of its calls.
func BenchmarkSDKQuery(b *testing.B) {
	n := startNode(b, "")
	c := newClient(b, n, horaedb.Proxy)
	batches := cpuBatches(b, benchPerSeries)
	took := load(b, c, batches, 4)
	b.Logf("loaded %d points in %s (%.0f points/s)", len(batches)*benchBatch, took.Round(time.Millisecond),
		float64(len(batches)*benchBatch)/took.Seconds())
	resp, err := http.Post(n.httpURL+"/debug/flush_memtable", "text/plain", nil)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	ts := batches[len(batches)/2][0].Timestamp
	for _, q := range []struct {
		name, sql string
		rows      int
	}{
		{"point", fmt.Sprintf("SELECT * FROM cpu WHERE host = 'host_42' AND timestamp = %d", ts), 1},
		{"count-1M", "SELECT count(1) FROM cpu", 1},
		{"groupby-host-1M", "SELECT host, avg(usage_user), max(usage_system) FROM cpu GROUP BY host", benchHosts},
	} {
		b.Run(q.name, func(b *testing.B) {
			reportLatency(b, func() {
				r, err := c.SQLQuery(testCtx(b), horaedb.SQLQueryRequest{Tables: []string{benchTable}, SQL: q.sql})
				if err != nil || len(r.Rows) != q.rows {
					b.Fatalf("%s: %d rows, %v", q.sql, len(r.Rows), err)
				}
			})
		})
		// The same statement over HTTP /sql (JSON), for comparison.
		b.Run(q.name+"-http", func(b *testing.B) {
			reportLatency(b, func() {
				resp, err := http.Post(n.httpURL+"/sql", "text/plain", strings.NewReader(q.sql))
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("%s: %d %v", q.sql, resp.StatusCode, err)
				}
			})
		})
	}
}

// reportLatency calls call at least 20 times and reports the median and
// the 90th percentile of its latency.
func reportLatency(b *testing.B, call func()) {
	var lat []time.Duration
	for range max(b.N, 20) {
		began := time.Now()
		call()
		lat = append(lat, time.Since(began))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
	b.ReportMetric(0, "ns/op")
}
