package opentsdb_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/server/opentsdb"
)

// FuzzPut: the decoder never panics; a body it refuses (or the executor
// refuses) writes nothing; a body it accepts is written whole.
func FuzzPut(f *testing.F) {
	f.Add(`{"metric":"m","timestamp":1700000000,"value":1,"tags":{"h":"a"}}`)
	f.Add(`[{"metric":"m","timestamp":1700000000123,"value":"2.5","tags":{"h":"a","dc":"eu"}},{"metric":"n","timestamp":"1700000001","value":-3,"tags":{"h":"b"}}]`)
	f.Add(`[{"metric":"m","timestamp":1700000000,"value":1,"tags":{"h":"a"}},{"metric":"m","timestamp":1,"value":1,"tags":{"h":"a"}}]`)
	f.Add(`[{"metric":"m","timestamp":1700000000,"value":1,"tags":{"h":"a"}},{"metric":"m","timestamp":1700000000,"value":1,"tags":{"H":"a","h":"b"}}]`)
	f.Add(`{"metric":"température","timestamp":1700000000,"value":1e308,"tags":{"lieu":"Zürich","x\u0000":"\u0001"}}`)
	f.Add(`[{"metric":"m","timestamp":1700000000,"value":1,"tags":{"value2":"a"}},{"metric":"m","timestamp":1700000000,"value":1,"tags":{"Value2":"a"}}]`)
	f.Add(`[]`)
	f.Add(`[{"metric":"m","timestamp":1700000000,"value":1,"tags":{"h":1}}`)
	e := newEnv(f, 1<<20)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body string) {
		tables, points, bad, nbad, err := opentsdb.DecodePut([]byte(body), "timestamp")
		switch {
		case err != nil:
			if !errors.Is(err, opentsdb.ErrBadRequest) || tables != nil {
				t.Fatalf("error %v (tables %v)", err, tables)
			}
		case nbad > 0:
			if tables != nil || len(bad) == 0 || len(bad) > nbad || points < nbad {
				t.Fatalf("%d bad points (%d listed) of %d, tables %v", nbad, len(bad), points, tables)
			}
		default:
			rows := 0
			for _, tb := range tables {
				for _, r := range tb.Rows {
					rows++
					if len(r.Tags) == 0 || len(r.Fields) != 1 || int(r.Fields[0].Index) >= len(tb.Fields) {
						t.Fatalf("row %+v of %+v", r, tb)
					}
					for _, c := range r.Tags {
						if int(c.Index) >= len(tb.Tags) {
							t.Fatalf("tag index %d of %d", c.Index, len(tb.Tags))
						}
					}
				}
			}
			if rows != points {
				t.Fatalf("%d rows for %d points", rows, points)
			}
		}
		// Through the handler, into a database of its own.
		db := fmt.Sprintf("fuzz%d", n.Add(1))
		code, out := e.post(t, "/opentsdb/api/put", body, "x-horaedb-schema", db)
		written := 0
		for _, tbl := range e.x.TableNames(db) {
			rows := e.sql(t, db, "SELECT count(*) FROM "+ident(tbl))
			var c int
			fmt.Sscan(fmt.Sprint(rows[0][0]), &c)
			written += c
		}
		switch code {
		case 204:
			want := distinctPoints(tables)
			if err != nil || nbad > 0 || written != want {
				t.Fatalf("204, %d rows written, want %d (decode: %v, %d bad)", written, want, err, nbad)
			}
		case 400:
			if written != 0 {
				t.Fatalf("400 (%s) but %d rows written", out, written)
			}
		default:
			t.Fatalf("status %d: %s", code, out)
		}
	})
}

// distinctPoints counts points by table, tag set and timestamp: what an
// OVERWRITE table keeps.
func distinctPoints(tables []query.WriteTable) int {
	seen := map[string]bool{}
	for _, tb := range tables {
		for _, r := range tb.Rows {
			var kv []string
			for _, c := range r.Tags {
				kv = append(kv, fmt.Sprintf("%q=%q", tb.Tags[c.Index], c.Value.S))
			}
			slices.Sort(kv)
			seen[fmt.Sprintf("%q|%s|%d", tb.Table, strings.Join(kv, ","), r.Timestamp)] = true
		}
	}
	return len(seen)
}

func ident(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// FuzzQuery: the parser and planner never panic, every plan is SQL our
// parser reads, and a query over real data is answered 200 or refused 400,
// never 500.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		`{"start":1699999200,"end":1700000000,"queries":[{"metric":"m","aggregator":"sum","downsample":"1m-avg-zero","rate":true,"rateOptions":{"counter":true,"counterMax":100,"resetValue":5}}]}`,
		`{"start":"1h-ago","queries":[{"metric":"m","aggregator":"none","tags":{"host":"a|b'c"},"filters":[{"type":"wildcard","tagk":"dc","filter":"e*\\","groupBy":true}]}],"msResolution":true}`,
		`{"start":"2023/11/14-20:00:00","end":"now","queries":[{"metric":"m","aggregator":"zimsum","downsample":"0all-sum","filters":[{"type":"regexp","tagk":"host","filter":"^(a|b)$"}]}]}`,
		`{"start":"1699999200.5","queries":[{"metric":"m","aggregator":"mimmax","downsample":"30s-max","filters":[{"type":"not_iliteral_or","tagk":"we` + "`" + `ird","filter":"X|y"}]}]}`,
		`{"start":1,"queries":[{"metric":"m","aggregator":"dev","downsample":"1y-count-nan","explicitTags":true,"tags":{"dc":"iwildcard(E*)"}}]}`,
		`{"start":1699999200,"queries":[{"metric":"nope","aggregator":"sum"}]}`,
	} {
		f.Add(s)
	}
	e := newEnv(f, 1<<20)
	var pts []string
	for i := 0; i < 20; i++ {
		pts = append(pts, fmt.Sprintf(`{"metric":"m","timestamp":%d,"value":%d,"tags":{"host":"%c","dc":"%s","we`+"`"+`ird":"x"}}`,
			1699999200+i*17, i*i%7, 'a'+i%3, []string{"eu", "us"}[i%2]))
	}
	e.put(f, "["+strings.Join(pts, ",")+"]")
	tags := []string{"dc", "host", "we`ird"}
	f.Fuzz(func(t *testing.T, body string) {
		q, err := opentsdb.ParseQuery([]byte(body), now)
		if err == nil {
			sqls, err := opentsdb.PlanSQL(q, "timestamp", tags)
			if err != nil && !errors.Is(err, opentsdb.ErrBadRequest) {
				t.Fatalf("plan: %v", err)
			}
			for _, sql := range sqls {
				if _, err := parser.Parse(sql); err != nil {
					t.Fatalf("planned SQL does not parse: %v\n%s", err, sql)
				}
			}
		} else if !errors.Is(err, opentsdb.ErrBadRequest) {
			t.Fatalf("parse error %v does not wrap ErrBadRequest", err)
		}
		code, out := e.post(t, "/opentsdb/api/query", body)
		if code != 200 && code != 400 {
			t.Fatalf("status %d: %s", code, out)
		}
		if (code == 200) != (err == nil) && !strings.Contains(out, "No such name") && !strings.Contains(out, "narrow the range") {
			t.Fatalf("parse error %v but status %d: %.300s", err, code, out)
		}
	})
}
