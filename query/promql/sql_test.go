package promql

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query/parser"
)

func testTable(name string, tags ...string) *table {
	t := &table{name: name, timestamp: "timestamp", tsid: true, field: DefaultField}
	for _, tag := range tags {
		kind := schema.String
		if strings.HasPrefix(tag, "int_") {
			kind = schema.Int64
		}
		t.tags = append(t.tags, tagColumn{tag, kind})
	}
	slices.SortFunc(t.tags, func(a, b tagColumn) int { return strings.Compare(a.name, b.name) })
	return t
}

func TestSamplesSQL(t *testing.T) {
	tbl := testTable("cpu", "host", "region", "int_core")
	r := timeRange{1000, 2000}
	base := "SELECT `tsid`, `timestamp`, `value`, `host`, `int_core`, `region` FROM `cpu` WHERE `timestamp` >= 1000 AND `timestamp` <= 2000"
	for _, tc := range []struct {
		name     string
		matchers []*labels.Matcher
		want     string // "" when no row can match
	}{
		{"none", nil, base},
		{"eq", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "host", "a")}, base + " AND `host` = 'a'"},
		{"eq empty", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "host", "")}, base + " AND (`host` IS NULL OR `host` = '')"},
		{"neq", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotEqual, "host", "a")}, base + " AND (`host` IS NULL OR `host` <> 'a')"},
		{"neq empty", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotEqual, "host", "")}, base + " AND `host` <> ''"},
		{"re", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "host", "a.*")}, base + " AND regexp_like(`host`, '^(?s:a.*)$')"},
		{"re set", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "host", "a|b")}, base + " AND `host` IN ('a', 'b')"},
		{"re all", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "host", ".*")}, base},
		{"nre", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotRegexp, "host", "a.+")}, base + " AND (`host` IS NULL OR NOT regexp_like(`host`, '^(?s:a.+)$'))"},
		{"nre set", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotRegexp, "host", "a|b")}, base + " AND (`host` IS NULL OR `host` NOT IN ('a', 'b'))"},
		{"invalid UTF-8", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "host", "\x80")}, base + " AND `host` IN ('\x80')"},
		{"nre all", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotRegexp, "host", ".*")}, ""},
		{"re empty too", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "host", "a?")}, base + " AND (`host` IS NULL OR regexp_like(`host`, '^(?s:a?)$'))"},
		{"quotes", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "host", `it's a \ test`)}, base + ` AND ` + "`host`" + ` = 'it''s a \\ test'`},
		{"absent label, matches empty", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotEqual, "zone", "x")}, base},
		{"absent label, needs value", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "zone", "x")}, ""},
		{"int tag: checked on the labels", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "int_core", "3")}, base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := parseSelector(tc.matchers)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := sel.samplesSQL(tbl, r, true)
			if !ok {
				got = ""
			}
			if got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
			if got != "" {
				if _, err := parser.Parse(got); err != nil {
					t.Fatalf("%s: %v", got, err)
				}
			}
		})
	}
}

func TestSeriesSQL(t *testing.T) {
	sel, _ := parseSelector([]*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "host", "a")})
	r := timeRange{1, 2}
	got, _ := sel.seriesSQL(testTable("cpu", "host", "region"), r, nil)
	want := "SELECT DISTINCT `host`, `region` FROM `cpu` WHERE `timestamp` >= 1 AND `timestamp` <= 2 AND `host` = 'a' AND `value` IS NOT NULL"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if _, ok := sel.seriesSQL(testTable("up"), r, nil); ok {
		t.Fatal("host=a matches in a table without host")
	}
	got, _ = (&selector{field: DefaultField}).seriesSQL(testTable("up"), r, nil)
	want = "SELECT `timestamp` FROM `up` WHERE `timestamp` >= 1 AND `timestamp` <= 2 AND `value` IS NOT NULL LIMIT 1"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestTagsSQL(t *testing.T) {
	sel := &selector{field: DefaultField}
	tbl := testTable("cpu", "host")
	got, _ := sel.samplesSQL(tbl, timeRange{1, 2}, false)
	want := "SELECT `tsid`, `timestamp`, `value` FROM `cpu` WHERE `timestamp` >= 1 AND `timestamp` <= 2"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	got = tagsSQL(tbl, timeRange{1, 2}, []uint64{1, 18446744073709551615})
	want = "SELECT DISTINCT `tsid`, `host` FROM `cpu` WHERE `timestamp` >= 1 AND `timestamp` <= 2 AND `tsid` IN (1, 18446744073709551615)"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := parser.Parse(got); err != nil {
		t.Fatal(err)
	}
}

func TestParseSelector(t *testing.T) {
	sel, err := parseSelector([]*labels.Matcher{
		labels.MustNewMatcher(labels.MatchRegexp, "__name__", "c.*"),
		labels.MustNewMatcher(labels.MatchEqual, LabelField, "f"),
		labels.MustNewMatcher(labels.MatchEqual, "a", "b"),
	})
	if err != nil || sel.field != "f" || len(sel.names) != 1 || len(sel.tags) != 1 || sel.exactTable() != "" {
		t.Fatalf("%+v %v", sel, err)
	}
	if !sel.matchesTable("cpu") || sel.matchesTable("mem") {
		t.Fatal("matchesTable")
	}
	for _, m := range []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchRegexp, LabelField, "f"),
		labels.MustNewMatcher(labels.MatchEqual, LabelField, ""),
	} {
		if _, err := parseSelector([]*labels.Matcher{m}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", m, err)
		}
	}
}

// FuzzSelectorSQL: any matchers on any table give a statement our parser
// accepts, whose identifiers and string literals are exactly the names and
// values given (so quoting holds), and whose regexps compile; or no
// statement, or an error. Never a panic.
func FuzzSelectorSQL(f *testing.F) {
	f.Add("cpu", "host", "a", uint8(0), "region", "x|y", uint8(2), "value")
	f.Add("c`p'u", "h`o\\st", `it's \ a`, uint8(1), "zone", ".*", uint8(3), "v'al")
	f.Add("m", "__name__", "m.*", uint8(2), "__horaedb_field__", "other", uint8(0), "value")
	f.Add("m", "a", "(?i)B|c", uint8(2), "int_b", "1", uint8(1), "value")
	f.Add("m", "a", "", uint8(0), "b", ".+", uint8(3), "value")
	f.Fuzz(func(t *testing.T, tableName, n1, v1 string, t1 uint8, n2, v2 string, t2 uint8, field string) {
		if tableName == "" || field == "" || strings.ContainsRune(tableName+field+n1+n2, 0) {
			return
		}
		var ms []*labels.Matcher
		for _, m := range []struct {
			name, value string
			typ         uint8
		}{{n1, v1, t1}, {n2, v2, t2}} {
			lm, err := labels.NewMatcher(labels.MatchType(m.typ%4), m.name, m.value)
			if err != nil {
				return // not a valid regexp: Prometheus' parser rejects it first
			}
			ms = append(ms, lm)
		}
		sel, err := parseSelector(ms)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		var tags []string
		for _, m := range ms {
			if m.Name != "" && m.Name != LabelMetricName && m.Name != LabelField && !slices.Contains(tags, m.Name) &&
				m.Name != "timestamp" && m.Name != field && m.Name != "tsid" {
				tags = append(tags, m.Name)
			}
		}
		tbl := testTable(tableName, tags...)
		tbl.field = field
		r := timeRange{-5, 1 << 50}
		check := func(sql string) {
			stmt, err := parser.Parse(sql)
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			checkStatement(t, sql, stmt, tbl, ms)
		}
		for _, withTags := range []bool{true, false} {
			if sql, ok := sel.samplesSQL(tbl, r, withTags); ok {
				check(sql)
			}
		}
		if sql, ok := sel.seriesSQL(tbl, r, nil); ok {
			check(sql)
		}
	})
}

// checkStatement checks the table, the columns and the string literals of
// a statement built for ms over tbl.
func checkStatement(t *testing.T, sql string, stmt parser.Statement, tbl *table, ms []*labels.Matcher) {
	t.Helper()
	q, ok := stmt.(*parser.Query)
	if !ok {
		t.Fatalf("%s: parsed as %T", sql, stmt)
	}
	s, ok := q.Body.(*parser.Select)
	if !ok || len(s.From) != 1 {
		t.Fatalf("%s: not a select from one table", sql)
	}
	if tn, ok := s.From[0].(*parser.TableName); !ok || tn.Name.Table().Name != tbl.name {
		t.Fatalf("%s: table is %v, want %q", sql, s.From[0], tbl.name)
	}
	columns := []string{"tsid", tbl.timestamp, tbl.field}
	for _, c := range tbl.tags {
		columns = append(columns, c.name)
	}
	literals := []string{""}
	for _, m := range ms {
		literals = append(literals, m.Value, "^(?s:"+m.Value+")$")
		literals = append(literals, m.SetMatches()...)
	}
	var walk func(e parser.Expr)
	walk = func(e parser.Expr) {
		switch e := e.(type) {
		case nil:
		case *parser.ColumnRef:
			if !slices.Contains(columns, e.Column.Name) {
				t.Fatalf("%s: column %q is none of %q", sql, e.Column.Name, columns)
			}
		case *parser.StringLit:
			if !slices.Contains(literals, e.Value) {
				t.Fatalf("%s: literal %q is none of %q", sql, e.Value, literals)
			}
		case *parser.IntLit:
		case *parser.UnaryExpr:
			walk(e.X)
		case *parser.BinaryExpr:
			walk(e.Left)
			walk(e.Right)
		case *parser.IsExpr:
			walk(e.X)
		case *parser.InListExpr:
			walk(e.X)
			for _, x := range e.List {
				walk(x)
			}
		case *parser.FuncCall:
			if e.Name != "regexp_like" || len(e.Args) != 2 {
				t.Fatalf("%s: call of %s", sql, e.Name)
			}
			walk(e.Args[0])
			walk(e.Args[1])
			if lit, ok := e.Args[1].(*parser.StringLit); ok {
				if _, err := regexp.Compile(lit.Value); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
		default:
			t.Fatalf("%s: unexpected %T", sql, e)
		}
	}
	for _, it := range s.Items {
		walk(it.Expr)
	}
	walk(s.Where)
}
