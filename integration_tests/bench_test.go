//go:build integration

package integration_tests

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// BenchmarkHTTPInsert measures INSERT statements over HTTP /sql against the
// real binary: statements of 100 rows of a TSBS-cpu-like table (two tags,
// ten double fields: 1,000 samples per statement) from 4 clients. It
// reports rows/s, samples/s and the server's CPU time per sample, read
// from /proc.
func BenchmarkHTTPInsert(b *testing.B) {
	n := StartNode(b, NodeOptions{})
	fields := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	var ddl strings.Builder
	ddl.WriteString("CREATE TABLE cpu (hostname string TAG, region string TAG, t timestamp NOT NULL")
	for _, f := range fields {
		fmt.Fprintf(&ddl, ", %s double", f)
	}
	ddl.WriteString(", TIMESTAMP KEY(t)) WITH (enable_ttl='false')")
	n.MustSQL(ddl.String())

	const rowsPerStatement, clients = 100, 4
	stmt := func(client, i int) string {
		var s strings.Builder
		fmt.Fprintf(&s, "INSERT INTO cpu (hostname, region, t, %s) VALUES ", strings.Join(fields, ", "))
		for r := 0; r < rowsPerStatement; r++ {
			if r > 0 {
				s.WriteString(", ")
			}
			fmt.Fprintf(&s, "('host_%d', 'eu-west-1', %d", client*rowsPerStatement+r, 1_700_000_000_000+int64(i)*10_000)
			for f := range fields {
				fmt.Fprintf(&s, ", %d.%d", (r+f)%100, i%10)
			}
			s.WriteString(")")
		}
		return s.String()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := n.CPUTime()
	var wg sync.WaitGroup
	per := (b.N + clients - 1) / clients
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				code, body, err := n.SQL(context.Background(), stmt(c, i))
				if err != nil || code != 200 {
					b.Errorf("insert: %d %s %v", code, body, err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	cpu := n.CPUTime() - cpu0
	rows := float64(per * clients * rowsPerStatement)
	samples := rows * float64(len(fields))
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(samples/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(cpu.Microseconds())/samples, "server-cpu-µs/sample")
}
