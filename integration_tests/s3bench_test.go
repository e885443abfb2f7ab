//go:build integration

package integration_tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horaego/horaedb/internal/miniotest"
	"github.com/horaego/horaedb/internal/tsbs"
)

// s3Queries are the statements BenchmarkS3QueryCaches times, over the
// TSBS-like table it loads (100 hosts, one day from s3BenchStart).
func s3Queries(start int64) []struct{ name, sql string } {
	h := int64(3600_000)
	return []struct{ name, sql string }{
		{"one_host_1h", fmt.Sprintf(`SELECT max(usage_user), max(usage_system) FROM cpu WHERE hostname = 'host_42' AND t >= %d AND t < %d`, start+12*h, start+13*h)},
		{"all_hosts_12h_by_hour", fmt.Sprintf(`SELECT date_trunc('hour', t) AS hour, avg(usage_user) FROM cpu WHERE t >= %d AND t < %d GROUP BY hour`, start, start+12*h)},
		{"count_day", `SELECT count(*) FROM cpu`},
	}
}

// BenchmarkS3QueryCaches measures query latency on a node whose SSTs are
// in MinIO (loopback), with cold caches (a restarted node, disk cache
// wiped), with only the disk cache warm (a restarted node), and with both
// caches warm (the median of 5 runs). The data: 100 TSBS-like hosts, one
// day at 10 s (864,000 rows, 8.64M samples), flushed and compacted.
func BenchmarkS3QueryCaches(b *testing.B) {
	m := miniotest.Start(b)
	m.CreateBucket(b, "horaedb")
	cacheDir := filepath.Join(b.TempDir(), "disk_cache")
	n := StartNode(b, NodeOptions{ExtraConfig: fmt.Sprintf(`
[analytic.storage]
mem_cache_capacity = "512MB"
disk_cache_capacity = "1GB"
disk_cache_page_size = "2MB"
disk_cache_partition_bits = 4
disk_cache_dir = %q

[analytic.storage.object_store]
type = "S3"
region = %q
key_id = %q
key_secret = %q
endpoint = %q
bucket = "horaedb"
prefix = "bench"
`, cacheDir, miniotest.Region, miniotest.AccessKey, miniotest.SecretKey, m.Endpoint)})

	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	loadTSBS(b, n, 100, 8640, start)
	for _, path := range []string{"/debug/flush_memtable", "/debug/compact_table"} {
		if code, body, err := n.Post(context.Background(), path, nil); err != nil || code != 200 || !strings.Contains(string(body), `"failed":[]`) {
			b.Fatalf("%s: %d %s %v", path, code, body, err)
		}
	}

	timeQuery := func(sql string) time.Duration {
		t0 := time.Now()
		code, body, err := n.SQL(context.Background(), sql)
		if err != nil || code != 200 {
			b.Fatalf("%s: %d %s %v", sql, code, body, err)
		}
		return time.Since(t0)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, q := range s3Queries(start) {
			n.Stop()
			if err := os.RemoveAll(cacheDir); err != nil {
				b.Fatal(err)
			}
			n.Start()
			cold := timeQuery(q.sql)
			n.Stop()
			n.Start()
			disk := timeQuery(q.sql)
			var warm []time.Duration
			for j := 0; j < 5; j++ {
				warm = append(warm, timeQuery(q.sql))
			}
			slices.Sort(warm)
			b.ReportMetric(ms(cold), q.name+"-cold-ms")
			b.ReportMetric(ms(disk), q.name+"-disk-ms")
			b.ReportMetric(ms(warm[2]), q.name+"-warm-ms")
		}
	}
}

// loadTSBS creates table cpu with TSBS's tags and fields and inserts
// steps rows per host from start, 10 s apart, in statements of 1,000 rows
// from 4 clients.
func loadTSBS(tb testing.TB, n *Node, hosts, steps int, start int64) {
	tb.Helper()
	var ddl strings.Builder
	ddl.WriteString("CREATE TABLE cpu (")
	for _, t := range tsbs.Tags {
		fmt.Fprintf(&ddl, "%s string TAG, ", t)
	}
	ddl.WriteString("t timestamp NOT NULL")
	for _, f := range tsbs.Fields {
		fmt.Fprintf(&ddl, ", %s double", f)
	}
	ddl.WriteString(", TIMESTAMP KEY(t)) WITH (enable_ttl='false', segment_duration='1d')")
	n.MustSQL(ddl.String())

	g := tsbs.New(hosts, 42)
	cols := append(append(slices.Clone(tsbs.Tags), "t"), tsbs.Fields...)
	head := "INSERT INTO cpu (" + strings.Join(cols, ", ") + ") VALUES "
	stepsPerStmt := max(1, 1000/hosts)
	stmts := make(chan string, 8)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range stmts {
				if code, body, err := n.SQL(context.Background(), s); err != nil || code != 200 {
					errs <- fmt.Errorf("insert: %d %.200s %v", code, body, err)
					for range stmts {
					}
					return
				}
			}
		}()
	}
	for s0 := 0; s0 < steps; s0 += stepsPerStmt {
		var sb strings.Builder
		sb.WriteString(head)
		for s := s0; s < min(steps, s0+stepsPerStmt); s++ {
			for h, tags := range g.HostTags {
				if sb.Len() > len(head) {
					sb.WriteString(", ")
				}
				sb.WriteString("(")
				for _, v := range tags {
					fmt.Fprintf(&sb, "'%s', ", v)
				}
				fmt.Fprintf(&sb, "%d", start+int64(s)*tsbs.Interval)
				for _, v := range g.Step(h) {
					fmt.Fprintf(&sb, ", %g", v)
				}
				sb.WriteString(")")
			}
		}
		stmts <- sb.String()
	}
	close(stmts)
	wg.Wait()
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
}
