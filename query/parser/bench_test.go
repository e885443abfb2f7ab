package parser

import (
	"fmt"
	"strings"
	"testing"
)

// benchInsert returns an INSERT of n rows shaped like a typical write: a
// timestamp, two tags and two fields.
func benchInsert(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO cpu (`timestamp`, host, region, usage_user, usage_system) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, 'host_%d', \"us-west-%d\", %d.%d, -%d)", 1651737067000+int64(i)*10000, i%50, i%3, i%100, i%10, i)
	}
	return b.String()
}

const benchSelect = "SELECT time_bucket(`timestamp`, 'PT1M') AS minute, host, avg(usage_user) AS u, max(usage_system) " +
	"FROM cpu WHERE `timestamp` >= 1651737067000 AND `timestamp` < 1651740667000 AND host IN ('host_1', 'host_2', 'host_3') " +
	"AND region = 'us-west-1' GROUP BY minute, host HAVING count(*) > 1 ORDER BY minute DESC, host LIMIT 100"

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, sql string }{
		{"insert_100_rows", benchInsert(100)},
		{"select", benchSelect},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.sql)))
			for b.Loop() {
				if _, err := Parse(bc.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
