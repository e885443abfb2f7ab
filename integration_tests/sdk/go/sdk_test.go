// Package sdk tests the horaedb binary with the official Go SDK,
// github.com/CeresDB/horaedb-client-go v1.2.0, unmodified. It is its own Go
// module: the SDK registers protobuf types under the same names as the
// server's proto/storagepb, so the two cannot share a binary.
//
// Run it with `make sdk-test` (which also says how the module is fetched).
package sdk

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CeresDB/horaedb-client-go/horaedb"
)

// modes are the route modes of SDK v1.2.0: Direct asks Route for each
// table's endpoint (and caches it), Proxy sends everything to the endpoint
// it was given.
var modes = []struct {
	name string
	mode horaedb.RouteMode
}{{"Direct", horaedb.Direct}, {"Proxy", horaedb.Proxy}}

func newClient(t testing.TB, n *node, mode horaedb.RouteMode) horaedb.Client {
	t.Helper()
	c, err := horaedb.NewClient(n.grpcAddr, mode, horaedb.WithDefaultDatabase("public"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// everyType is a field of each value type the SDK can send; the SDK sends
// tags as strings only, and has no timestamp-valued fields.
func everyType(i int) map[string]horaedb.Value {
	return map[string]horaedb.Value{
		"f_bool":   horaedb.NewBoolValue(i%2 == 0),
		"f_string": horaedb.NewStringValue("s'" + strconv.Itoa(i)),
		"f_double": horaedb.NewDoubleValue(1.5 + float64(i)),
		"f_float":  horaedb.NewFloatValue(2.5),
		"f_int64":  horaedb.NewInt64Value(math.MinInt64 + int64(i)),
		"f_int32":  horaedb.NewInt32Value(-32),
		"f_int16":  horaedb.NewInt16Value(-16),
		"f_int8":   horaedb.NewInt8Value(-8),
		"f_uint64": horaedb.NewUint64Value(math.MaxUint64 - uint64(i)),
		"f_uint32": horaedb.NewUint32Value(32),
		"f_uint16": horaedb.NewUint16Value(16),
		"f_uint8":  horaedb.NewUint8Value(255),
		"f_bytes":  horaedb.NewVarbinaryValue([]byte{0, byte(i), 0xff}),
	}
}

func point(t testing.TB, table string, ts int64, tags map[string]string, fields map[string]horaedb.Value) horaedb.Point {
	t.Helper()
	b := horaedb.NewPointBuilder(table).SetTimestamp(ts)
	for k, v := range tags {
		b.AddTag(k, horaedb.NewStringValue(v))
	}
	for k, v := range fields {
		b.AddField(k, v)
	}
	p, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func write(t testing.TB, c horaedb.Client, points ...horaedb.Point) horaedb.WriteResponse {
	t.Helper()
	resp, err := c.Write(testCtx(t), horaedb.WriteRequest{Points: points})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return resp
}

func query(t testing.TB, c horaedb.Client, table, sql string) horaedb.SQLQueryResponse {
	t.Helper()
	resp, err := c.SQLQuery(testCtx(t), horaedb.SQLQueryRequest{Tables: []string{table}, SQL: sql})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return resp
}

// render renders a value with its SDK type.
func render(v horaedb.Value) string {
	if v.IsNull() {
		return "null"
	}
	switch v.DataType() {
	case horaedb.VARBINARY:
		return fmt.Sprintf("bytes:%x", v.VarbinaryValue())
	case horaedb.STRING:
		return "string:" + v.StringValue()
	}
	return fmt.Sprintf("%T:%v", v.AnyValue(), v.AnyValue())
}

func renderRow(r horaedb.Row, columns ...string) string {
	var parts []string
	for _, name := range columns {
		c, ok := r.Column(name)
		if !ok {
			parts = append(parts, name+"=missing")
			continue
		}
		parts = append(parts, name+"="+render(c.Value()))
	}
	return strings.Join(parts, " ")
}

// TestSDK writes and queries through the SDK in each route mode against one
// node whose results are zstd-compressed from 64 KiB on.
func TestSDK(t *testing.T) {
	n := startNode(t, `resp_compress_min_length = "64KB"`)
	routes := func() string { return n.metric(t, `horaedb_grpc_requests_total{code="200",method="Route"}`) }
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			before := routes()
			c := newClient(t, n, m.mode)
			prefix := strings.ToLower(m.name) + "_"
			t.Run("every type", func(t *testing.T) { testEveryType(t, c, prefix+"types") })
			t.Run("new columns", func(t *testing.T) { testNewColumns(t, c, prefix+"grow") })
			t.Run("empty result", func(t *testing.T) { testEmptyResult(t, c, prefix+"types") })
			t.Run("type mismatch", func(t *testing.T) { testTypeMismatch(t, c, prefix+"types") })
			t.Run("SQL", func(t *testing.T) { testSQL(t, c, prefix+"ddl") })
			t.Run("large result", func(t *testing.T) { testLargeResult(t, n, c, prefix+"large") })
			after := routes()
			if asked := after != before; asked != (m.mode == horaedb.Direct) {
				t.Errorf("Route calls counted %q before, %q after", before, after)
			}
		})
	}
}

// testEveryType writes two points of every type into a table the write
// creates and reads them back with their types.
func testEveryType(t *testing.T, c horaedb.Client, table string) {
	now := time.Now().UnixMilli()
	resp := write(t, c, point(t, table, now, map[string]string{"host": "a"}, everyType(0)),
		point(t, table, now+1, map[string]string{"host": "b"}, everyType(1)))
	if resp.Success != 2 || resp.Failed != 0 || resp.Message != "" {
		t.Fatalf("Write: %+v", resp)
	}
	// The columns of the created table: the tags, then the fields, each
	// sorted by name whatever order the SDK listed them in.
	var names []string
	for _, r := range query(t, c, table, "DESCRIBE TABLE "+table).Rows {
		col, _ := r.Column("name")
		names = append(names, col.Value().StringValue())
	}
	if got, want := strings.Join(names, ","), "tsid,timestamp,host,f_bool,f_bytes,f_double,f_float,f_int16,f_int32,f_int64,"+
		"f_int8,f_string,f_uint16,f_uint32,f_uint64,f_uint8"; got != want {
		t.Errorf("columns %s\nwant    %s", got, want)
	}
	q := query(t, c, table, "SELECT * FROM "+table+" ORDER BY host")
	if len(q.Rows) != 2 {
		t.Fatalf("%d rows", len(q.Rows))
	}
	cols := []string{"host", "f_bool", "f_string", "f_double", "f_float", "f_int64", "f_int32", "f_int16", "f_int8",
		"f_uint64", "f_uint32", "f_uint16", "f_uint8", "f_bytes"}
	want := []string{
		"host=string:a f_bool=bool:true f_string=string:s'0 f_double=float64:1.5 f_float=float32:2.5 " +
			"f_int64=int64:-9223372036854775808 f_int32=int32:-32 f_int16=int16:-16 f_int8=int8:-8 " +
			"f_uint64=uint64:18446744073709551615 f_uint32=uint32:32 f_uint16=uint16:16 f_uint8=uint8:255 f_bytes=bytes:0000ff",
		"host=string:b f_bool=bool:false f_string=string:s'1 f_double=float64:2.5 f_float=float32:2.5 " +
			"f_int64=int64:-9223372036854775807 f_int32=int32:-32 f_int16=int16:-16 f_int8=int8:-8 " +
			"f_uint64=uint64:18446744073709551614 f_uint32=uint32:32 f_uint16=uint16:16 f_uint8=uint8:255 f_bytes=bytes:0001ff",
	}
	for i, r := range q.Rows {
		if got := renderRow(r, cols...); got != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, got, want[i])
		}
		// The hidden key and the timestamp column (ms, read as int64).
		if ts, _ := r.Column("timestamp"); ts.Value().Int64Value() != now+int64(i) {
			t.Errorf("row %d: timestamp %s", i, render(ts.Value()))
		}
		if id, ok := r.Column("tsid"); !ok || id.Value().DataType() != horaedb.UINT64 {
			t.Errorf("row %d: tsid %v", i, id)
		}
	}
}

// testNewColumns checks that a later write adds a tag and a field, and that
// the earlier rows read them as nulls.
func testNewColumns(t *testing.T, c horaedb.Client, table string) {
	now := time.Now().UnixMilli()
	write(t, c, point(t, table, now, map[string]string{"host": "a"}, map[string]horaedb.Value{"v": horaedb.NewDoubleValue(1)}))
	resp := write(t, c, point(t, table, now+1, map[string]string{"host": "b", "dc": "x"},
		map[string]horaedb.Value{"v": horaedb.NewDoubleValue(2), "note": horaedb.NewStringValue("new")}))
	if resp.Success != 1 {
		t.Fatalf("Write with new columns: %+v", resp)
	}
	q := query(t, c, table, "SELECT host, dc, v, note FROM "+table+" ORDER BY host")
	var got []string
	for _, r := range q.Rows {
		got = append(got, renderRow(r, "host", "dc", "v", "note"))
	}
	want := []string{"host=string:a dc=null v=float64:1 note=null", "host=string:b dc=string:x v=float64:2 note=string:new"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// testEmptyResult checks that a query without rows is an empty answer, not
// the SDK's "null rows" error.
func testEmptyResult(t *testing.T, c horaedb.Client, table string) {
	q := query(t, c, table, "SELECT * FROM "+table+" WHERE host = 'nobody'")
	if len(q.Rows) != 0 {
		t.Errorf("%d rows", len(q.Rows))
	}
}

// testTypeMismatch writes a value of the wrong type next to a good point:
// the SDK reports the failure with the server's message and nothing of the
// request is written.
func testTypeMismatch(t *testing.T, c horaedb.Client, table string) {
	count := func() string {
		q := query(t, c, table, "SELECT count(1) AS n FROM "+table)
		col, _ := q.Rows[0].Column("n")
		return render(col.Value())
	}
	before := count()
	now := time.Now().UnixMilli()
	bad := everyType(5)
	bad["f_double"] = horaedb.NewStringValue("not a double")
	resp := write(t, c, point(t, table, now+10, map[string]string{"host": "c"}, everyType(4)),
		point(t, table, now+11, map[string]string{"host": "d"}, bad))
	if resp.Success != 0 || resp.Failed != 2 || !strings.Contains(resp.Message, "code:400") ||
		!strings.Contains(resp.Message, "f_double") {
		t.Errorf("Write with a bad value: %+v", resp)
	}
	t.Logf("the SDK reports: %s", resp.Message)
	if after := count(); after != before {
		t.Errorf("rows %s before the bad write, %s after", before, after)
	}
	if _, err := c.SQLQuery(testCtx(t), horaedb.SQLQueryRequest{Tables: []string{table}, SQL: "SELECT nope FROM " + table}); err == nil ||
		!strings.Contains(err.Error(), "code:400") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a bad query: %v", err)
	}
}

// testSQL runs DDL and INSERT through the SDK, as its example does.
func testSQL(t *testing.T, c horaedb.Client, table string) {
	q := query(t, c, table, "CREATE TABLE "+table+" (name string TAG, value double, t timestamp NOT NULL, TIMESTAMP KEY(t)) "+
		"ENGINE=Analytic WITH (enable_ttl='false')")
	if q.AffectedRows != 0 || len(q.Rows) != 0 {
		t.Errorf("CREATE: %+v", q)
	}
	q = query(t, c, table, "EXISTS TABLE "+table)
	if col, ok := q.Rows[0].Column("result"); !ok || col.Value().Uint8Value() != 1 {
		t.Errorf("EXISTS: %+v", q.Rows)
	}
	q = query(t, c, table, "INSERT INTO "+table+" (name, value, t) VALUES ('a', 1, 1000), ('b', 2, 2000)")
	if q.AffectedRows != 2 {
		t.Errorf("INSERT: %+v", q)
	}
	q = query(t, c, table, "SELECT name, value FROM "+table+" WHERE t >= 2000")
	if len(q.Rows) != 1 || renderRow(q.Rows[0], "name", "value") != "name=string:b value=float64:2" {
		t.Errorf("SELECT: %+v", q.Rows)
	}
	query(t, c, table, "DROP TABLE "+table)
	q = query(t, c, table, "EXISTS TABLE "+table)
	if col, _ := q.Rows[0].Column("result"); col.Value().Uint8Value() != 0 {
		t.Errorf("EXISTS after DROP: %+v", q.Rows)
	}
}

// testLargeResult writes 20,000 points in batches of 1,000 and reads them
// back in one answer, which the node compresses (resp_compress_min_length
// is 64 KiB) and the SDK decompresses.
func testLargeResult(t *testing.T, n *node, c horaedb.Client, table string) {
	const total, batch = 20_000, 1_000
	now := time.Now().UnixMilli()
	for i := 0; i < total; i += batch {
		points := make([]horaedb.Point, 0, batch)
		for j := i; j < i+batch; j++ {
			points = append(points, point(t, table, now-int64(j), map[string]string{"host": "h" + strconv.Itoa(j%100)},
				map[string]horaedb.Value{"v": horaedb.NewDoubleValue(float64(j)), "msg": horaedb.NewStringValue("message " + strconv.Itoa(j))}))
		}
		if resp := write(t, c, points...); resp.Success != batch {
			t.Fatalf("Write: %+v", resp)
		}
	}
	zstdBefore := n.metric(t, `horaedb_grpc_arrow_payloads_total{compression="ZSTD"}`)
	q := query(t, c, table, "SELECT host, v, msg FROM "+table)
	if len(q.Rows) != total {
		t.Fatalf("%d rows, want %d", len(q.Rows), total)
	}
	vs := make([]float64, 0, total)
	for _, r := range q.Rows {
		col, _ := r.Column("v")
		vs = append(vs, col.Value().DoubleValue())
	}
	sort.Float64s(vs)
	for i, v := range vs {
		if v != float64(i) {
			t.Fatalf("value %d is %v", i, v)
		}
	}
	if after := n.metric(t, `horaedb_grpc_arrow_payloads_total{compression="ZSTD"}`); after == zstdBefore {
		t.Errorf("the large result was not sent compressed (ZSTD payloads %q before, %q after)", zstdBefore, after)
	}
}
