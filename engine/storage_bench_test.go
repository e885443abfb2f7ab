package engine_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/internal/tsbs"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/wal/local"
)

func tsbsSchema(tb testing.TB) *schema.Schema {
	var defs []schema.ColumnDef
	for _, t := range tsbs.Tags {
		defs = append(defs, schema.ColumnDef{Name: t, Kind: schema.String, IsTag: true})
	}
	defs = append(defs, schema.ColumnDef{Name: "t", Kind: schema.Timestamp, NotNull: true})
	for _, f := range tsbs.Fields {
		defs = append(defs, schema.ColumnDef{Name: f, Kind: schema.Double})
	}
	s, err := schema.Build(schema.TableDef{Columns: defs})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// tsbsBatch returns one row per host at each of the steps timestamps from
// t0, an interval apart.
func tsbsBatch(g *tsbs.Generator, t0 int64, steps int) arrow.RecordBatch {
	fields := make([]arrow.Field, 0, len(tsbs.Tags)+1+len(tsbs.Fields))
	for _, t := range tsbs.Tags {
		fields = append(fields, arrow.Field{Name: t, Type: arrow.BinaryTypes.String})
	}
	fields = append(fields, arrow.Field{Name: "t", Type: schema.TimestampType})
	for _, f := range tsbs.Fields {
		fields = append(fields, arrow.Field{Name: f, Type: arrow.PrimitiveTypes.Float64})
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	nt := len(tsbs.Tags)
	for s := 0; s < steps; s++ {
		for h, tags := range g.HostTags {
			for i, v := range tags {
				b.Field(i).(*array.StringBuilder).Append(v)
			}
			b.Field(nt).(*array.TimestampBuilder).Append(arrow.Timestamp(t0 + int64(s)*tsbs.Interval))
			for i, v := range g.Step(h) {
				b.Field(nt + 1 + i).(*array.Float64Builder).Append(v)
			}
		}
	}
	return b.NewRecordBatch()
}

// BenchmarkTSBSStorage writes a day of TSBS-like cpu data of 100 hosts
// (864,000 rows, 8.64M samples) through the engine in eight flushes, then
// compacts it. It reports the SST bytes per sample (field value) before
// and after compaction and the compaction throughput. Set
// BENCH_TSBS_HOSTS to change the number of hosts.
func BenchmarkTSBSStorage(b *testing.B) {
	hosts := 100
	if v, err := strconv.Atoi(os.Getenv("BENCH_TSBS_HOSTS")); err == nil && v > 0 {
		hosts = v
	}
	const stepsPerDay = 8640
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		if d := os.Getenv("BENCH_TSBS_DIR"); d != "" { // keep the files to inspect them
			dir = d
		}
		w, err := local.Open(filepath.Join(dir, "wal"), local.Options{})
		if err != nil {
			b.Fatal(err)
		}
		st, err := objstore.OpenLocal(filepath.Join(dir, "store"))
		if err != nil {
			b.Fatal(err)
		}
		e, err := engine.Open(engine.Options{WAL: w, Store: st, Logger: slog.New(slog.DiscardHandler), DisableAutoCompaction: true})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if err := e.OpenShard(ctx, 0); err != nil {
			b.Fatal(err)
		}
		opts, err := options.Default().Apply(map[string]string{"segment_duration": "1d", "enable_ttl": "false"}, true)
		if err != nil {
			b.Fatal(err)
		}
		t, err := e.CreateTable(ctx, engine.CreateTableRequest{Database: "public", Name: "cpu", Schema: tsbsSchema(b), Options: &opts})
		if err != nil {
			b.Fatal(err)
		}
		g := tsbs.New(hosts, 42)
		day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		const flushes, chunk = 8, 60
		for s := 0; s < stepsPerDay; s += chunk {
			rec := tsbsBatch(g, day+int64(s)*tsbs.Interval, chunk)
			if _, err := t.Write(ctx, rec); err != nil {
				b.Fatal(err)
			}
			rec.Release()
			if (s/chunk+1)%(stepsPerDay/chunk/flushes) == 0 {
				if err := t.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := t.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		samples := float64(hosts * stepsPerDay * len(tsbs.Fields))
		before := t.Stats()
		b.StartTimer()
		start := time.Now()
		if _, failed := e.CompactAll(ctx); len(failed) > 0 {
			b.Fatalf("compaction failed: %v", failed)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		after := t.Stats()
		if after.SSTRows != int64(hosts*stepsPerDay) {
			b.Fatalf("%d rows after compaction, want %d", after.SSTRows, hosts*stepsPerDay)
		}
		b.ReportMetric(float64(before.SSTBytes)/samples, "B/sample-flushed")
		b.ReportMetric(float64(after.SSTBytes)/samples, "B/sample")
		b.ReportMetric(float64(before.SSTBytes)/(1<<20)/elapsed.Seconds(), "compaction-in-MB/s")
		b.ReportMetric(samples/elapsed.Seconds(), "compaction-samples/s")
		b.Logf("%d hosts: %d SSTs, %.1f MiB flushed → %d SSTs, %.1f MiB compacted in %s",
			hosts, before.SSTs, float64(before.SSTBytes)/(1<<20), after.SSTs, float64(after.SSTBytes)/(1<<20), elapsed.Round(time.Millisecond))
		e.Close()
		w.Close()
		st.Close()
	}
}
