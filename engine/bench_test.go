package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/wal/local"
)

// The benchmark table looks like TSBS's cpu-only table: two tags, ten
// double fields.
var cpuFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

func cpuSchema(b testing.TB) *schema.Schema {
	defs := []schema.ColumnDef{{Name: "hostname", Kind: schema.String, IsTag: true},
		{Name: "region", Kind: schema.String, IsTag: true}, {Name: "t", Kind: schema.Timestamp, NotNull: true}}
	for _, f := range cpuFields {
		defs = append(defs, schema.ColumnDef{Name: f, Kind: schema.Double})
	}
	s, err := schema.Build(schema.TableDef{Columns: defs})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// cpuBatch builds rows for hosts [0, hosts) at one timestamp each, starting at ts.
func cpuBatch(s *schema.Schema, hosts int, ts int64) arrow.RecordBatch {
	fields := []arrow.Field{{Name: "hostname", Type: arrow.BinaryTypes.String}, {Name: "region", Type: arrow.BinaryTypes.String},
		{Name: "t", Type: schema.TimestampType}}
	for _, f := range cpuFields {
		fields = append(fields, arrow.Field{Name: f, Type: arrow.PrimitiveTypes.Float64})
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	for h := 0; h < hosts; h++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("host_%d", h))
		b.Field(1).(*array.StringBuilder).Append("eu-central-1")
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(ts))
		for i := range cpuFields {
			b.Field(3 + i).(*array.Float64Builder).Append(float64((h*7 + i) % 100))
		}
	}
	return b.NewRecordBatch()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchEngine(b *testing.B) *engine.Table {
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
	if err := e.OpenShard(context.Background(), 0); err != nil {
		b.Fatal(err)
	}
	t, err := e.CreateTable(context.Background(), engine.CreateTableRequest{Database: "public", Name: "cpu", Schema: cpuSchema(b)})
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkWrite measures durable writes through the engine API: batches
// of 1000 rows (10,000 samples), from 1 and 4 concurrent writers sharing
// WAL fsyncs. It reports rows/s, samples/s and the process CPU per sample.
func BenchmarkWrite(b *testing.B) {
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			t := benchEngine(b)
			s := t.Schema()
			const hosts = 1000
			batches := make([]arrow.RecordBatch, 64)
			for i := range batches {
				batches[i] = cpuBatch(s, hosts, int64(i)*10_000)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			var wg sync.WaitGroup
			per := (b.N + writers - 1) / writers
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						if _, err := t.Write(context.Background(), batches[(w*per+i)%len(batches)]); err != nil {
							b.Error(err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			cpu := cpuTime() - cpu0
			rows := float64(per * writers * hosts)
			samples := rows * float64(len(cpuFields))
			b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(samples/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(cpu.Microseconds())/samples, "cpu-µs/sample")
		})
	}
}
