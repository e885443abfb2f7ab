package grpcapi

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// EncodeWrite then WriteTables gives the tables back: every kind the
// storage API carries, nulls left out, several rows and tables.
func TestEncodeWriteRoundTrip(t *testing.T) {
	every := []query.Value{
		{Kind: schema.Double, F: -1.5}, {Kind: schema.Float, F: 2.5}, {Kind: schema.String, S: "s'x"},
		{Kind: schema.Int64, I: math.MinInt64}, {Kind: schema.Int32, I: math.MinInt32}, {Kind: schema.Int16, I: -16},
		{Kind: schema.Int8, I: -8}, {Kind: schema.Boolean, B: true}, {Kind: schema.UInt64, U: math.MaxUint64},
		{Kind: schema.UInt32, U: math.MaxUint32}, {Kind: schema.UInt16, U: 16}, {Kind: schema.UInt8, U: 255},
		{Kind: schema.Timestamp, I: 1700000000000}, {Kind: schema.Varbinary, Bytes: []byte{0, 1, 0xff}},
	}
	fieldNames := make([]string, len(every))
	fields := make([]query.Cell, len(every))
	for i, v := range every {
		fieldNames[i] = string(rune('a' + i))
		fields[i] = query.Cell{Index: uint32(i), Value: v}
	}
	in := []query.WriteTable{
		{Table: "every", Tags: []string{"host", "region"}, Fields: fieldNames, Rows: []query.WriteRow{
			{Timestamp: 1, Tags: []query.Cell{{Index: 0, Value: query.Value{Kind: schema.String, S: "h1"}}}, Fields: fields},
			{Timestamp: 2, Tags: []query.Cell{{Index: 1, Value: query.Value{Kind: schema.String, S: "eu"}}},
				Fields: []query.Cell{{Index: 3, Value: query.Value{Kind: schema.Int64, I: 7}}}},
		}},
		{Table: "other", Fields: []string{"v"}, Rows: []query.WriteRow{{Timestamp: 3, Tags: []query.Cell{},
			Fields: []query.Cell{{Index: 0, Value: query.Value{Kind: schema.Double, F: 1}}}}}},
	}
	req, err := EncodeWrite("db", in)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.GetContext().GetDatabase(); got != "db" {
		t.Errorf("database %q", got)
	}
	out, rows, err := WriteTables(req)
	if err != nil || rows != 3 {
		t.Fatalf("WriteTables: %d rows, %v", rows, err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

func TestEncodeWriteRefusesDate(t *testing.T) {
	_, err := EncodeWrite("db", []query.WriteTable{{Table: "t", Fields: []string{"d"}, Rows: []query.WriteRow{
		{Fields: []query.Cell{{Index: 0, Value: query.Value{Kind: schema.Date, I: 3}}}}}}})
	if !errors.Is(err, ErrBadRequest) {
		t.Errorf("a Date value: %v, want ErrBadRequest", err)
	}
}
