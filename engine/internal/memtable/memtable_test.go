package memtable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var runSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
	{Name: "__seq", Type: arrow.PrimitiveTypes.Uint64},
}, nil)

func run(keys []int, seq uint64) arrow.RecordBatch {
	sort.Ints(keys)
	b := array.NewRecordBuilder(memory.DefaultAllocator, runSchema)
	defer b.Release()
	for _, k := range keys {
		b.Field(0).(*array.Uint64Builder).Append(uint64(k))
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(k * 10))
		b.Field(2).(*array.Uint64Builder).Append(seq)
	}
	return b.NewRecordBatch()
}

// TestManyRuns inserts many small runs, which triggers the size-tiered
// merging, and checks the stream and the statistics.
func TestManyRuns(t *testing.T) {
	for _, dedup := range []bool{true, false} {
		t.Run(fmt.Sprint("dedup=", dedup), func(t *testing.T) {
			m := New(Options{NumKeys: 2, SeqIndex: 2, TimeIndex: 1, Dedup: dedup})
			rng := rand.New(rand.NewPCG(7, 7))
			latest := map[int]uint64{}
			total := 0
			for seq := uint64(1); seq <= 300; seq++ {
				seen := map[int]bool{}
				var keys []int
				for i := rng.IntN(10) + 1; i > 0; i-- {
					k := rng.IntN(500)
					if !seen[k] {
						seen[k] = true
						keys = append(keys, k)
					}
				}
				for _, k := range keys {
					latest[k] = seq
				}
				total += len(keys)
				m.Insert(run(keys, seq), seq)
			}
			st := m.Stats()
			if st.Runs > 3*maxRuns || st.MinSeq != 1 || st.MaxSeq != 300 {
				t.Fatalf("stats %+v", st)
			}
			recs, err := Drain(context.Background(), m.Stream(64))
			if err != nil {
				t.Fatal(err)
			}
			n, prev := 0, int64(-1)
			for _, r := range recs {
				ks := r.Column(0).(*array.Uint64)
				seqs := r.Column(2).(*array.Uint64)
				for i := 0; i < int(r.NumRows()); i++ {
					k := int64(ks.Value(i))
					if k < prev {
						t.Fatalf("keys out of order: %d after %d", k, prev)
					}
					if dedup && k == prev {
						t.Fatalf("duplicate key %d", k)
					}
					if dedup && seqs.Value(i) != latest[int(k)] {
						t.Fatalf("key %d has seq %d, want the latest %d", k, seqs.Value(i), latest[int(k)])
					}
					prev = k
					n++
				}
			}
			want := total
			if dedup {
				want = len(latest)
			}
			if n != want || (!dedup && st.Rows != int64(total)) {
				t.Fatalf("%d rows streamed, want %d (stats %+v)", n, want, st)
			}
		})
	}
}
