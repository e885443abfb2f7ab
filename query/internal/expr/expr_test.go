package expr

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func ctx() *Ctx {
	return &Ctx{Mem: memory.DefaultAllocator, Now: time.UnixMilli(0), TimeZone: time.UTC}
}

func oneRow() arrow.RecordBatch { return array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1) }

func TestTimeBucket(t *testing.T) {
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	for _, tc := range []struct {
		period, zone string
		in, want     string
	}{
		{"PT1M", "", "2022-07-02T16:00:59Z", "2022-07-02T16:00:00Z"},
		{"PT15M", "", "2022-07-02T16:29:59Z", "2022-07-02T16:15:00Z"},
		{"PT2H", "", "2022-07-02T17:30:00Z", "2022-07-02T16:00:00Z"},
		{"PT1S", "", "1969-12-31T23:59:59.500Z", "1969-12-31T23:59:59Z"}, // floors before 1970 too
		{"P1D", "", "2022-07-02T16:00:00Z", "2022-07-02T00:00:00Z"},
		{"P1D", "+08:00", "2022-07-02T16:00:00Z", "2022-07-02T16:00:00Z"}, // midnight of July 3rd in +08:00
		{"P1D", "Asia/Shanghai", "2022-07-02T15:59:59Z", "2022-07-01T16:00:00Z"},
		{"P1W", "", "2022-07-03T10:00:00Z", "2022-06-27T00:00:00Z"}, // Sunday -> the Monday before
		{"P1W", "+08:00", "2022-07-02T16:00:00Z", "2022-06-26T16:00:00Z"},
		{"P1M", "", "2022-07-31T23:00:00Z", "2022-07-01T00:00:00Z"},
		{"P3M", "", "2022-08-15T00:00:00Z", "2022-07-01T00:00:00Z"},
		{"P1Y", "", "2022-07-31T23:00:00Z", "2022-01-01T00:00:00Z"},
	} {
		args := []Expr{&Literal{Val: Timestamp(ms(tc.in))}, &Literal{Val: String(tc.period)}}
		if tc.zone != "" {
			args = append(args, &Literal{Val: String("")}, &Literal{Val: String(tc.zone)})
		}
		f, err := NewFunc("time_bucket", args, ctx())
		if err != nil {
			t.Fatal(err)
		}
		arr, err := f.Eval(ctx(), oneRow())
		if err != nil {
			t.Fatal(err)
		}
		got := int64(arr.(*array.Timestamp).Value(0))
		if want := ms(tc.want); got != want {
			t.Errorf("time_bucket(%s, %s, %s) = %s, want %s", tc.in, tc.period, tc.zone,
				time.UnixMilli(got).UTC().Format(time.RFC3339), tc.want)
		}
	}
	for _, bad := range []string{"PT0S", "P2W", "PX", "1h", "PT1D"} {
		if _, err := NewFunc("time_bucket", []Expr{&Literal{Val: Timestamp(0)}, &Literal{Val: String(bad)}}, ctx()); err == nil {
			t.Errorf("period %q accepted", bad)
		}
	}
}

func TestCast(t *testing.T) {
	for _, tc := range []struct {
		in   Scalar
		to   arrow.DataType
		want string // Display of the result, or "error: ..."
	}{
		{Int64(5), arrow.PrimitiveTypes.Uint8, "UInt8(5)"},
		{Int64(300), arrow.PrimitiveTypes.Uint8, "error: out of range"},
		{Int64(-1), arrow.PrimitiveTypes.Uint64, "error: out of range"},
		{UInt64(1 << 63), arrow.PrimitiveTypes.Int64, "error: cannot convert"},
		{Float64(1.5), arrow.PrimitiveTypes.Int32, "error: cannot convert"},
		{Float64(2), arrow.PrimitiveTypes.Int32, "Int32(2)"},
		{String("12"), arrow.PrimitiveTypes.Int16, "Int16(12)"},
		{String("x"), arrow.PrimitiveTypes.Float64, "error: cannot convert"},
		{String("2024-01-02T03:04:05Z"), TimestampType, "TimestampMillisecond(1704164645000, None)"},
		{String("2024-01-02"), TimestampType, "TimestampMillisecond(1704153600000, None)"},
		{String("true"), arrow.FixedWidthTypes.Boolean, "Boolean(true)"},
		{Int64(7), arrow.BinaryTypes.String, `Utf8("7")`},
		{Null(), arrow.PrimitiveTypes.Int64, "Int64(NULL)"},
	} {
		got, err := tc.in.Cast(tc.to, time.UTC)
		var s string
		if err != nil {
			s = "error: " + err.Error()
		} else {
			s = got.Display()
		}
		if !strings.HasPrefix(s, tc.want) && !(strings.HasPrefix(tc.want, "error: ") && strings.Contains(s, strings.TrimPrefix(tc.want, "error: "))) {
			t.Errorf("Cast(%s, %s) = %s, want %s", tc.in.Display(), tc.to, s, tc.want)
		}
	}
}

// TestThreeValuedLogic checks AND, OR and NOT with NULLs.
func TestThreeValuedLogic(t *testing.T) {
	vals := []Scalar{Bool(true), Bool(false), NullOf(arrow.FixedWidthTypes.Boolean)}
	name := func(a arrow.Array) string {
		if a.IsNull(0) {
			return "N"
		}
		return fmt.Sprint(a.(*array.Boolean).Value(0))[:1]
	}
	var got []string
	for _, a := range vals {
		for _, b := range vals {
			for _, op := range []Op{OpAnd, OpOr} {
				e, err := NewBinary(op, &Literal{Val: a}, &Literal{Val: b})
				if err != nil {
					t.Fatal(err)
				}
				r, err := e.Eval(ctx(), oneRow())
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, name(r))
			}
		}
	}
	// Pairs (AND, OR) for (t,t) (t,f) (t,N) (f,t) (f,f) (f,N) (N,t) (N,f) (N,N).
	if want := "t t f t N t f t f f f N N t f N N N"; strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestMixedSignCompare(t *testing.T) {
	e, err := NewBinary(OpLt, &Literal{Val: Int64(-1)}, &Literal{Val: UInt64(1 << 63)})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.Eval(ctx(), oneRow())
	if !r.(*array.Boolean).Value(0) {
		t.Error("-1 < 2^63 is false")
	}
}
