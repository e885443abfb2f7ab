package merge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rows have key (k1 string, k2 timestamp), a value and the sequence.
var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k1", Type: arrow.BinaryTypes.String},
	{Name: "k2", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
	{Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "__seq", Type: arrow.PrimitiveTypes.Uint64},
}, nil)

type row struct {
	k1  string
	k2  int64
	v   float64
	seq uint64
}

func (r row) String() string { return fmt.Sprintf("(%s,%d,%g,%d)", r.k1, r.k2, r.v, r.seq) }

func cmpRow(a, b row) int {
	if a.k1 != b.k1 {
		if a.k1 < b.k1 {
			return -1
		}
		return 1
	}
	if a.k2 != b.k2 {
		if a.k2 < b.k2 {
			return -1
		}
		return 1
	}
	return 0
}

func build(rows []row) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.k1)
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(r.k2))
		if r.v < 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(r.v)
		}
		b.Field(3).(*array.Uint64Builder).Append(r.seq)
	}
	return b.NewRecordBatch()
}

func collect(t *testing.T, s Stream) []row {
	t.Helper()
	var out []row
	for {
		rec, err := s.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		k1 := rec.Column(0).(*array.String)
		k2 := rec.Column(1).(*array.Timestamp)
		v := rec.Column(2).(*array.Float64)
		seq := rec.Column(3).(*array.Uint64)
		for i := 0; i < int(rec.NumRows()); i++ {
			val := v.Value(i)
			if v.IsNull(i) {
				val = -1
			}
			out = append(out, row{k1.Value(i), int64(k2.Value(i)), val, seq.Value(i)})
		}
	}
}

// TestMergeRandom compares the merger with sorting everything at once.
func TestMergeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		dedup := iter%2 == 0
		nstreams := 1 + rng.IntN(5)
		var all []row
		var streams []Stream
		seq := uint64(0)
		for s := 0; s < nstreams; s++ {
			var recs []arrow.RecordBatch
			var rows []row
			for i := rng.IntN(60); i > 0; i-- {
				seq++
				v := float64(rng.IntN(100))
				if rng.IntN(10) == 0 {
					v = -1
				}
				rows = append(rows, row{fmt.Sprintf("h%d", rng.IntN(4)), int64(rng.IntN(10)), v, seq})
			}
			// A sorted run: stable by key, newest first among equal keys.
			slices.SortStableFunc(rows, func(a, b row) int {
				if c := cmpRow(a, b); c != 0 {
					return c
				}
				return int(b.seq) - int(a.seq)
			})
			all = append(all, rows...)
			for len(rows) > 0 { // split into records of random size
				n := 1 + rng.IntN(len(rows))
				recs = append(recs, build(rows[:n]))
				rows = rows[n:]
			}
			streams = append(streams, NewRecordStream(recs...))
		}
		slices.SortFunc(all, func(a, b row) int {
			if c := cmpRow(a, b); c != 0 {
				return c
			}
			return int(b.seq) - int(a.seq)
		})
		if dedup {
			all = slices.CompactFunc(all, func(a, b row) bool { return cmpRow(a, b) == 0 })
		}
		m := New(streams, Options{NumKeys: 2, SeqIndex: 3, Dedup: dedup, BatchSize: 1 + rng.IntN(20)})
		got := collect(t, m)
		m.Close()
		if fmt.Sprint(got) != fmt.Sprint(all) {
			t.Fatalf("iteration %d (dedup=%v):\n got %v\nwant %v", iter, dedup, got, all)
		}
	}
}

func TestSortBatch(t *testing.T) {
	in := build([]row{{"b", 1, 1, 5}, {"a", 2, 2, 5}, {"b", 1, 3, 5}, {"a", 1, 4, 5}})
	sorted, err := SortBatch(in, 2, false, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(collect(t, NewRecordStream(sorted))); got != "[(a,1,4,5) (a,2,2,5) (b,1,1,5) (b,1,3,5)]" {
		t.Errorf("sorted = %s", got)
	}
	dd, err := SortBatch(in, 2, true, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	// The later row of the batch wins.
	if got := fmt.Sprint(collect(t, NewRecordStream(dd))); got != "[(a,1,4,5) (a,2,2,5) (b,1,3,5)]" {
		t.Errorf("deduped = %s", got)
	}
	already := build([]row{{"a", 1, 1, 1}, {"b", 1, 1, 1}})
	same, _ := SortBatch(already, 2, true, memory.DefaultAllocator)
	if same != already {
		t.Error("a sorted, unique batch was copied")
	}
}

func BenchmarkMerge(b *testing.B) {
	// Two overlapping sources of 1000 series x 100 points, as a memtable
	// over an SST would look.
	mk := func(seqBase uint64, tsBase int64) arrow.RecordBatch {
		var rows []row
		for h := 0; h < 1000; h++ {
			for p := int64(0); p < 100; p++ {
				rows = append(rows, row{fmt.Sprintf("host_%04d", h), tsBase + p, float64(p), seqBase})
			}
		}
		return build(rows)
	}
	a, c := mk(1, 0), mk(2, 50)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := New([]Stream{NewRecordStream(a), NewRecordStream(c)}, Options{NumKeys: 2, SeqIndex: 3, Dedup: true})
		n := 0
		for {
			rec, err := m.Next(context.Background())
			if err != nil {
				break
			}
			n += int(rec.NumRows())
			rec.Release()
		}
		m.Close()
		if n != 150000 {
			b.Fatalf("rows = %d", n)
		}
	}
	b.ReportMetric(float64(b.N*200000)/b.Elapsed().Seconds(), "input-rows/s")
}
