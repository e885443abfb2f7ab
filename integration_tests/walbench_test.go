//go:build integration

package integration_tests

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/wal"
	"github.com/horaego/horaedb/wal/kafka"
	"github.com/horaego/horaedb/wal/local"
	"github.com/horaego/horaedb/wal/table"
)

// The WAL benchmarks of docs/benchmarks.md, one per backend, each against
// the real service: the local WAL on disk, the Kafka WAL against a
// kfakebroker process that fsyncs every batch, the table WAL against a
// MariaDB process with its durable defaults.
//
//	go test -tags integration ./integration_tests/ -run '^$' -bench 'BenchmarkWAL' -benchtime 20000x
//	go test -tags integration ./integration_tests/ -run '^$' -bench 'BenchmarkWALReplay' -benchtime 1x -count 3

// walBackend opens WALs of one backend; every open sees the same storage.
type walBackend struct {
	name string
	open func(b *testing.B) wal.WAL
}

// walBackends returns the backends; the services they need are started,
// once, on first use and stopped when parent ends.
func walBackends(parent *testing.B) []walBackend {
	quiet := slog.New(slog.DiscardHandler)
	var broker *kafkaBroker
	var db *mariaDB
	return []walBackend{
		{"local", func(b *testing.B) wal.WAL {
			dir := filepath.Join(b.TempDir(), "wal")
			return mustOpen(b, func() (wal.WAL, error) { return local.Open(dir, local.Options{Logger: quiet}) })
		}},
		{"kafka", func(b *testing.B) wal.WAL {
			if broker == nil {
				broker = startKafkaBroker(parent)
			}
			return mustOpen(b, func() (wal.WAL, error) {
				return kafka.Open(context.Background(), kafka.Options{Brokers: []string{broker.Addr()}, Logger: quiet})
			})
		}},
		{"table", func(b *testing.B) wal.WAL {
			if db == nil {
				db = startMariaDB(parent)
			}
			return mustOpen(b, func() (wal.WAL, error) {
				return table.Open(context.Background(), table.Options{DSN: db.srv.DSN("bench"), Logger: quiet})
			})
		}},
	}
}

func mustOpen(b *testing.B, open func() (wal.WAL, error)) wal.WAL {
	b.Helper()
	w, err := open()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close() })
	return w
}

var benchShard atomic.Uint32

// BenchmarkWALAppend appends one entry per Append from concurrent writers
// (each Append waits for its own acknowledgement; the backends batch
// concurrent ones) and reports entries/s, MB/s and the acknowledgement
// latency's p50 and p99.
func BenchmarkWALAppend(b *testing.B) {
	for _, be := range walBackends(b) {
		for _, tc := range []struct{ writers, size int }{{1, 1 << 10}, {64, 1 << 10}, {64, 16 << 10}} {
			b.Run(fmt.Sprintf("%s/writers=%d/entry=%dKiB", be.name, tc.writers, tc.size>>10), func(b *testing.B) {
				w := be.open(b)
				l, err := w.OpenLog(b.Context(), 1000+benchShard.Add(1))
				if err != nil {
					b.Fatal(err)
				}
				payload := make([]byte, tc.size)
				for i := range payload {
					payload[i] = byte(i * 7)
				}
				lat := make([][]time.Duration, tc.writers)
				var n atomic.Int64
				var wg sync.WaitGroup
				b.SetBytes(int64(tc.size))
				b.ResetTimer()
				for g := range tc.writers {
					wg.Go(func() {
						entries := []wal.Entry{{TableID: uint64(g), Payload: payload}}
						for n.Add(1) <= int64(b.N) {
							began := time.Now()
							if _, err := l.Append(context.Background(), entries); err != nil {
								b.Error(err)
								return
							}
							lat[g] = append(lat[g], time.Since(began))
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				all := slices.Concat(lat...)
				slices.Sort(all)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
				b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			})
		}
	}
}

// The replay benchmark's data: one shard, 100 tables like TSBS's cpu table
// (2 tags, 10 double fields), 10,000 rows each, written 100 rows per
// write: 1,000,000 rows (10 million field values) in 10,000 WAL entries.
const (
	replayTables       = 100
	replayRowsPerTable = 10_000
	replayRowsPerWrite = 100
)

var replayFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

func replaySchema(b *testing.B) *schema.Schema {
	defs := []schema.ColumnDef{{Name: "hostname", Kind: schema.String, IsTag: true},
		{Name: "region", Kind: schema.String, IsTag: true}, {Name: "t", Kind: schema.Timestamp, NotNull: true}}
	for _, f := range replayFields {
		defs = append(defs, schema.ColumnDef{Name: f, Kind: schema.Double})
	}
	s, err := schema.Build(schema.TableDef{Columns: defs})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// replayBatch is rows [from, from+n) of a table: host i%100 at time i.
func replayBatch(from, n int) arrow.RecordBatch {
	fields := []arrow.Field{{Name: "hostname", Type: arrow.BinaryTypes.String}, {Name: "region", Type: arrow.BinaryTypes.String},
		{Name: "t", Type: schema.TimestampType}}
	for _, f := range replayFields {
		fields = append(fields, arrow.Field{Name: f, Type: arrow.PrimitiveTypes.Float64})
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer rb.Release()
	for i := from; i < from+n; i++ {
		rb.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("host_%d", i%100))
		rb.Field(1).(*array.StringBuilder).Append("eu-central-1")
		rb.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000 + int64(i)*10_000))
		for f := range replayFields {
			rb.Field(3 + f).(*array.Float64Builder).Append(float64((i*7 + f) % 100))
		}
	}
	return rb.NewRecordBatch()
}

// BenchmarkWALReplay measures opening a shard whose 1,000,000 rows are
// all in the WAL (nothing flushed): loading its 100 tables and replaying
// the WAL into their memtables. Each iteration closes the shard without
// flushing and opens it again. It also reports reading the shard's log
// alone, without the engine.
func BenchmarkWALReplay(b *testing.B) {
	for _, be := range walBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			w := be.open(b)
			st, err := objstore.OpenLocal(filepath.Join(b.TempDir(), "store"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			e, err := engine.Open(engine.Options{WAL: w, Store: st, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = e.Close() })
			ctx := context.Background()
			shard := 2000 + benchShard.Add(1)
			if err := e.OpenShard(ctx, shard); err != nil {
				b.Fatal(err)
			}
			s := replaySchema(b)
			topts := options.Default()
			topts.EnableTTL = false // the rows are from 2023
			tables := make([]*engine.Table, replayTables)
			for i := range tables {
				if tables[i], err = e.CreateTable(ctx, engine.CreateTableRequest{
					Database: "public", Name: fmt.Sprintf("cpu_%d", i), ShardID: shard, Schema: s, Options: &topts,
				}); err != nil {
					b.Fatal(err)
				}
			}
			// Write: 8 writers, each over its share of the tables.
			batches := make([]arrow.RecordBatch, replayRowsPerTable/replayRowsPerWrite)
			for i := range batches {
				batches[i] = replayBatch(i*replayRowsPerWrite, replayRowsPerWrite)
			}
			began := time.Now()
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for _, batch := range batches {
						for ti := g; ti < replayTables; ti += 8 {
							if _, err := tables[ti].Write(ctx, batch); err != nil {
								b.Error(err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			if b.Failed() {
				b.FailNow()
			}
			rows := replayTables * replayRowsPerTable
			b.Logf("%s: wrote %d rows in %d entries in %s", be.name, rows, replayTables*len(batches),
				time.Since(began).Round(time.Millisecond))

			// The log alone.
			if err := e.CloseShard(ctx, shard, false); err != nil {
				b.Fatal(err)
			}
			l, err := w.OpenLog(ctx, shard)
			if err != nil {
				b.Fatal(err)
			}
			began = time.Now()
			it, err := l.Read(ctx, 1)
			if err != nil {
				b.Fatal(err)
			}
			var entries, bytes int
			for it.Next(ctx) {
				entries++
				bytes += len(it.Record().Payload)
			}
			if err := it.Err(); err != nil {
				b.Fatal(err)
			}
			_ = it.Close()
			read := time.Since(began)
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: read the log alone: %d entries, %.1f MB in %s (%.0f entries/s, %.0f MB/s)", be.name,
				entries, float64(bytes)/1e6, read.Round(time.Millisecond), float64(entries)/read.Seconds(),
				float64(bytes)/1e6/read.Seconds())

			b.ResetTimer()
			for range b.N {
				if err := e.OpenShard(ctx, shard); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if got := len(e.Tables("public")); got != replayTables {
					b.Fatalf("%d tables after opening the shard", got)
				}
				if err := e.CloseShard(ctx, shard, false); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(rows*len(replayFields))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
