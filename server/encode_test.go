package server

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// oneColumn builds a record of one column "c" of type dt, filled by fill.
func oneColumn(t *testing.T, mem memory.Allocator, dt arrow.DataType, fill func(b array.Builder)) arrow.RecordBatch {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "c", Type: dt, Nullable: true}}, nil)
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	fill(rb.Field(0))
	return rb.NewRecordBatch()
}

// encode runs writeRows and checks the output is valid JSON.
func encode(t *testing.T, recs ...arrow.RecordBatch) string {
	t.Helper()
	var buf bytes.Buffer
	if err := writeRows(&buf, recs); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("invalid JSON: %s", buf.String())
	}
	return buf.String()
}

func TestWriteRowsTypes(t *testing.T) {
	ms := func(u arrow.TimeUnit) arrow.DataType { return &arrow.TimestampType{Unit: u} }
	cases := []struct {
		name string
		dt   arrow.DataType
		fill func(b array.Builder)
		want string // the values of column c, comma-separated
	}{
		{"int8", arrow.PrimitiveTypes.Int8, func(b array.Builder) {
			b.(*array.Int8Builder).AppendValues([]int8{math.MinInt8, 0, math.MaxInt8}, nil)
			b.AppendNull()
		}, `-128,0,127,null`},
		{"int16", arrow.PrimitiveTypes.Int16, func(b array.Builder) {
			b.(*array.Int16Builder).AppendValues([]int16{math.MinInt16, math.MaxInt16}, nil)
		}, `-32768,32767`},
		{"int32", arrow.PrimitiveTypes.Int32, func(b array.Builder) {
			b.(*array.Int32Builder).AppendValues([]int32{math.MinInt32, math.MaxInt32}, nil)
		}, `-2147483648,2147483647`},
		{"int64", arrow.PrimitiveTypes.Int64, func(b array.Builder) {
			b.(*array.Int64Builder).AppendValues([]int64{math.MinInt64, -1, math.MaxInt64}, nil)
		}, `-9223372036854775808,-1,9223372036854775807`},
		{"uint8", arrow.PrimitiveTypes.Uint8, func(b array.Builder) {
			b.(*array.Uint8Builder).AppendValues([]uint8{0, math.MaxUint8}, nil)
		}, `0,255`},
		{"uint16", arrow.PrimitiveTypes.Uint16, func(b array.Builder) {
			b.(*array.Uint16Builder).AppendValues([]uint16{math.MaxUint16}, nil)
		}, `65535`},
		{"uint32", arrow.PrimitiveTypes.Uint32, func(b array.Builder) {
			b.(*array.Uint32Builder).AppendValues([]uint32{math.MaxUint32}, nil)
		}, `4294967295`},
		{"uint64 exact", arrow.PrimitiveTypes.Uint64, func(b array.Builder) {
			b.(*array.Uint64Builder).AppendValues([]uint64{math.MaxUint64, 1<<53 + 1}, nil)
			b.AppendNull()
		}, `18446744073709551615,9007199254740993,null`},
		{"float16", arrow.FixedWidthTypes.Float16, func(b array.Builder) {
			b.(*array.Float16Builder).Append(float16.New(1.5))
		}, `1.5`},
		{"float32", arrow.PrimitiveTypes.Float32, func(b array.Builder) {
			b.(*array.Float32Builder).AppendValues([]float32{1, 0.1, -2.5, float32(math.NaN()), float32(math.Inf(1))}, nil)
			b.AppendNull()
		}, `1.0,0.1,-2.5,null,null,null`},
		{"float64", arrow.PrimitiveTypes.Float64, func(b array.Builder) {
			b.(*array.Float64Builder).AppendValues([]float64{1, 0.1, -2.5e-7, 1e21, 123.456,
				math.NaN(), math.Inf(1), math.Inf(-1)}, nil)
		}, `1.0,0.1,-2.5e-7,1e21,123.456,null,null,null`},
		{"string", arrow.BinaryTypes.String, func(b array.Builder) {
			b.(*array.StringBuilder).AppendValues([]string{"plain", "q\"b\\s/\n\t\r\x01\x1f", "héllo 世界", "", "<&>"}, nil)
			b.AppendNull()
		}, `"plain","q\"b\\s/\n\t\r\u0001\u001f","héllo 世界","","<&>",null`},
		{"string invalid utf8", arrow.BinaryTypes.String, func(b array.Builder) {
			b.(*array.StringBuilder).Append("a\xffb")
		}, `"a` + "\ufffd" + `b"`},
		{"large string", arrow.BinaryTypes.LargeString, func(b array.Builder) {
			b.(*array.LargeStringBuilder).Append("big")
		}, `"big"`},
		{"string view", arrow.BinaryTypes.StringView, func(b array.Builder) {
			b.(*array.StringViewBuilder).Append("a view longer than twelve bytes")
		}, `"a view longer than twelve bytes"`},
		{"binary", arrow.BinaryTypes.Binary, func(b array.Builder) {
			b.(*array.BinaryBuilder).AppendValues([][]byte{{1, 0, 255}, {}}, nil)
			b.AppendNull()
		}, `[1,0,255],[],null`},
		{"large binary", arrow.BinaryTypes.LargeBinary, func(b array.Builder) {
			b.(*array.BinaryBuilder).Append([]byte("A"))
		}, `[65]`},
		{"binary view", arrow.BinaryTypes.BinaryView, func(b array.Builder) {
			b.(*array.BinaryViewBuilder).Append([]byte{7, 8})
		}, `[7,8]`},
		{"fixed size binary", &arrow.FixedSizeBinaryType{ByteWidth: 2}, func(b array.Builder) {
			b.(*array.FixedSizeBinaryBuilder).Append([]byte{9, 10})
		}, `[9,10]`},
		{"bool", arrow.FixedWidthTypes.Boolean, func(b array.Builder) {
			b.(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
			b.AppendNull()
		}, `true,false,null`},
		{"timestamp ms", ms(arrow.Millisecond), func(b array.Builder) {
			b.(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1700000000123, 0, -1}, nil)
			b.AppendNull()
		}, `1700000000123,0,-1,null`},
		{"timestamp s", ms(arrow.Second), func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(1700000000)
		}, `1700000000000`},
		{"timestamp us", ms(arrow.Microsecond), func(b array.Builder) {
			b.(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1700000000123456, -1}, nil)
		}, `1700000000123,-1`},
		{"timestamp ns with zone", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Asia/Shanghai"}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(1700000000123456789)
		}, `1700000000123`},
		{"date32", arrow.FixedWidthTypes.Date32, func(b array.Builder) {
			b.(*array.Date32Builder).AppendValues([]arrow.Date32{0, 19723, -1}, nil)
			b.AppendNull()
		}, `"1970-01-01","2024-01-01","1969-12-31",null`},
		{"date64", arrow.FixedWidthTypes.Date64, func(b array.Builder) {
			b.(*array.Date64Builder).Append(arrow.Date64(19723 * 86400000))
		}, `"2024-01-01"`},
		{"time64 ns", arrow.FixedWidthTypes.Time64ns, func(b array.Builder) {
			b.(*array.Time64Builder).AppendValues([]arrow.Time64{0, 3723_004_000_000, 3723_000_005_000,
				3723_000_000_007, 90000_000_000_000, -1_500_000_000}, nil)
			b.AppendNull()
		}, `"00:00:00","01:02:03.004","01:02:03.000005","01:02:03.000000007","25:00:00","-00:00:01.500",null`},
		{"time64 us", arrow.FixedWidthTypes.Time64us, func(b array.Builder) {
			b.(*array.Time64Builder).Append(45296_000_001)
		}, `"12:34:56.000001"`},
		{"time32 ms", arrow.FixedWidthTypes.Time32ms, func(b array.Builder) {
			b.(*array.Time32Builder).Append(45296_789)
		}, `"12:34:56.789"`},
		{"time32 s", arrow.FixedWidthTypes.Time32s, func(b array.Builder) {
			b.(*array.Time32Builder).Append(86399)
		}, `"23:59:59"`},
		{"dictionary string", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, func(b array.Builder) {
			db := b.(*array.BinaryDictionaryBuilder)
			for _, s := range []string{"host-a", "host-b", "host-a"} {
				if err := db.AppendString(s); err != nil {
					panic(err)
				}
			}
			db.AppendNull()
		}, `"host-a","host-b","host-a",null`},
		{"null type", arrow.Null, func(b array.Builder) {
			b.AppendNull()
			b.AppendNull()
		}, `null,null`},
		{"fallback list", arrow.ListOf(arrow.PrimitiveTypes.Int64), func(b array.Builder) {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
		}, `[1,2]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rec := oneColumn(t, mem, c.dt, c.fill)
			defer rec.Release()
			want := `{"rows":[`
			var vals []json.RawMessage
			if err := json.Unmarshal([]byte("["+c.want+"]"), &vals); err != nil {
				t.Fatalf("bad test case %q: %v", c.want, err)
			}
			for i, v := range vals {
				if i > 0 {
					want += ","
				}
				want += `{"c":` + string(v) + `}`
			}
			want += `]}`
			if got := encode(t, rec); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestWriteRowsColumnOrder checks that keys keep the result's column order
// (not sorted), rows of several records are concatenated, and empty results
// are {"rows":[]}.
func TestWriteRowsColumnOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "zeta", Type: arrow.PrimitiveTypes.Int64},
		{Name: "alpha", Type: arrow.BinaryTypes.String},
		{Name: `we"ird`, Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
	}, nil)
	build := func(start int64, n int) arrow.RecordBatch {
		rb := array.NewRecordBuilder(mem, schema)
		defer rb.Release()
		for i := range int64(n) {
			rb.Field(0).(*array.Int64Builder).Append(start + i)
			rb.Field(1).(*array.StringBuilder).Append("s")
			rb.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(1000 + start + i))
		}
		return rb.NewRecordBatch()
	}
	r1, r2, empty := build(0, 2), build(10, 1), build(0, 0)
	defer r1.Release()
	defer r2.Release()
	defer empty.Release()

	want := `{"rows":[{"zeta":0,"alpha":"s","we\"ird":1000},{"zeta":1,"alpha":"s","we\"ird":1001},` +
		`{"zeta":10,"alpha":"s","we\"ird":1010}]}`
	if got := encode(t, r1, empty, r2); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, recs := range [][]arrow.RecordBatch{nil, {empty}} {
		if got := encode(t, recs...); got != `{"rows":[]}` {
			t.Errorf("empty result: got %s", got)
		}
	}
}

// TestWriteRowsStreams checks that a large result reaches the writer in
// pieces rather than as one body built in memory.
func TestWriteRowsStreams(t *testing.T) {
	mem := memory.NewGoAllocator()
	rec := oneColumn(t, mem, arrow.BinaryTypes.String, func(b array.Builder) {
		for range 10000 {
			b.(*array.StringBuilder).Append("0123456789abcdef0123456789abcdef")
		}
	})
	defer rec.Release()
	cw := &countingWriter{}
	if err := writeRows(cw, []arrow.RecordBatch{rec}); err != nil {
		t.Fatal(err)
	}
	if cw.writes < 5 || cw.max > rowsBufferSize {
		t.Errorf("%d writes of at most %d bytes for %d bytes; want pieces of at most %d", cw.writes, cw.max, cw.n, rowsBufferSize)
	}
}

type countingWriter struct {
	writes, max, n int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.writes++
	c.n += len(b)
	c.max = max(c.max, len(b))
	return len(b), nil
}
