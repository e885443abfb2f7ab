//go:build integration

package integration_tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkStaticRestart measures how long a SIGKILLed node of a static
// cluster takes to serve its tables again: two nodes, 100 tables of 10,000
// rows written through node 0 (about half of them live on node 1, in its
// WAL and SSTs), node 1 killed and restarted. It reports the time from the
// restart to GET / answering (ready_s) and to every one of node 1's
// tables answering a count through node 0 with all its rows (serving_s).
func BenchmarkStaticRestart(b *testing.B) {
	const tables, rows = 100, 10_000
	for range b.N {
		b.StopTimer()
		nodes := make([]*Node, 2)
		for i := range nodes {
			nodes[i] = NewNode(b, NodeOptions{})
		}
		top := staticTopology(nodes)
		for _, n := range nodes {
			appendConfig(b, n, top)
			n.Start()
		}
		var mine []string // tables of node 1
		for t := range tables {
			name := fmt.Sprintf("r%03d", t)
			nodes[0].MustSQL(fmt.Sprintf(clusterDDL, name))
			var s strings.Builder
			fmt.Fprintf(&s, "INSERT INTO %s (host, v, t) VALUES ", name)
			for i := range rows {
				if i > 0 {
					s.WriteString(", ")
				}
				fmt.Fprintf(&s, "('h%d', %d.5, %d)", i%50, i, clusterTS(i))
			}
			nodes[0].MustSQL(s.String())
			if routeOf(b, nodes[0], nodes, name) == nodes[1] {
				mine = append(mine, name)
			}
		}
		nodes[1].Kill()
		b.StartTimer()
		start := time.Now()
		nodes[1].Start()
		ready := time.Since(start)
		want := fmt.Sprintf(`{"rows":[{"n":%d}]}`, rows)
		for _, name := range mine {
			waitFor(b, time.Minute, name+" served again", func() bool {
				code, body, err := nodes[0].SQL(context.Background(), "SELECT count(*) AS n FROM "+name)
				return err == nil && code == 200 && string(body) == want
			})
		}
		serving := time.Since(start)
		b.StopTimer()
		b.ReportMetric(ready.Seconds(), "ready_s")
		b.ReportMetric(serving.Seconds(), "serving_s")
		b.ReportMetric(float64(len(mine)), "tables")
		for _, n := range nodes {
			n.Stop()
		}
	}
}
