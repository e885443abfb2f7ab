package query_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

func str(s string) query.Value    { return query.Value{Kind: schema.String, S: s} }
func f64(f float64) query.Value   { return query.Value{Kind: schema.Double, F: f} }
func i64(i int64) query.Value     { return query.Value{Kind: schema.Int64, I: i} }
func boolean(b bool) query.Value  { return query.Value{Kind: schema.Boolean, B: b} }
func u64(u uint64) query.Value    { return query.Value{Kind: schema.UInt64, U: u} }
func varbin(b []byte) query.Value { return query.Value{Kind: schema.Varbinary, Bytes: b} }

func (v *env) write(tables ...query.WriteTable) (int64, error) {
	return v.x.Write(context.Background(), query.Session{}, tables, query.WriteOptions{})
}

func TestWriteCreatesTablesAndColumns(t *testing.T) {
	v := newEnv(t)
	n, err := v.write(query.WriteTable{Table: "cpu", Tags: []string{"host", "region"}, Fields: []string{"usage", "count", "ok", "raw"},
		Rows: []query.WriteRow{
			{Timestamp: 1000, Tags: []query.Cell{{0, str("a")}, {1, str("eu")}},
				Fields: []query.Cell{{0, f64(0.5)}, {1, i64(3)}, {2, boolean(true)}, {3, varbin([]byte{1, 2})}}},
			{Timestamp: 2000, Tags: []query.Cell{{0, str("b")}}, Fields: []query.Cell{{0, f64(1.5)}}},
		}})
	if err != nil || n != 2 {
		t.Fatalf("write: %d %v", n, err)
	}
	v.expect("DESCRIBE cpu", "name,type,is_primary,is_nullable,is_tag,is_dictionary\n"+
		"tsid,uint64,true,false,false,false\ntimestamp,timestamp,true,false,false,false\n"+
		"host,string,false,true,true,false\nregion,string,false,true,true,false\n"+
		"usage,double,false,true,false,false\ncount,bigint,false,true,false,false\n"+
		"ok,boolean,false,true,false,false\nraw,varbinary,false,true,false,false")
	v.expect("SELECT timestamp, host, region, usage, count, ok FROM cpu ORDER BY timestamp",
		"timestamp,host,region,usage,count,ok\n1000,a,eu,0.5,3,true\n2000,b,NULL,1.5,NULL,NULL")

	// A later write adds a tag and a field; an unsigned value fits the
	// bigint column; the tsid of a row with the new tag differs.
	n, err = v.write(query.WriteTable{Table: "cpu", Tags: []string{"host", "dc"}, Fields: []string{"count", "temp"},
		Rows: []query.WriteRow{{Timestamp: 3000, Tags: []query.Cell{{0, str("a")}, {1, str("dc1")}},
			Fields: []query.Cell{{0, u64(7)}, {1, f64(40)}}}}})
	if err != nil || n != 1 {
		t.Fatalf("second write: %d %v", n, err)
	}
	v.expect("SELECT host, dc, count, temp FROM cpu WHERE timestamp = 3000", "host,dc,count,temp\na,dc1,7,40")
}

func TestWriteRejectsWithoutWriting(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE m (t timestamp NOT NULL, host string TAG, v double, n int, TIMESTAMP KEY(t)) WITH (enable_ttl='false')")
	good := query.WriteTable{Table: "m", Tags: []string{"host"}, Fields: []string{"v"},
		Rows: []query.WriteRow{{Timestamp: 1, Tags: []query.Cell{{0, str("a")}}, Fields: []query.Cell{{0, f64(1)}}}}}
	for _, tc := range []struct {
		name string
		bad  query.WriteTable
		want string
	}{
		{"type mismatch", query.WriteTable{Table: "m", Fields: []string{"v"},
			Rows: []query.WriteRow{{Timestamp: 1, Fields: []query.Cell{{0, str("x")}}}}}, "a double column cannot hold a value of type string"},
		{"out of range", query.WriteTable{Table: "m", Fields: []string{"n"},
			Rows: []query.WriteRow{{Timestamp: 1, Fields: []query.Cell{{0, i64(1 << 40)}}}}}, "out of range for a int column"},
		{"field is the timestamp", query.WriteTable{Table: "m", Fields: []string{"t"},
			Rows: []query.WriteRow{{Timestamp: 1, Fields: []query.Cell{{0, i64(1)}}}}}, "t is the timestamp column"},
		{"column twice", query.WriteTable{Table: "m", Tags: []string{"host"}, Fields: []string{"host"},
			Rows: []query.WriteRow{{Timestamp: 1}}}, "column host given twice"},
		{"reserved", query.WriteTable{Table: "m", Fields: []string{"tsid"},
			Rows: []query.WriteRow{{Timestamp: 1}}}, "reserved"},
		{"bad index", query.WriteTable{Table: "m", Fields: []string{"v"},
			Rows: []query.WriteRow{{Timestamp: 1, Fields: []query.Cell{{5, f64(1)}}}}}, "refers to column 5"},
		{"cell twice", query.WriteTable{Table: "m", Fields: []string{"v"},
			Rows: []query.WriteRow{{Timestamp: 1, Fields: []query.Cell{{0, f64(1)}, {0, f64(2)}}}}}, "gives column v twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The good table comes first: it must not be written either.
			_, err := v.write(good, tc.bad)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !query.IsClientError(err) {
				t.Fatalf("err = %v, want a client error containing %q", err, tc.want)
			}
			v.expect("SELECT count(*) FROM m", "COUNT(*)\n0")
		})
	}
}

func TestConcurrentWritesCreateOnce(t *testing.T) {
	v := newEnv(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			_, err := v.write(query.WriteTable{Table: "c", Tags: []string{"w"}, Fields: []string{"v", "f" + string(rune('a'+w%2))},
				Rows: []query.WriteRow{{Timestamp: int64(w), Tags: []query.Cell{{0, str(string(rune('a' + w)))}},
					Fields: []query.Cell{{0, f64(1)}, {1, i64(int64(w))}}}}})
			errs <- err
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	v.expect("SELECT count(*), count(fa), count(fb) FROM c", "COUNT(*),COUNT(c.fa),COUNT(c.fb)\n8,4,4")
}

func TestExecuteStream(t *testing.T) {
	v := newEnv(t)
	v.must(demo)
	var rows []query.WriteRow
	for i := 0; i < 20000; i++ {
		rows = append(rows, query.WriteRow{Timestamp: int64(i), Tags: []query.Cell{{0, str("h")}}, Fields: []query.Cell{{0, f64(float64(i))}}})
	}
	if _, err := v.write(query.WriteTable{Table: "demo", Tags: []string{"name"}, Fields: []string{"value"}, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := v.x.ExecuteStream(ctx, query.Session{}, "SELECT t, value FROM demo")
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsQuery() || len(res.Records) != 0 {
		t.Fatalf("a streamed query gathered its rows: %d records", len(res.Records))
	}
	var n, batches int64
	for {
		rec, err := res.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n += rec.NumRows()
		batches++
		rec.Release()
	}
	res.Release()
	if n != 20000 || batches < 2 {
		t.Fatalf("streamed %d rows in %d batches", n, batches)
	}

	// Closing a stream early, and non-queries.
	res, err = v.x.ExecuteStream(ctx, query.Session{}, "SELECT * FROM demo")
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := res.Next(ctx); err != nil {
		t.Fatal(err)
	} else {
		rec.Release()
	}
	res.Release()
	res, err = v.x.ExecuteStream(ctx, query.Session{}, "INSERT INTO demo (t, name, value) VALUES (1, 'x', 2)")
	if err != nil || res.IsQuery() || res.AffectedRows != 1 {
		t.Fatalf("INSERT through ExecuteStream: %+v %v", res, err)
	}
	res, err = v.x.ExecuteStream(ctx, query.Session{}, "SHOW TABLES")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := res.Next(ctx)
	if err != nil || rec.NumRows() != 1 {
		t.Fatalf("SHOW TABLES streamed: %v %v", rec, err)
	}
	rec.Release()
	if _, err := res.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last batch: %v", err)
	}
	res.Release()
}
