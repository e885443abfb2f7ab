package promremote

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query/parser"
)

// The tests of the translation of remote-read queries into SQL, moved with
// it from server/grpcapi (whose PromRemoteQuery tests still run it end to
// end over gRPC).

func eq(name, value string) *prompb.LabelMatcher {
	return &prompb.LabelMatcher{Type: prompb.LabelMatcher_EQ, Name: name, Value: value}
}

func matcher(typ prompb.LabelMatcher_Type, name, value string) *prompb.LabelMatcher {
	return &prompb.LabelMatcher{Type: typ, Name: name, Value: value}
}

// TestPromSQL checks the statement for a table with odd names and values,
// and for one without tsid.
func TestPromSQL(t *testing.T) {
	pq, err := parsePromQuery(&prompb.Query{StartTimestampMs: -5, EndTimestampMs: 9,
		Matchers: []*prompb.LabelMatcher{eq(LabelMetricName, "we`ird"), eq("h`", `it's \ok`), eq("num", "1"),
			matcher(prompb.LabelMatcher_NEQ, "h`", "x")}})
	if err != nil {
		t.Fatal(err)
	}
	tab := promTable{tsid: true, timestamp: "t", tags: []promColumn{{"h`", schema.String}, {"num", schema.Int64}}}
	sql, ok := pq.sql(tab)
	want := "SELECT `tsid`, `t`, `value`, `h```, `num` FROM `we``ird` WHERE `t` >= -5 AND `t` <= 9 AND `h``` = 'it''s \\\\ok' " +
		"AND (`h``` IS NULL OR `h``` <> 'x') ORDER BY `tsid`, `t`"
	if !ok || sql != want || !pq.matchers[1].inGo || pq.matchers[0].inGo {
		t.Errorf("got  %s\nwant %s", sql, want)
	}
	if _, err := parser.Parse(sql); err != nil {
		t.Errorf("does not parse: %v", err)
	}
	tab.tsid = false
	if sql, _ := pq.sql(tab); !strings.HasSuffix(sql, "ORDER BY `t`") || strings.Contains(sql, "tsid") {
		t.Errorf("without tsid: %s", sql)
	}
}

// FuzzPromQuote checks that quoted identifiers and strings parse back to
// what was quoted, so no label value or metric name can change the
// statement Read runs.
func FuzzPromQuote(f *testing.F) {
	f.Add("cpu", "host", "a")
	f.Add("we`ird", "h``", `it's \' \\ok`)
	f.Add("x", "y", "'; DROP TABLE x; --")
	f.Fuzz(func(t *testing.T, table, tag, value string) {
		if table == "" || tag == "" {
			return
		}
		pq, err := parsePromQuery(&prompb.Query{Matchers: []*prompb.LabelMatcher{eq(LabelMetricName, table), eq(tag, value)}})
		if err != nil {
			return // a label with a special name
		}
		sql, ok := pq.sql(promTable{timestamp: "t", tags: []promColumn{{tag, schema.String}}})
		if !ok {
			return
		}
		stmt, err := parser.Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		sel, ok := stmt.(*parser.Query).Body.(*parser.Select)
		if !ok {
			t.Fatalf("%s: not one SELECT", sql)
		}
		if from := sel.From[0].(*parser.TableName).Name.Table().Name; from != table {
			t.Fatalf("%s: table %q, want %q", sql, from, table)
		}
		if value == "" {
			return // no filter for an empty value
		}
		and := sel.Where.(*parser.BinaryExpr)
		cmp := and.Right.(*parser.BinaryExpr)
		if col := cmp.Left.(*parser.ColumnRef).Column.Name; col != tag {
			t.Fatalf("%s: column %q, want %q", sql, col, tag)
		}
		if lit := cmp.Right.(*parser.StringLit).Value; lit != value {
			t.Fatalf("%s: literal %q, want %q", sql, lit, value)
		}
	})
}
