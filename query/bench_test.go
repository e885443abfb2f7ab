package query_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/wal/local"
)

// scanEnv holds a cpu table of hosts x points rows, flushed to SSTs.
func scanEnv(b *testing.B, hosts, points int) *query.Executor {
	dir := b.TempDir()
	w, err := local.Open(filepath.Join(dir, "wal"), local.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := objstore.OpenLocal(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	e, err := engine.Open(engine.Options{Now: epochClock, WAL: w, Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close(); w.Close(); st.Close() })
	ctx := context.Background()
	if err := e.OpenShard(ctx, 0); err != nil {
		b.Fatal(err)
	}
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1}})
	if _, err := x.Execute(ctx, query.Session{}, "CREATE TABLE cpu (hostname string TAG, usage_user double, usage_system double, t timestamp NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	t, err := e.Table("public", "cpu")
	if err != nil {
		b.Fatal(err)
	}
	fields := []arrow.Field{{Name: "hostname", Type: arrow.BinaryTypes.String}, {Name: "t", Type: schema.TimestampType},
		{Name: "usage_user", Type: arrow.PrimitiveTypes.Float64}, {Name: "usage_system", Type: arrow.PrimitiveTypes.Float64}}
	for p := 0; p < points; p += 100 {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
		for h := 0; h < hosts; h++ {
			for q := p; q < p+100 && q < points; q++ {
				rb.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("host_%d", h))
				rb.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(q) * 10_000))
				rb.Field(2).(*array.Float64Builder).Append(float64(q % 100))
				rb.Field(3).(*array.Float64Builder).Append(float64(h % 100))
			}
		}
		rec := rb.NewRecordBatch()
		rb.Release()
		if _, err := t.Write(ctx, rec); err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
	if err := t.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return x
}

// BenchmarkScanAggregate measures full-table aggregate scans from SSTs
// (1,000 hosts x 1,000 points = 1M rows), reporting rows scanned per second.
func BenchmarkScanAggregate(b *testing.B) {
	const hosts, points = 1000, 1000
	x := scanEnv(b, hosts, points)
	for _, sql := range []string{
		"SELECT count(*), sum(usage_user), max(usage_system) FROM cpu",
		"SELECT hostname, avg(usage_user) FROM cpu GROUP BY hostname",
		"SELECT time_bucket(t, 'PT1H') AS h, max(usage_user) FROM cpu GROUP BY h",
	} {
		name := strings.Fields(sql)[1]
		b.Run(strings.TrimSuffix(name, ","), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := x.Execute(context.Background(), query.Session{}, sql)
				if err != nil {
					b.Fatal(err)
				}
				res.Release()
			}
			b.ReportMetric(float64(hosts*points)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
