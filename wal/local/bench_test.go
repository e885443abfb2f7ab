package local

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/horaego/horaedb/wal"
)

// The benchmarks run on disk, in b.TempDir().

func benchLog(b *testing.B, opts Options) (*WAL, *Log) {
	b.Helper()
	w, err := Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close() })
	l, err := w.OpenLog(b.Context(), 1)
	if err != nil {
		b.Fatal(err)
	}
	return w, l.(*Log)
}

// reportSyncs reports fsyncs per append and entries per fsync.
func reportSyncs(b *testing.B, w *WAL, syncsBefore uint64, entries int) {
	syncs := float64(w.c.syncs.Load() - syncsBefore)
	b.ReportMetric(syncs/float64(b.N), "fsyncs/op")
	if syncs > 0 {
		b.ReportMetric(float64(entries)/syncs, "entries/fsync")
	}
}

// BenchmarkAppend appends one 1 KiB entry at a time from one goroutine:
// every append waits for its own fsync (or, with nosync, for none).
func BenchmarkAppend(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%t", noSync), func(b *testing.B) {
			w, l := benchLog(b, Options{NoSync: noSync})
			entries := []wal.Entry{{TableID: 1, Payload: make([]byte, 1<<10)}}
			ctx := b.Context()
			syncs := w.c.syncs.Load()
			b.SetBytes(1 << 10)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := l.Append(ctx, entries); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportSyncs(b, w, syncs, b.N)
		})
	}
}

// BenchmarkAppendConcurrent appends one 1 KiB entry at a time from many
// goroutines: group commit makes them share fsyncs.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, writers := range []int{16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			w, l := benchLog(b, Options{})
			ctx := b.Context()
			payload := make([]byte, 1<<10)
			syncs := w.c.syncs.Load()
			var n atomic.Int64
			var wg sync.WaitGroup
			b.SetBytes(1 << 10)
			b.ReportAllocs()
			b.ResetTimer()
			for g := range writers {
				wg.Go(func() {
					entries := []wal.Entry{{TableID: uint64(g), Payload: payload}}
					for n.Add(1) <= int64(b.N) {
						if _, err := l.Append(ctx, entries); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			reportSyncs(b, w, syncs, b.N)
		})
	}
}

// BenchmarkRead reads 10,000 entries of 1 KiB, of 10 tables, from the start.
func BenchmarkRead(b *testing.B) {
	const entries, batch = 10_000, 100
	_, l := benchLog(b, Options{})
	ctx := b.Context()
	payload := make([]byte, 1<<10)
	for i := 0; i < entries; i += batch {
		es := make([]wal.Entry, batch)
		for j := range es {
			es[j] = wal.Entry{TableID: uint64(j % 10), Payload: payload}
		}
		if _, err := l.Append(ctx, es); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(entries << 10)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		it, err := l.Read(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for it.Next(ctx) {
			n++
		}
		if err := it.Err(); err != nil || n != entries {
			b.Fatalf("read %d entries, err %v", n, err)
		}
		_ = it.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*entries), "ns/entry")
}
