package sst

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine/internal/merge"
	"github.com/horaego/horaedb/objstore"
)

// record builds rows of testSchema (tsid, t, host, v, __seq) from hosts and
// values; a NaN value is null.
func record(hosts []string, values []float64) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema(nil).InternalArrowSchema())
	defer b.Release()
	for i := range hosts {
		b.Field(0).(*array.Uint64Builder).Append(uint64(i / 100))
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(i))
		b.Field(2).(*array.StringBuilder).Append(hosts[i])
		if math.IsNaN(values[i]) {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.Float64Builder).Append(values[i])
		}
		b.Field(4).(*array.Uint64Builder).Append(1)
	}
	return b.NewRecordBatch()
}

func readBack(t *testing.T, b objstore.Bucket, meta Meta, filters ...Filter) ([]string, []float64, *Stream) {
	t.Helper()
	s := testSchema(t)
	st, err := Read(context.Background(), b, "f.parquet", meta.Size, ReadOptions{Schema: s.InternalArrowSchema(),
		TimeColumn: "t", Range: TimeRange{0, 1 << 62}, Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	_, recs := readAll(t, st)
	var hosts []string
	var vals []float64
	for _, r := range recs {
		if !r.Schema().Equal(s.InternalArrowSchema()) {
			t.Fatalf("read schema %v", r.Schema())
		}
		h, v := r.Column(2).(*array.String), r.Column(3).(*array.Float64)
		for i := 0; i < int(r.NumRows()); i++ {
			hosts = append(hosts, h.Value(i))
			if v.IsNull(i) {
				vals = append(vals, math.NaN())
			} else {
				vals = append(vals, v.Value(i))
			}
		}
		r.Release()
	}
	return hosts, vals, st
}

func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
	})
}

func TestIntegralDoublesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		values   []float64
		integral bool
	}{
		{"integers and nulls", []float64{0, 1, -1, 100, math.NaN(), 1 << 53, -(1 << 53), 42}, true},
		{"a fraction", []float64{1, 2, 2.5}, false},
		{"negative zero", []float64{1, math.Copysign(0, -1)}, false},
		{"beyond 2^53", []float64{1, 1 << 54}, false},
		{"infinity", []float64{1, math.Inf(1)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSchema(t)
			hosts := make([]string, len(tc.values))
			for i := range hosts {
				hosts[i] = "h"
			}
			rec := record(hosts, tc.values)
			integral := IntegralColumns(s, []arrow.RecordBatch{rec})
			if integral["v"] != tc.integral {
				t.Fatalf("IntegralColumns = %v, want v integral %v", integral, tc.integral)
			}
			b := objstore.NewMemory()
			meta, err := Write(context.Background(), b, "f.parquet", s, merge.NewRecordStream(rec),
				WriteOptions{RowGroupRows: 3, Integral: integral})
			if err != nil {
				t.Fatal(err)
			}
			if meta.Format != FormatVersion || slices.Contains(meta.Float, "v") == tc.integral {
				t.Fatalf("meta %+v", meta)
			}
			_, got, _ := readBack(t, b, meta)
			if !sameFloats(got, tc.values) {
				t.Fatalf("read %v, want %v", got, tc.values)
			}
		})
	}
}

func TestIntegralRefusesFractions(t *testing.T) {
	s := testSchema(t)
	rec := record([]string{"a", "b"}, []float64{1, 1.5})
	_, err := Write(context.Background(), objstore.NewMemory(), "f.parquet", s, merge.NewRecordStream(rec),
		WriteOptions{Integral: map[string]bool{"v": true}})
	if err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Fatalf("writing 1.5 as an integer: %v", err)
	}
}

func TestIntegralAfterMerge(t *testing.T) {
	s := testSchema(t)
	v1 := Meta{Format: 1}
	if got := IntegralAfterMerge(s, []Meta{v1, v1}); !got["v"] {
		t.Errorf("two integral inputs: %v", got)
	}
	if got := IntegralAfterMerge(s, []Meta{v1, {Format: 1, Float: []string{"v"}}}); got["v"] {
		t.Errorf("one float input: %v", got)
	}
	if got := IntegralAfterMerge(s, []Meta{v1, {}}); got["v"] {
		t.Errorf("a format 0 input: %v", got)
	}
}

func TestPruneIntegralColumnWithFloatFilter(t *testing.T) {
	s := testSchema(t)
	vals := make([]float64, 300) // row groups of 100: 0..99, 100..199, 200..299
	hosts := make([]string, 300)
	for i := range vals {
		vals[i], hosts[i] = float64(i), "h"
	}
	rec := record(hosts, vals)
	b := objstore.NewMemory()
	meta, err := Write(context.Background(), b, "f.parquet", s, merge.NewRecordStream(rec),
		WriteOptions{RowGroupRows: 100, Integral: IntegralColumns(s, []arrow.RecordBatch{rec})})
	if err != nil {
		t.Fatal(err)
	}
	_, got, st := readBack(t, b, meta, Filter{Column: "v", Op: Gt, Values: []any{150.5}})
	if st.RowGroups != 2 || len(got) != 200 || got[0] != 100 {
		t.Fatalf("v > 150.5: %d of %d row groups, %d rows", st.RowGroups, st.TotalRowGroups, len(got))
	}
}

func TestTagFiltersPrune(t *testing.T) {
	s := testSchema(t)
	// Row groups of 100 rows: group g holds hosts "a<g>" and "c<g>", so
	// "b<g>" is within every group's min/max but in none.
	var hosts []string
	var vals []float64
	for g := 0; g < 5; g++ {
		for i := 0; i < 100; i++ {
			hosts = append(hosts, []string{fmt.Sprintf("a%d", g), fmt.Sprintf("c%d", g)}[i%2])
			vals = append(vals, float64(i))
		}
	}
	rec := record(hosts, vals)
	b := objstore.NewMemory()
	meta, err := Write(context.Background(), b, "f.parquet", s, merge.NewRecordStream(rec), WriteOptions{RowGroupRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f      Filter
		groups int
	}{
		{Filter{Column: "host", Op: Eq, Values: []any{"b0"}}, 0},
		{Filter{Column: "host", Op: Eq, Values: []any{"a3"}}, 1},
		{Filter{Column: "host", Op: In, Values: []any{"b1", "c2", "a4"}}, 2},
		{Filter{Column: "host", Op: Gt, Values: []any{"b"}}, 5}, // not an equality: no filter
	} {
		_, _, st := readBack(t, b, meta, tc.f)
		if st.RowGroups != tc.groups {
			t.Errorf("%+v: %d row groups read, want %d", tc.f, st.RowGroups, tc.groups)
		}
	}
}

// TestTagFiltersNoFalseNegatives checks that every value written to a row
// group passes its filter, over random row groups of 1 to 3000 distinct
// values, and that the false positive rate is near the design's 1%.
func TestTagFiltersNoFalseNegatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var falsePos, probes int
	for round := 0; round < 20; round++ {
		distinct := 1 + rng.IntN(3000)
		rows := distinct * 2
		fb := newFilterBuilder([]int{2}, []string{"host"}, rows)
		hosts := make([]string, rows)
		for i := range hosts {
			hosts[i] = fmt.Sprintf("r%d-h%d", round, rng.IntN(distinct))
		}
		rec := record(hosts, make([]float64, rows))
		fb.add(rec)
		rec.Release()
		enc, err := fb.encode(1)
		if err != nil {
			t.Fatal(err)
		}
		f, err := decodeTagFilters(enc, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hosts {
			if !f.mayContain("host", 0, []any{h}) {
				t.Fatalf("round %d: %q was written but the filter rules it out", round, h)
			}
		}
		for i := 0; i < 1000; i++ {
			probes++
			if f.mayContain("host", 0, []any{fmt.Sprintf("absent-%d-%d", round, i)}) {
				falsePos++
			}
		}
	}
	if rate := float64(falsePos) / float64(probes); rate > 0.03 {
		t.Errorf("false positive rate %.3f, want about 0.01", rate)
	}
}

func FuzzDecodeTagFilters(f *testing.F) {
	fb := newFilterBuilder([]int{2}, []string{"host"}, 2)
	rec := record([]string{"a", "b", "c"}, []float64{1, 2, 3})
	fb.add(rec)
	enc, _ := fb.encode(2)
	f.Add(enc, 2)
	f.Add("", 0)
	f.Add("AQA=", 0)
	f.Fuzz(func(t *testing.T, v string, groups int) {
		if groups < 0 || groups > 1000 {
			return
		}
		tf, err := decodeTagFilters(v, groups)
		if err != nil {
			return
		}
		for col := range tf {
			for g := 0; g < groups; g++ {
				tf.mayContain(col, g, []any{"x"})
			}
		}
	})
}
