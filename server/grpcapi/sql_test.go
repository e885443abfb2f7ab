package grpcapi

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/horaego/horaedb/proto/storagepb"
)

func TestSqlQueryStatements(t *testing.T) {
	v := newTestEnv(t, nil)
	resp := v.sql("CREATE TABLE q (h string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t))")
	if _, ok := resp.GetOutput().(*storagepb.SqlQueryResponse_AffectedRows); !ok || resp.GetAffectedRows() != 0 {
		t.Errorf("CREATE: %v", resp)
	}
	resp = v.sql(fmt.Sprintf("INSERT INTO q (h, v, t) VALUES ('a', 1, %d), ('b', 2, %d)", nowMs, nowMs+1))
	if resp.GetAffectedRows() != 2 {
		t.Errorf("INSERT: %v", resp)
	}
	if got := v.rows("SELECT h, v FROM q ORDER BY h"); got != "a,1\nb,2\n" {
		t.Errorf("SELECT: %q", got)
	}
	for _, tc := range []struct{ sql, want string }{
		{"SELEC 1", "SELEC"},
		{"SELECT * FROM nope", "nope"},
		{"SELECT nope FROM q", "nope"},
		{"  ", "empty query"},
	} {
		resp, err := v.client.SqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Sql: tc.sql})
		if err != nil || resp.GetHeader().GetCode() != 400 || !strings.Contains(resp.GetHeader().GetError(), tc.want) ||
			resp.GetOutput() != nil {
			t.Errorf("%q: %v %v; want 400 naming %q", tc.sql, resp, err, tc.want)
		}
	}
	// The request's database is the schema.
	resp, _ = v.client.SqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Context: &storagepb.RequestContext{Database: "other"}, Sql: "SELECT * FROM q"})
	if resp.GetHeader().GetCode() != 400 {
		t.Errorf("q in database other: %v", resp)
	}
}

// TestSqlQueryEmptyResult checks that an empty result is one schema-only
// stream, for SqlQuery and StreamSqlQuery, not a payload without streams
// (which the Go SDK reports as "null rows").
func TestSqlQueryEmptyResult(t *testing.T) {
	v := newTestEnv(t, nil)
	v.sql("CREATE TABLE e (h string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t))")
	check := func(what string, p *storagepb.ArrowPayload) {
		t.Helper()
		if len(p.GetRecordBatches()) != 1 || p.GetCompression() != storagepb.ArrowPayload_NONE {
			t.Fatalf("%s: payload %v", what, p)
		}
		recs, sch := decodePayload(t, p)
		if len(recs) != 0 || sch == nil || sch.NumFields() != 2 || sch.Field(0).Name != "h" || sch.Field(1).Name != "v" {
			t.Errorf("%s: %d batches, schema %v", what, len(recs), sch)
		}
	}
	check("SqlQuery", v.sql("SELECT h, v FROM e").GetArrow())
	stream, err := v.client.StreamSqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Sql: "SELECT h, v FROM e"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := recvAll(t, stream)
	if len(msgs) != 1 {
		t.Fatalf("StreamSqlQuery: %d messages", len(msgs))
	}
	check("StreamSqlQuery", msgs[0].GetArrow())
}

func recvAll(t *testing.T, stream storagepb.StorageService_StreamSqlQueryClient) []*storagepb.SqlQueryResponse {
	t.Helper()
	var msgs []*storagepb.SqlQueryResponse
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return msgs
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
}

// fill writes n rows to table big: 10 hosts, one row per ms.
func (v *testEnv) fill(table string, n int) {
	v.t.Helper()
	const batch = 10_000
	for start := 0; start < n; start += batch {
		var pts []point
		for i := start; i < min(n, start+batch); i++ {
			pts = append(pts, point{ts: nowMs - int64(i), tags: map[string]string{"host": fmt.Sprintf("host_%d", i%10)},
				fields: map[string]*storagepb.Value{"v": f64(float64(i)), "s": str(strings.Repeat("x", 20))}})
		}
		resp, err := v.client.Write(testCtx(v.t), writeRequest(table, pts...))
		if err != nil || resp.GetHeader().GetCode() != 200 {
			v.t.Fatalf("fill: %v %v", resp, err)
		}
	}
}

// TestSqlQueryZstd checks that a payload at the threshold is compressed
// whole as one zstd frame, and one below it is not.
func TestSqlQueryZstd(t *testing.T) {
	v := newTestEnv(t, func(o *Options) { o.RespCompressMinLength = 64 << 10 })
	v.fill("z", 5_000)
	resp := v.sql("SELECT host, v, s FROM z")
	if c := resp.GetArrow().GetCompression(); c != storagepb.ArrowPayload_ZSTD {
		t.Fatalf("a large result is sent %s", c)
	}
	raw := resp.GetArrow().GetRecordBatches()[0]
	recs, _ := decodePayload(t, resp.GetArrow())
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	if n != 5_000 {
		t.Errorf("%d rows", n)
	}
	resp = v.sql("SELECT host, v, s FROM z LIMIT 10")
	if c := resp.GetArrow().GetCompression(); c != storagepb.ArrowPayload_NONE {
		t.Errorf("a small result is sent %s", c)
	}
	t.Logf("5000 rows: %d bytes compressed", len(raw))
	if z := testutil.ToFloat64(v.svc.metrics.payloads.WithLabelValues("ZSTD")); z != 1 {
		t.Errorf("ZSTD payloads counted: %v", z)
	}

	// A negative threshold never compresses; the default does not for
	// this size.
	for _, limit := range []int64{-1, 0} {
		v := newTestEnv(t, func(o *Options) { o.RespCompressMinLength = limit })
		v.fill("z", 5_000)
		if c := v.sql("SELECT host, v, s FROM z").GetArrow().GetCompression(); c != storagepb.ArrowPayload_NONE {
			t.Errorf("threshold %d: sent %s", limit, c)
		}
	}
}

// TestStreamSqlQuery checks that batches go out as the executor produces
// them: before the service asks the executor for the second batch, it
// waits until the client has received the first, which, if the service
// gathered the result before sending, would never happen.
func TestStreamSqlQuery(t *testing.T) {
	v := newTestEnv(t, nil)
	const rows = 100_000
	v.fill("big", rows)
	received := make(chan struct{})
	stuck := make(chan struct{})
	v.svc.testHookNext = func(calls int) {
		if calls != 1 {
			return
		}
		select {
		case <-received:
		case <-time.After(30 * time.Second):
			close(stuck)
		}
	}
	stream, err := v.client.StreamSqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Sql: "SELECT host, v FROM big"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetHeader().GetCode() != 200 {
		t.Fatalf("first message: %v %v", first, err)
	}
	close(received)
	msgs := append([]*storagepb.SqlQueryResponse{first}, recvAll(t, stream)...)
	select {
	case <-stuck:
		t.Fatal("the first batch reached the client only after the whole result")
	default:
	}
	if len(msgs) < 3 {
		t.Errorf("%d messages for %d rows; want one per batch", len(msgs), rows)
	}
	var n int64
	for _, m := range msgs {
		if len(m.GetArrow().GetRecordBatches()) != 1 {
			t.Fatalf("a message with %d streams", len(m.GetArrow().GetRecordBatches()))
		}
		recs, sch := decodePayload(t, m.GetArrow())
		if sch.Field(0).Name != "host" {
			t.Fatalf("schema %v", sch)
		}
		for _, r := range recs {
			n += r.NumRows()
		}
	}
	if n != rows {
		t.Errorf("%d rows streamed, want %d", n, rows)
	}
	t.Logf("%d rows in %d messages", n, len(msgs))

	// DDL answers one message with affected_rows; an error one with the
	// error in its header.
	stream, err = v.client.StreamSqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Sql: "CREATE TABLE s2 (t timestamp NOT NULL, TIMESTAMP KEY(t))"})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := recvAll(t, stream); len(msgs) != 1 || msgs[0].GetHeader().GetCode() != 200 || msgs[0].GetOutput() == nil {
		t.Errorf("DDL: %v", msgs)
	}
	stream, err = v.client.StreamSqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Sql: "SELECT x FROM nope"})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := recvAll(t, stream); len(msgs) != 1 || msgs[0].GetHeader().GetCode() != 400 {
		t.Errorf("an error: %v", msgs)
	}
}
