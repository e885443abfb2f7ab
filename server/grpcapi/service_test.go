package grpcapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/auth"
	"github.com/horaego/horaedb/wal/local"
)

// nowMs is the clock of the test engine and executor; tables get the
// default TTL, so written timestamps stay near it.
const nowMs = 1_700_000_000_000

// testEnv is a service over a real engine and executor, served on a
// loopback port, with a client.
type testEnv struct {
	t      testing.TB
	x      *query.Executor
	svc    *Service
	reg    *prometheus.Registry
	client storagepb.StorageServiceClient
	conn   *grpc.ClientConn
}

// newTestEnv starts a service; mutate may change its options first.
func newTestEnv(t testing.TB, mutate func(*Options)) *testEnv {
	t.Helper()
	w, err := local.Open(filepath.Join(t.TempDir(), "wal"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := objstore.NewMemory()
	clock := func() time.Time { return time.UnixMilli(nowMs) }
	e, err := engine.Open(engine.Options{Now: clock, WAL: w, Store: b, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); w.Close(); b.Close() })
	for s := uint32(0); s < 2; s++ {
		if err := e.OpenShard(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	x := query.NewExecutor(query.Options{Catalog: &query.LocalCatalog{Engine: e, NumShards: 2}, Now: clock})
	reg := prometheus.NewRegistry()
	o := Options{SQL: x, Writer: x, Endpoint: Endpoint{Host: "127.0.0.1", Port: 8831},
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})), Registerer: reg}
	if mutate != nil {
		mutate(&o)
	}
	svc, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(svc.ServerOptions()...)
	svc.Register(gs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(ln)
	}()
	t.Cleanup(func() { gs.Stop(); <-served })
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testEnv{t: t, x: x, svc: svc, reg: reg, client: storagepb.NewStorageServiceClient(conn), conn: conn}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// sql runs a statement through SqlQuery and fails the test on an error.
func (v *testEnv) sql(sql string) *storagepb.SqlQueryResponse {
	v.t.Helper()
	resp, err := v.client.SqlQuery(testCtx(v.t), &storagepb.SqlQueryRequest{Sql: sql})
	if err != nil {
		v.t.Fatalf("%s: %v", sql, err)
	}
	if resp.GetHeader().GetCode() != 200 {
		v.t.Fatalf("%s: %d %s", sql, resp.GetHeader().GetCode(), resp.GetHeader().GetError())
	}
	return resp
}

// rows runs a query and renders its rows, one line each, values
// comma-separated.
func (v *testEnv) rows(sql string) string {
	v.t.Helper()
	recs, _ := decodePayload(v.t, v.sql(sql).GetArrow())
	return render(recs)
}

// count returns the number of rows of a table.
func (v *testEnv) count(table string) string {
	v.t.Helper()
	return v.rows("SELECT count(1) FROM " + table)
}

// decodePayload reads every IPC stream of a payload, as the Go SDK does:
// each entry on its own, zstd-decompressed when the payload says so.
func decodePayload(t testing.TB, p *storagepb.ArrowPayload) ([]arrow.RecordBatch, *arrow.Schema) {
	t.Helper()
	var recs []arrow.RecordBatch
	var sch *arrow.Schema
	for _, stream := range p.GetRecordBatches() {
		var r io.Reader = bytes.NewReader(stream)
		if p.GetCompression() == storagepb.ArrowPayload_ZSTD {
			zr, err := zstd.NewReader(r)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			r = zr
		}
		ir, err := ipc.NewReader(r)
		if err != nil {
			t.Fatalf("not an Arrow IPC stream: %v", err)
		}
		sch = ir.Schema()
		for ir.Next() {
			rec := ir.RecordBatch()
			rec.Retain()
			recs = append(recs, rec)
		}
		if err := ir.Err(); err != nil {
			t.Fatal(err)
		}
		ir.Release()
	}
	t.Cleanup(func() {
		for _, r := range recs {
			r.Release()
		}
	})
	return recs, sch
}

func render(recs []arrow.RecordBatch) string {
	var b strings.Builder
	for _, rec := range recs {
		for r := range int(rec.NumRows()) {
			for c := range int(rec.NumCols()) {
				if c > 0 {
					b.WriteString(",")
				}
				b.WriteString(rec.Column(c).ValueStr(r))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestNewChecksOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without an executor")
	}
	x := query.NewExecutor(query.Options{})
	if _, err := New(Options{SQL: x, Writer: x}); err == nil || !strings.Contains(err.Error(), "Endpoint") {
		t.Errorf("New without an endpoint or router: %v", err)
	}
	if _, err := New(Options{SQL: x, Writer: x, Router: StaticRouter{Host: "h", Port: 1}}); err != nil {
		t.Errorf("New with a router: %v", err)
	}
}

// routerFunc is a Router from a function.
type routerFunc func(ctx context.Context, database, table string) (Endpoint, error)

func (f routerFunc) Route(ctx context.Context, database, table string) (Endpoint, error) {
	return f(ctx, database, table)
}

func TestRoute(t *testing.T) {
	v := newTestEnv(t, nil)
	resp, err := v.client.Route(testCtx(t), &storagepb.RouteRequest{Tables: []string{"a", "b"}})
	if err != nil || resp.GetHeader().GetCode() != 200 || len(resp.GetRoutes()) != 2 {
		t.Fatalf("Route: %v %v", resp, err)
	}
	for i, r := range resp.GetRoutes() {
		if r.GetTable() != []string{"a", "b"}[i] || r.GetEndpoint().GetIp() != "127.0.0.1" || r.GetEndpoint().GetPort() != 8831 {
			t.Errorf("route %d: %v", i, r)
		}
	}

	// A plugged-in router: its database, its answers, its stale routes.
	v = newTestEnv(t, func(o *Options) {
		o.Router = routerFunc(func(_ context.Context, db, table string) (Endpoint, error) {
			if table == "moved" {
				return Endpoint{}, ErrStaleRoute
			}
			return Endpoint{Host: db + ".example", Port: 9000}, nil
		})
	})
	resp, err = v.client.Route(testCtx(t), &storagepb.RouteRequest{Context: &storagepb.RequestContext{Database: "db1"}, Tables: []string{"x"}})
	if err != nil || resp.GetRoutes()[0].GetEndpoint().GetIp() != "db1.example" {
		t.Errorf("Route through a router: %v %v", resp, err)
	}
	resp, err = v.client.Route(testCtx(t), &storagepb.RouteRequest{Tables: []string{"x", "moved"}})
	if err != nil || resp.GetHeader().GetCode() != 302 || len(resp.GetRoutes()) != 0 {
		t.Errorf("a stale route: %v %v", resp, err)
	}
}

// TestAuth checks every method with auth on: no or wrong credentials answer
// 401 in the header (gRPC status OK) and run nothing; right ones pass.
func TestAuth(t *testing.T) {
	users, err := auth.Parse([]byte("alice,secret\n"))
	if err != nil {
		t.Fatal(err)
	}
	v := newTestEnv(t, func(o *Options) { o.Users = users })
	basic := func(user, pass string) context.Context {
		return metadata.AppendToOutgoingContext(testCtx(t), MetadataAuthorization,
			"Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	write := writeRequest("authed", point{ts: nowMs, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"value": f64(1)}})
	streamWrite := writeRequest("authed", point{ts: nowMs + 1, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"value": f64(1)}})
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want uint32
	}{
		{"none", testCtx(t), 401},
		{"wrong password", basic("alice", "nope"), 401},
		{"unknown user", basic("bob", "secret"), 401},
		{"not basic", metadata.AppendToOutgoingContext(testCtx(t), MetadataAuthorization, "Bearer x"), 401},
		{"right", basic("alice", "secret"), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			codes := map[string]uint32{}
			r, err := v.client.Route(tc.ctx, &storagepb.RouteRequest{Tables: []string{"t"}})
			codes["Route"] = code(t, r, err)
			w, err := v.client.Write(tc.ctx, write)
			codes["Write"] = code(t, w, err)
			q, err := v.client.SqlQuery(tc.ctx, &storagepb.SqlQueryRequest{Sql: "SHOW DATABASES"})
			codes["SqlQuery"] = code(t, q, err)
			p, err := v.client.PromRemoteQuery(tc.ctx, &storagepb.PrometheusRemoteQueryRequest{Query: encodePromQuery(t, "authed", 0, nowMs)})
			codes["PromRemoteQuery"] = code(t, p, err)
			sw, err := v.client.StreamWrite(tc.ctx)
			if err != nil {
				t.Fatal(err)
			}
			_ = sw.Send(streamWrite) // a denied stream may be answered before this
			swr, err := sw.CloseAndRecv()
			codes["StreamWrite"] = code(t, swr, err)
			sq, err := v.client.StreamSqlQuery(tc.ctx, &storagepb.SqlQueryRequest{Sql: "SHOW DATABASES"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := sq.Recv()
			codes["StreamSqlQuery"] = code(t, m, err)
			for method, c := range codes {
				if c != tc.want {
					t.Errorf("%s: code %d, want %d", method, c, tc.want)
				}
			}
			if tc.want == 401 && !strings.Contains(w.GetHeader().GetError(), "authentication failed") {
				t.Errorf("the 401 message: %q", w.GetHeader().GetError())
			}
		})
	}
	// Only the authenticated writes went in (Write and StreamWrite).
	if got := v.rowsAs(basic("alice", "secret"), "SELECT count(1) FROM authed"); got != "2\n" {
		t.Errorf("rows written: %q", got)
	}
	if c := testutil.ToFloat64(v.svc.metrics.requests.WithLabelValues("Write", "401")); c != 4 {
		t.Errorf("401 writes counted: %v", c)
	}
}

// code returns the header code of a response, failing on a gRPC error.
func code(t *testing.T, resp headered, err error) uint32 {
	t.Helper()
	if err != nil {
		t.Fatalf("gRPC error: %v", err)
	}
	return resp.GetHeader().GetCode()
}

func (v *testEnv) rowsAs(ctx context.Context, sql string) string {
	v.t.Helper()
	resp, err := v.client.SqlQuery(ctx, &storagepb.SqlQueryRequest{Sql: sql})
	if err != nil || resp.GetHeader().GetCode() != 200 {
		v.t.Fatalf("%s: %v %v", sql, resp, err)
	}
	recs, _ := decodePayload(v.t, resp.GetArrow())
	return render(recs)
}

// TestMessageLimits checks that an oversized or malformed request fails with
// gRPC's own status before anything runs, and that the service goes on.
func TestMessageLimits(t *testing.T) {
	v := newTestEnv(t, func(o *Options) { o.MaxRecvMsgSize = 4 << 10 })
	big := writeRequest("big", point{ts: nowMs, tags: map[string]string{"h": strings.Repeat("x", 8<<10)},
		fields: map[string]*storagepb.Value{"v": f64(1)}})
	_, err := v.client.Write(testCtx(t), big)
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("an oversized Write: %v; want ResourceExhausted", err)
	}
	sw, err := v.client.StreamWrite(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	small := writeRequest("big", point{ts: nowMs, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": f64(1)}})
	_ = sw.Send(small)
	_ = sw.Send(big)
	if _, err := sw.CloseAndRecv(); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("an oversized StreamWrite message: %v; want ResourceExhausted", err)
	}

	// Bytes that are no WriteRequest.
	err = v.conn.Invoke(testCtx(t), "/storage.StorageService/Write", &rawMessage{0x0a, 0xff, 0xff}, new(rawMessage),
		grpc.ForceCodecV2(rawCodec{}))
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "unmarshal") {
		t.Errorf("a malformed Write: %v; want gRPC's Internal", err)
	}
	// Nothing of them, only the first StreamWrite message, which was
	// complete and valid, was written.
	if got := v.count("big"); got != "1\n" {
		t.Errorf("rows: %q", got)
	}
}

// rawMessage is a request sent as given, bypassing protobuf.
type rawMessage []byte

type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawMessage))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*rawMessage) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// slowSQL blocks every statement until its context ends.
type slowSQL struct{ *query.Executor }

func (slowSQL) ExecuteStream(ctx context.Context, _ query.Session, _ string) (*query.Result, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestTimeout(t *testing.T) {
	v := newTestEnv(t, func(o *Options) { o.SQL = slowSQL{o.SQL.(*query.Executor)}; o.Timeout = 50 * time.Millisecond })
	resp, err := v.client.SqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Sql: "SELECT 1"})
	if err != nil || resp.GetHeader().GetCode() != 504 || !strings.Contains(resp.GetHeader().GetError(), "server.timeout") {
		t.Errorf("a statement over server.timeout: %v %v", resp, err)
	}
	stream, err := v.client.StreamSqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Sql: "SELECT 1"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err != nil || m.GetHeader().GetCode() != 504 {
		t.Errorf("a streamed statement over server.timeout: %v %v", m, err)
	}
}

func TestMetrics(t *testing.T) {
	v := newTestEnv(t, nil)
	v.sql("SHOW DATABASES")
	if _, err := v.client.SqlQuery(testCtx(t), &storagepb.SqlQueryRequest{Sql: "SELEC"}); err != nil {
		t.Fatal(err)
	}
	w := writeRequest("m", point{ts: nowMs, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": f64(1)}},
		point{ts: nowMs + 1, tags: map[string]string{"h": "a"}, fields: map[string]*storagepb.Value{"v": f64(2)}})
	if _, err := v.client.Write(testCtx(t), w); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, code string
		want         float64
	}{{"SqlQuery", "200", 1}, {"SqlQuery", "400", 1}, {"Write", "200", 1}} {
		if got := testutil.ToFloat64(v.svc.metrics.requests.WithLabelValues(c.method, c.code)); got != c.want {
			t.Errorf("%s %s: %v calls, want %v", c.method, c.code, got, c.want)
		}
	}
	if got := testutil.ToFloat64(v.svc.metrics.writeRows); got != 2 {
		t.Errorf("rows written: %v", got)
	}
	if n, err := testutil.GatherAndCount(v.reg, "horaedb_grpc_request_duration_seconds"); err != nil || n != 2 {
		t.Errorf("duration series: %d %v", n, err)
	}
}
