package grpcapi

import (
	"errors"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/horaego/horaedb/proto/storagepb"
)

// point is one row to write: its tags (strings, as the SDKs send them) and
// fields; a nil field value is a null (an unset oneof).
type point struct {
	ts     int64
	tags   map[string]string
	fields map[string]*storagepb.Value
}

// writeRequest builds a request for one table, one entry per point, with
// the names in sorted order.
func writeRequest(table string, pts ...point) *storagepb.WriteRequest {
	tr := &storagepb.WriteTableRequest{Table: table}
	tagIdx, fieldIdx := map[string]uint32{}, map[string]uint32{}
	index := func(names *[]string, idx map[string]uint32, keys []string) {
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := idx[k]; !ok {
				idx[k] = uint32(len(*names))
				*names = append(*names, k)
			}
		}
	}
	for _, p := range pts {
		var tk, fk []string
		for k := range p.tags {
			tk = append(tk, k)
		}
		for k := range p.fields {
			fk = append(fk, k)
		}
		index(&tr.TagNames, tagIdx, tk)
		index(&tr.FieldNames, fieldIdx, fk)
		e := &storagepb.WriteSeriesEntry{}
		for _, k := range tr.TagNames {
			if v, ok := p.tags[k]; ok {
				e.Tags = append(e.Tags, &storagepb.Tag{NameIndex: tagIdx[k], Value: str(v)})
			}
		}
		fg := &storagepb.FieldGroup{Timestamp: p.ts}
		for _, k := range tr.FieldNames {
			if v, ok := p.fields[k]; ok {
				fg.Fields = append(fg.Fields, &storagepb.Field{NameIndex: fieldIdx[k], Value: v})
			}
		}
		e.FieldGroups = []*storagepb.FieldGroup{fg}
		tr.Entries = append(tr.Entries, e)
	}
	return &storagepb.WriteRequest{TableRequests: []*storagepb.WriteTableRequest{tr}}
}

func f64(v float64) *storagepb.Value {
	return &storagepb.Value{Value: &storagepb.Value_Float64Value{Float64Value: v}}
}

func str(v string) *storagepb.Value {
	return &storagepb.Value{Value: &storagepb.Value_StringValue{StringValue: v}}
}

// everyType has a field of each Value case.
func everyType() map[string]*storagepb.Value {
	return map[string]*storagepb.Value{
		"f64":   f64(1.5),
		"s":     str("it's"),
		"i64":   {Value: &storagepb.Value_Int64Value{Int64Value: math.MinInt64}},
		"f32":   {Value: &storagepb.Value_Float32Value{Float32Value: 2.5}},
		"i32":   {Value: &storagepb.Value_Int32Value{Int32Value: -32}},
		"i16":   {Value: &storagepb.Value_Int16Value{Int16Value: -16}},
		"i8":    {Value: &storagepb.Value_Int8Value{Int8Value: -8}},
		"b":     {Value: &storagepb.Value_BoolValue{BoolValue: true}},
		"u64":   {Value: &storagepb.Value_Uint64Value{Uint64Value: math.MaxUint64}},
		"u32":   {Value: &storagepb.Value_Uint32Value{Uint32Value: 32}},
		"u16":   {Value: &storagepb.Value_Uint16Value{Uint16Value: 16}},
		"u8":    {Value: &storagepb.Value_Uint8Value{Uint8Value: 255}},
		"ts":    {Value: &storagepb.Value_TimestampValue{TimestampValue: nowMs - 1}},
		"bytes": {Value: &storagepb.Value_VarbinaryValue{VarbinaryValue: []byte{0, 1, 2}}},
	}
}

func TestWriteEveryType(t *testing.T) {
	v := newTestEnv(t, nil)
	resp, err := v.client.Write(testCtx(t), writeRequest("types", point{ts: nowMs, tags: map[string]string{"host": "a"}, fields: everyType()}))
	if err != nil || resp.GetHeader().GetCode() != 200 || resp.GetSuccess() != 1 || resp.GetFailed() != 0 {
		t.Fatalf("Write: %v %v", resp, err)
	}
	want := "tsid,uint64,true,false,false,false\n" +
		"timestamp,timestamp,true,false,false,false\n" +
		"host,string,false,true,true,false\n" +
		"b,boolean,false,true,false,false\n" +
		"bytes,varbinary,false,true,false,false\n" +
		"f32,float,false,true,false,false\n" +
		"f64,double,false,true,false,false\n" +
		"i16,smallint,false,true,false,false\n" +
		"i32,int,false,true,false,false\n" +
		"i64,bigint,false,true,false,false\n" +
		"i8,tinyint,false,true,false,false\n" +
		"s,string,false,true,false,false\n" +
		"ts,timestamp,false,true,false,false\n" +
		"u16,uint16,false,true,false,false\n" +
		"u32,uint32,false,true,false,false\n" +
		"u64,uint64,false,true,false,false\n" +
		"u8,uint8,false,true,false,false\n"
	if got := v.rows("DESCRIBE TABLE types"); got != want {
		t.Errorf("the created table:\n%s\nwant:\n%s", got, want)
	}
	got := v.rows("SELECT host, b, bytes, f32, f64, i16, i32, i64, i8, s, ts, u16, u32, u64, u8 FROM types")
	if want := "a,true,AAEC,2.5,1.5,-16,-32,-9223372036854775808,-8,it's,2023-11-14T22:13:19.999,16,32,18446744073709551615,255\n"; got != want {
		t.Errorf("rows:\n%s\nwant:\n%s", got, want)
	}
}

// TestWriteAddsColumns checks that a later write adds its new tags and
// fields, and that unset values are nulls.
func TestWriteAddsColumns(t *testing.T) {
	v := newTestEnv(t, func(o *Options) { o.TimestampColumn = "time" })
	w := func(p point) {
		t.Helper()
		resp, err := v.client.Write(testCtx(t), writeRequest("grow", p))
		if err != nil || resp.GetHeader().GetCode() != 200 || resp.GetSuccess() != 1 {
			t.Fatalf("Write: %v %v", resp, err)
		}
	}
	w(point{ts: nowMs, tags: map[string]string{"host": "a"}, fields: map[string]*storagepb.Value{"v": f64(1)}})
	w(point{ts: nowMs + 1, tags: map[string]string{"host": "b", "dc": "x"}, fields: map[string]*storagepb.Value{"v": f64(2), "w": str("new")}})
	w(point{ts: nowMs + 2, tags: map[string]string{"host": "c"}, fields: map[string]*storagepb.Value{"v": nil, "w": str("no v")}})
	if got, want := v.rows("SELECT time, host, dc, v, w FROM grow ORDER BY time"),
		"2023-11-14T22:13:20,a,(null),1,(null)\n"+
			"2023-11-14T22:13:20.001,b,x,2,new\n"+
			"2023-11-14T22:13:20.002,c,(null),(null),no v\n"; got != want {
		t.Errorf("rows:\n%s\nwant:\n%s", got, want)
	}
}

// TestWriteErrors checks that bad requests answer 400 with a message that
// names the problem, count every row as failed, and write no row, not even
// to the good tables of the same request.
func TestWriteErrors(t *testing.T) {
	v := newTestEnv(t, nil)
	resp, err := v.client.Write(testCtx(t), writeRequest("typed", point{ts: nowMs, tags: map[string]string{"h": "a"},
		fields: map[string]*storagepb.Value{"v": f64(1)}}))
	if err != nil || resp.GetHeader().GetCode() != 200 {
		t.Fatalf("Write: %v %v", resp, err)
	}
	good := writeRequest("other", point{ts: nowMs, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": f64(1)}})
	withGood := func(r *storagepb.WriteRequest) *storagepb.WriteRequest {
		r.TableRequests = append(good.TableRequests, r.TableRequests...)
		return r
	}
	for _, tc := range []struct {
		name string
		req  *storagepb.WriteRequest
		want string
	}{
		{"type mismatch", withGood(writeRequest("typed",
			point{ts: nowMs + 1, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": f64(2)}},
			point{ts: nowMs + 2, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": str("x")}}),
		), "column v"},
		{"tag index out of range", func() *storagepb.WriteRequest {
			r := withGood(writeRequest("typed", point{ts: nowMs, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": f64(1)}}))
			r.TableRequests[1].Entries[0].Tags[0].NameIndex = 5
			return r
		}(), "tag name_index 5 is out of range"},
		{"field index out of range", func() *storagepb.WriteRequest {
			r := withGood(writeRequest("typed", point{ts: nowMs, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": f64(1)}}))
			r.TableRequests[1].Entries[0].FieldGroups[0].Fields[0].NameIndex = 1
			return r
		}(), "field name_index 1 is out of range"},
		{"int16 out of range", withGood(writeRequest("typed", point{ts: nowMs, tags: map[string]string{"h": "a"},
			fields: map[string]*storagepb.Value{"small": {Value: &storagepb.Value_Int16Value{Int16Value: 40000}}}})), "out of range"},
		{"reserved tag", withGood(writeRequest("typed", point{ts: nowMs, tags: map[string]string{"tsid": "a"},
			fields: map[string]*storagepb.Value{"v": f64(1)}})), "reserved"},
		{"empty table name", withGood(writeRequest("", point{ts: nowMs, tags: map[string]string{"h": "a"},
			fields: map[string]*storagepb.Value{"v": f64(1)}})), "table name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := v.client.Write(testCtx(t), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			rows := uint32(countRows(tc.req))
			if h := resp.GetHeader(); h.GetCode() != 400 || !strings.Contains(h.GetError(), tc.want) ||
				resp.GetSuccess() != 0 || resp.GetFailed() != rows {
				t.Errorf("got %v; want 400 naming %q, failed %d", resp, tc.want, rows)
			}
		})
	}
	if got := v.count("typed"); got != "1\n" {
		t.Errorf("rows of typed: %q", got)
	}
	// The good table of the failed requests was created (query.Executor
	// creates tables before it converts rows) but holds no row.
	if got := v.count("other"); got != "0\n" {
		t.Errorf("rows of the good table of failed requests: %q", got)
	}
}

func TestStreamWrite(t *testing.T) {
	v := newTestEnv(t, nil)
	p := func(ts int64, val *storagepb.Value) *storagepb.WriteRequest {
		return writeRequest("sw", point{ts: ts, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": val}},
			point{ts: ts + 1, tags: map[string]string{"h": "b"}, fields: map[string]*storagepb.Value{"v": val}})
	}
	stream, err := v.client.StreamWrite(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := stream.Send(p(nowMs+int64(10*i), f64(1))); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil || resp.GetHeader().GetCode() != 200 || resp.GetSuccess() != 6 || resp.GetFailed() != 0 {
		t.Fatalf("StreamWrite: %v %v", resp, err)
	}

	// good, bad, good: the first stays, the bad one ends the call.
	stream, err = v.client.StreamWrite(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(p(nowMs+100, f64(1)))
	_ = stream.Send(p(nowMs+200, str("bad")))
	for i := 0; i < 100; i++ {
		if err := stream.Send(p(nowMs+300+int64(10*i), f64(1))); errors.Is(err, io.EOF) {
			break // the server has answered
		}
	}
	resp, err = stream.CloseAndRecv()
	if err != nil || resp.GetHeader().GetCode() != 400 || resp.GetSuccess() != 2 || resp.GetFailed() != 2 {
		t.Fatalf("StreamWrite with a bad message: %v %v", resp, err)
	}
	if got := v.count("sw"); got != "8\n" {
		t.Errorf("rows: %q, want the 6 + 2 before the bad message", got)
	}
}

// TestWriteTablesShape checks the conversion itself: tags repeat on every
// row of their entry, unset values are left out.
func TestWriteTablesShape(t *testing.T) {
	req := &storagepb.WriteRequest{TableRequests: []*storagepb.WriteTableRequest{{
		Table: "t", TagNames: []string{"a", "b"}, FieldNames: []string{"x"},
		Entries: []*storagepb.WriteSeriesEntry{{
			Tags: []*storagepb.Tag{{NameIndex: 1, Value: str("B")}, {NameIndex: 0, Value: &storagepb.Value{}}},
			FieldGroups: []*storagepb.FieldGroup{
				{Timestamp: 1, Fields: []*storagepb.Field{{NameIndex: 0, Value: f64(1)}}},
				{Timestamp: 2, Fields: []*storagepb.Field{{NameIndex: 0}}},
			},
		}},
	}}}
	tables, rows, err := WriteTables(req)
	if err != nil || rows != 2 || len(tables) != 1 || len(tables[0].Rows) != 2 {
		t.Fatalf("%v %d %v", tables, rows, err)
	}
	r0, r1 := tables[0].Rows[0], tables[0].Rows[1]
	if len(r0.Tags) != 1 || r0.Tags[0].Index != 1 || r0.Tags[0].Value.S != "B" || len(r1.Tags) != 1 ||
		r0.Timestamp != 1 || len(r0.Fields) != 1 || r0.Fields[0].Value.F != 1 || r1.Timestamp != 2 || len(r1.Fields) != 0 {
		t.Errorf("rows %+v %+v", r0, r1)
	}

	// Names are sorted, the cells' indexes follow them.
	req.TableRequests[0].TagNames = []string{"z", "a"}
	req.TableRequests[0].FieldNames = []string{"y", "x"}
	req.TableRequests[0].Entries[0].FieldGroups[0].Fields = []*storagepb.Field{{NameIndex: 0, Value: f64(1)}, {NameIndex: 1, Value: f64(2)}}
	tables, _, err = WriteTables(req)
	if err != nil {
		t.Fatal(err)
	}
	wt := tables[0]
	r0 = wt.Rows[0]
	if !slices.Equal(wt.Tags, []string{"a", "z"}) || !slices.Equal(wt.Fields, []string{"x", "y"}) ||
		wt.Tags[r0.Tags[0].Index] != "a" || r0.Tags[0].Value.S != "B" ||
		wt.Fields[r0.Fields[0].Index] != "y" || r0.Fields[0].Value.F != 1 || wt.Fields[r0.Fields[1].Index] != "x" {
		t.Errorf("sorted: %v %v %+v", wt.Tags, wt.Fields, r0)
	}
	if got := req.TableRequests[0].TagNames; got[0] != "z" {
		t.Errorf("the request was changed: %v", got)
	}
}
