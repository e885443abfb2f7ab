package sst

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
)

func testSchema(t testing.TB) *schema.Schema {
	s, err := schema.Build(schema.TableDef{Columns: []schema.ColumnDef{
		{Name: "host", Kind: schema.String, IsTag: true},
		{Name: "v", Kind: schema.Double},
		{Name: "t", Kind: schema.Timestamp, NotNull: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rows builds n rows sorted by (tsid, t): tsid 1..series, t 0..n/series.
func rows(s *schema.Schema, series, perSeries int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, s.InternalArrowSchema())
	defer b.Release()
	for h := 0; h < series; h++ {
		for p := 0; p < perSeries; p++ {
			b.Field(0).(*array.Uint64Builder).Append(uint64(h))
			b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(p * 1000))
			b.Field(2).(*array.StringBuilder).Append("h")
			b.Field(3).(*array.Float64Builder).Append(float64(p))
			b.Field(4).(*array.Uint64Builder).Append(uint64(7))
		}
	}
	return b.NewRecordBatch()
}

func readAll(t *testing.T, s *Stream) (n int64, recs []arrow.RecordBatch) {
	t.Helper()
	defer s.Close()
	for {
		rec, err := s.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return n, recs
		}
		if err != nil {
			t.Fatal(err)
		}
		n += rec.NumRows()
		recs = append(recs, rec)
	}
}

func TestWriteRead(t *testing.T) {
	ctx := context.Background()
	b := objstore.NewMemory()
	s := testSchema(t)
	rec := rows(s, 10, 1000) // t in [0, 999000]
	meta, err := Write(ctx, b, "x.parquet", s, merge.NewRecordStream(rec), WriteOptions{Compression: "ZSTD", RowGroupRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	if meta.Rows != 10000 || meta.MinTime != 0 || meta.MaxTime != 999000 || meta.MinSeq != 7 || meta.MaxSeq != 7 || meta.Size == 0 {
		t.Fatalf("meta = %+v", meta)
	}

	// Full read.
	st, err := Read(ctx, b, "x.parquet", meta.Size, ReadOptions{Schema: s.InternalArrowSchema(), TimeColumn: "t", Range: TimeRange{0, 1 << 62}})
	if err != nil {
		t.Fatal(err)
	}
	n, recs := readAll(t, st)
	if n != 10000 {
		t.Fatalf("read %d rows", n)
	}
	if !recs[0].Schema().Equal(s.InternalArrowSchema()) {
		t.Fatalf("schema %v", recs[0].Schema())
	}

	// Time range and projection, plus a column the file does not have.
	want := arrow.NewSchema([]arrow.Field{
		{Name: "t", Type: schema.TimestampType},
		{Name: "added", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	st, err = Read(ctx, b, "x.parquet", meta.Size, ReadOptions{Schema: want, TimeColumn: "t", Range: TimeRange{100000, 200000}})
	if err != nil {
		t.Fatal(err)
	}
	n, recs = readAll(t, st)
	if n != 10*100 {
		t.Fatalf("range read %d rows, want 1000", n)
	}
	for _, r := range recs {
		if r.NumCols() != 3 || r.Column(1).NullN() != int(r.NumRows()) {
			t.Fatalf("bad projection %v", r.Schema())
		}
		for _, v := range r.Column(0).(*array.Timestamp).TimestampValues() {
			if v < 100000 || v >= 200000 {
				t.Fatalf("row at %d outside range", v)
			}
		}
	}
	// Row groups of 500 rows hold one series' 500 points each: half of each
	// series is pruned.
	if st.RowGroups != 10 || st.TotalRowGroups != 20 {
		t.Errorf("row groups read %d of %d, want 10 of 20", st.RowGroups, st.TotalRowGroups)
	}
}

func TestEmptyWrite(t *testing.T) {
	b := objstore.NewMemory()
	meta, err := Write(context.Background(), b, "e.parquet", testSchema(t), merge.NewRecordStream(), WriteOptions{})
	if err != nil || meta.Rows != 0 {
		t.Fatalf("meta %+v, %v", meta, err)
	}
	if l, _ := b.List(context.Background(), ""); len(l) != 0 {
		t.Fatalf("an empty SST was stored: %v", l)
	}
}
