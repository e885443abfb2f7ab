package query_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
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

// bench10M is a table of 1,000 hosts x 10,000 points (10 s apart) = 10M
// rows in SSTs, built once per test binary. BENCH_ROWS_PER_HOST shrinks it.
var bench10M struct {
	once sync.Once
	e    *engine.Engine
	err  error
	rows int
}

func fixture10M(b *testing.B) *engine.Engine {
	bench10M.once.Do(func() {
		points := 10_000
		if v, err := strconv.Atoi(os.Getenv("BENCH_ROWS_PER_HOST")); err == nil {
			points = v
		}
		dir, err := os.MkdirTemp("", "horaedb-bench10m")
		if err != nil {
			bench10M.err = err
			return
		}
		w, err := local.Open(filepath.Join(dir, "wal"), local.Options{NoSync: true})
		if err != nil {
			bench10M.err = err
			return
		}
		st, err := objstore.OpenLocal(filepath.Join(dir, "store"))
		if err != nil {
			bench10M.err = err
			return
		}
		e, err := engine.Open(engine.Options{Now: epochClock, WAL: w, Store: st, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			bench10M.err = err
			return
		}
		ctx := context.Background()
		if err := e.OpenShard(ctx, 0); err != nil {
			bench10M.err = err
			return
		}
		s, _ := schema.Build(schema.TableDef{Columns: []schema.ColumnDef{
			{Name: "hostname", Kind: schema.String, IsTag: true}, {Name: "usage_user", Kind: schema.Double},
			{Name: "usage_system", Kind: schema.Double}, {Name: "t", Kind: schema.Timestamp, NotNull: true}}})
		t, err := e.CreateTable(ctx, engine.CreateTableRequest{Database: "public", Name: "cpu", Schema: s})
		if err != nil {
			bench10M.err = err
			return
		}
		fields := []arrow.Field{{Name: "hostname", Type: arrow.BinaryTypes.String}, {Name: "t", Type: schema.TimestampType},
			{Name: "usage_user", Type: arrow.PrimitiveTypes.Float64}, {Name: "usage_system", Type: arrow.PrimitiveTypes.Float64}}
		hosts := make([]string, 1000)
		for h := range hosts {
			hosts[h] = fmt.Sprintf("host_%d", h)
		}
		for p := 0; p < points; p += 100 { // 100 points of every host per batch
			rb := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
			for h := range hosts {
				for q := p; q < p+100 && q < points; q++ {
					rb.Field(0).(*array.StringBuilder).Append(hosts[h])
					rb.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(q) * 10_000))
					rb.Field(2).(*array.Float64Builder).Append(float64((q*7 + h) % 100))
					rb.Field(3).(*array.Float64Builder).Append(float64((q*13 + h*3) % 100))
				}
			}
			rec := rb.NewRecordBatch()
			rb.Release()
			if _, err := t.Write(ctx, rec); err != nil {
				bench10M.err = err
				return
			}
			rec.Release()
		}
		if err := t.Flush(ctx); err != nil {
			bench10M.err = err
			return
		}
		bench10M.e, bench10M.rows = e, points*len(hosts)
	})
	if bench10M.err != nil {
		b.Fatal(bench10M.err)
	}
	return bench10M.e
}

// BenchmarkQuery10M runs typical time-series queries over 10M rows: a
// filter with an aggregate on one core and on two, a GROUP BY of an hour
// bucket and a tag, and an ORDER BY ... LIMIT 10 (top-k).
func BenchmarkQuery10M(b *testing.B) {
	e := fixture10M(b)
	for _, tc := range []struct {
		name  string
		sql   string
		cores int
	}{
		{"filter_agg/cores=1", "SELECT count(*), avg(usage_user) FROM cpu WHERE usage_system > 50", 1},
		{"filter_agg/cores=2", "SELECT count(*), avg(usage_user) FROM cpu WHERE usage_system > 50", 2},
		{"groupby_hour_host/cores=2", "SELECT time_bucket(t, 'PT1H') AS h, hostname, max(usage_user) FROM cpu GROUP BY h, hostname", 2},
		{"orderby_limit10/cores=2", "SELECT hostname, usage_user, t FROM cpu ORDER BY usage_user DESC, t DESC LIMIT 10", 2},
	} {
		b.Run(tc.name, func(b *testing.B) {
			prev := runtime.GOMAXPROCS(tc.cores)
			defer runtime.GOMAXPROCS(prev)
			x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 1},
				ReadParallelism: tc.cores, MemoryLimit: -1})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := x.Execute(context.Background(), query.Session{}, tc.sql)
				if err != nil {
					b.Fatal(err)
				}
				res.Release()
			}
			b.ReportMetric(float64(bench10M.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
