package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/server/grpcapi"
)

// storageClient is a storage API client of n.
func storageClient(t *testing.T, n *clusterNode) storagepb.StorageServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(n.endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return storagepb.NewStorageServiceClient(conn)
}

func cpuWrite(ts int64, host string, v float64) *storagepb.WriteRequest {
	return &storagepb.WriteRequest{TableRequests: []*storagepb.WriteTableRequest{{
		Table: "cpu", TagNames: []string{"host"}, FieldNames: []string{"v"},
		Entries: []*storagepb.WriteSeriesEntry{{
			Tags: []*storagepb.Tag{{NameIndex: 0, Value: &storagepb.Value{Value: &storagepb.Value_StringValue{StringValue: host}}}},
			FieldGroups: []*storagepb.FieldGroup{{Timestamp: ts,
				Fields: []*storagepb.Field{{NameIndex: 0, Value: &storagepb.Value{Value: &storagepb.Value_Float64Value{Float64Value: v}}}}}},
		}},
	}}}
}

// twoNodesAndCPU starts meta and two nodes, creates table cpu, and returns
// its owner and the other node.
func twoNodesAndCPU(t *testing.T) (owner, other *clusterNode) {
	t.Helper()
	metaAddr := startMetaForTest(t, 2, 4)
	a, b := startClusterNode(t, metaAddr), startClusterNode(t, metaAddr)
	waitFor(t, 30*time.Second, "4 shards open on 2 nodes", func() bool {
		na, nb := len(a.s.Member().ShardVersions()), len(b.s.Member().ShardVersions())
		return na+nb == 4 && na > 0 && nb > 0
	})
	waitFor(t, 30*time.Second, "CREATE TABLE to succeed", func() bool {
		code, body := b.sql(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`)
		if code != 200 && !strings.Contains(body, "stable") {
			t.Fatalf("CREATE TABLE: %d %s", code, body)
		}
		return code == 200
	})
	mc, err := client.New(client.Config{Endpoints: []string{metaAddr}, ClusterName: "defaultCluster"})
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	route, err := mc.RouteTables(context.Background(), "public", []string{"cpu"})
	if err != nil || len(route.GetEntries()["cpu"].GetNodeShards()) != 1 {
		t.Fatalf("route of cpu: %v %v", route, err)
	}
	if route.GetEntries()["cpu"].GetNodeShards()[0].GetEndpoint() == a.endpoint() {
		return a, b
	}
	return b, a
}

// TestWithMetaForwarding: writes and queries that reach the node that does
// not serve their table (HTTP /sql, gRPC Write, SqlQuery and
// StreamSqlQuery) are forwarded to the owner; a request already forwarded
// that misses again is answered 302.
func TestWithMetaForwarding(t *testing.T) {
	owner, other := twoNodesAndCPU(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// HTTP /sql through the other node.
	if code, body := other.sql(`INSERT INTO cpu (t, host, v) VALUES (1000, 'a', 1)`); code != 200 || body != `{"affected_rows":1}` {
		t.Fatalf("INSERT through the non-owner: %d %s", code, body)
	}
	// gRPC Write through the other node.
	oc := storageClient(t, other)
	wr, err := oc.Write(ctx, cpuWrite(2000, "b", 2))
	if err != nil || wr.GetHeader().GetCode() != 200 || wr.GetSuccess() != 1 {
		t.Fatalf("Write through the non-owner: %v %v", wr, err)
	}
	// Both reached the owner.
	const want = `{"rows":[{"t":1000,"host":"a","v":1.0},{"t":2000,"host":"b","v":2.0}]}`
	if code, body := owner.sql(`SELECT t, host, v FROM cpu ORDER BY t`); code != 200 || body != want {
		t.Fatalf("SELECT on the owner: %d %s", code, body)
	}
	// Queries through the other node: HTTP, SqlQuery, StreamSqlQuery.
	if code, body := other.sql(`SELECT t, host, v FROM cpu ORDER BY t`); code != 200 || body != want {
		t.Errorf("SELECT through the non-owner: %d %s", code, body)
	}
	q := &storagepb.SqlQueryRequest{Tables: []string{"cpu"}, Sql: `SELECT t, host, v FROM cpu ORDER BY t`}
	resp, err := oc.SqlQuery(ctx, q)
	if err != nil || resp.GetHeader().GetCode() != 200 {
		t.Fatalf("SqlQuery through the non-owner: %v %v", resp, err)
	}
	if n := arrowRows(t, resp.GetArrow()); n != 2 {
		t.Errorf("SqlQuery through the non-owner: %d rows, want 2", n)
	}
	st, err := oc.StreamSqlQuery(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for {
		m, err := st.Recv()
		if err != nil {
			break
		}
		if m.GetHeader().GetCode() != 200 {
			t.Fatalf("StreamSqlQuery through the non-owner: %v", m)
		}
		rows += arrowRows(t, m.GetArrow())
	}
	if rows != 2 {
		t.Errorf("StreamSqlQuery through the non-owner: %d rows, want 2", rows)
	}

	// Already forwarded and missing again: 302, nothing written.
	fctx := metadata.AppendToOutgoingContext(ctx, grpcapi.ForwardedFromKey, "10.0.0.9:8831")
	if wr, err := oc.Write(fctx, cpuWrite(3000, "c", 3)); err != nil || wr.GetHeader().GetCode() != 302 {
		t.Errorf("forwarded Write to the non-owner: %v %v, want 302", wr, err)
	}
	if resp, err := oc.SqlQuery(fctx, q); err != nil || resp.GetHeader().GetCode() != 302 {
		t.Errorf("forwarded SqlQuery to the non-owner: %v %v, want 302", resp, err)
	}
	// ... but served where the table lives.
	if wr, err := storageClient(t, owner).Write(fctx, cpuWrite(3000, "c", 3)); err != nil || wr.GetHeader().GetCode() != 200 {
		t.Errorf("forwarded Write to the owner: %v %v", wr, err)
	}
	if code, body := owner.sql(`SELECT count(*) AS n FROM cpu`); code != 200 || body != `{"rows":[{"n":3}]}` {
		t.Errorf("rows on the owner: %d %s", code, body)
	}
}

func arrowRows(t *testing.T, p *storagepb.ArrowPayload) int {
	t.Helper()
	if p == nil {
		return 0
	}
	_, recs, err := grpcapi.DecodeArrow(p)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		n += int(r.NumRows())
		r.Release()
	}
	return n
}
