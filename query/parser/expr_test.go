package parser

import (
	"fmt"
	"strings"
	"testing"
)

// exprCases parse "SELECT " + in. want is the canonical String() of the
// expression (empty: same as in) and tree its shape, fully bracketed, so
// that precedence is visible.
var exprCases = []struct {
	in, want, tree string
}{
	// Literals.
	{in: "1", tree: "1"},
	{in: "18446744073709551615", tree: "18446744073709551615"},
	{in: "18446744073709551616", tree: "float:18446744073709551616"},
	{in: "1.5", tree: "float:1.5"},
	{in: ".5", tree: "float:.5"},
	{in: "1e3", tree: "float:1e3"},
	{in: "2.5E-3", tree: "float:2.5E-3"},
	{in: "'it''s'", tree: `"it's"`},
	{in: `"dq"`, want: "'dq'", tree: `"dq"`},
	{in: `'a\'b\"c\\d\n\t\0\Z\%\_\x'`, want: `'a''b"c\\d\n\t\0\Z\\%\\_x'`, tree: `"a'b\"c\\d\n\t\x00\x1a\\%\\_x"`},
	{in: `"say ""hi"""`, want: `'say "hi"'`, tree: `"say \"hi\""`},
	{in: "x'0aFF'", want: "x'0aff'", tree: "hex:0aff"},
	{in: "0xABC", want: "x'0abc'", tree: "hex:0abc"},
	{in: "TRUE", tree: "true"},
	{in: "false", want: "FALSE", tree: "false"},
	{in: "null", want: "NULL", tree: "null"},
	{in: "TIMESTAMP '2001-01-01T00:00:00Z'", tree: "TIMESTAMP'2001-01-01T00:00:00Z'"},
	{in: "date '2021-01-01'", want: "DATE '2021-01-01'", tree: "DATE'2021-01-01'"},
	{in: "TIME '10:00:00'", tree: "TIME'10:00:00'"},
	{in: "INTERVAL '30' SECOND", tree: `(interval "30" SECOND)`},
	{in: "INTERVAL '1 hour'", tree: `(interval "1 hour")`},
	{in: "interval 2 day", want: "INTERVAL 2 DAY", tree: "(interval 2 DAY)"},
	{in: "INTERVAL '1' DAY + t", tree: `(+ (interval "1" DAY) t)`},
	{in: "INTERVAL -1 HOUR", tree: "(interval (- 1) HOUR)"},
	{in: "INTERVAL (1 + 2) MINUTE", tree: "(interval (+ 1 2) MINUTE)"},
	{in: "INTERVAL NOT a", want: "INTERVAL (NOT a)", tree: "(interval (not a))"},
	{in: "INTERVAL (INTERVAL '1') DAY", tree: `(interval (interval "1") DAY)`},
	{in: "INTERVAL INTERVAL '1' DAY HOUR", want: "INTERVAL (INTERVAL '1' DAY) HOUR", tree: `(interval (interval "1" DAY) HOUR)`},
	{in: "- INTERVAL '1' DAY", want: "-INTERVAL '1' DAY", tree: `(- (interval "1" DAY))`},

	// Names and calls.
	{in: "a", tree: "a"},
	{in: "t.a", tree: "t.a"},
	{in: "`T`.`a b`", tree: "T.a b"},
	{in: "db.t.a", tree: "db.t.a"},
	{in: "t.`select`", tree: "t.select"},
	{in: "t.order", want: "t.`order`", tree: "t.order"},
	{in: "timestamp", tree: "timestamp"},
	{in: "`timestamp`", tree: "timestamp"},
	{in: "value + tag", tree: "(+ value tag)"},
	{in: "名字", tree: "名字"},
	{in: "now()", tree: "now()"},
	{in: "NOW()", want: "now()", tree: "now()"},
	{in: "count(*)", tree: "count(*)"},
	{in: "count(t.*)", tree: "count(t.*)"},
	{in: "count(DISTINCT a, b)", tree: "count(distinct a b)"},
	{in: "`my func`(1)", tree: "my func(1)"},
	{in: "`exists`(1)", tree: "exists(1)"},
	{in: "`extract`(1)", tree: "extract(1)"},
	{in: "timestamp(1)", tree: "timestamp(1)"},
	{in: "date(t)", tree: "date(t)"},
	{in: "current_timestamp", want: "current_timestamp()", tree: "current_timestamp()"},
	{in: "LEFT('abc', 2)", want: "left('abc', 2)", tree: `left("abc" 2)`},
	{in: "EXTRACT(year FROM t)", want: "EXTRACT(YEAR FROM t)", tree: "(extract YEAR t)"},
	{in: "CAST(a AS bigint)", tree: "(cast a bigint)"},
	{in: "CAST(a AS VARCHAR(10))", want: "CAST(a AS varchar(10))", tree: "(cast a varchar(10))"},
	{in: "CAST(a AS DECIMAL(10, 2))", want: "CAST(a AS decimal(10, 2))", tree: "(cast a decimal(10, 2))"},
	{in: "CAST(a AS double precision)", tree: "(cast a double precision)"},
	{in: "CAST(a AS INT UNSIGNED)", want: "CAST(a AS int unsigned)", tree: "(cast a int unsigned)"},
	{in: "CAST(a AS UNSIGNED INTEGER)", want: "CAST(a AS unsigned)", tree: "(cast a unsigned)"},
	{in: "a::int", want: "CAST(a AS int)", tree: "(cast a int)"},
	{in: "-a::int", want: "-CAST(a AS int)", tree: "(- (cast a int))"},
	{in: "a::int::bigint", want: "CAST(CAST(a AS int) AS bigint)", tree: "(cast (cast a int) bigint)"},
	{in: "(SELECT 1)", tree: "(subquery SELECT 1)"},
	{in: "EXISTS (SELECT 1)", tree: "(exists SELECT 1)"},
	{in: "NOT EXISTS (SELECT 1)", tree: "(not (exists SELECT 1))"},
	{in: "CASE WHEN a > 1 THEN 'x' WHEN a < 0 THEN 'y' ELSE 'z' END", tree: `(case (when (> a 1) "x") (when (< a 0) "y") (else "z"))`},
	{in: "CASE a WHEN 1 THEN 2 END", tree: "(case a (when 1 2))"},

	// Precedence: arithmetic.
	{in: "1 + 2 * 3", tree: "(+ 1 (* 2 3))"},
	{in: "(1 + 2) * 3", tree: "(* (+ 1 2) 3)"},
	{in: "1 + (2 * 3)", want: "1 + 2 * 3", tree: "(+ 1 (* 2 3))"},
	{in: "1 - 2 - 3", tree: "(- (- 1 2) 3)"},
	{in: "1 - (2 - 3)", tree: "(- 1 (- 2 3))"},
	{in: "8 / 4 / 2", tree: "(/ (/ 8 4) 2)"},
	{in: "7 % 3 DIV 2", tree: "(DIV (% 7 3) 2)"},
	{in: "-1 * 2", tree: "(* (- 1) 2)"},
	{in: "-(1 * 2)", tree: "(- (* 1 2))"},
	{in: "- -1", tree: "(- (- 1))"},
	{in: "-(-1)", want: "- -1", tree: "(- (- 1))"},
	{in: "1 - -1", tree: "(- 1 (- 1))"},
	{in: "+1", tree: "(+ 1)"},
	{in: "+-+-1", want: "+ - + -1", tree: "(+ (- (+ (- 1))))"},
	{in: "'a' || 'b' || c", tree: `(|| (|| "a" "b") c)`},
	{in: "1 + 2 || 'x'", tree: `(+ 1 (|| 2 "x"))`},
	{in: "c3*2 + 1", want: "c3 * 2 + 1", tree: "(+ (* c3 2) 1)"},

	// Precedence: comparisons and logic.
	{in: "a = 1 AND b = 2 OR c = 3", tree: "(OR (AND (= a 1) (= b 2)) (= c 3))"},
	{in: "a = 1 AND (b = 2 OR c = 3)", tree: "(AND (= a 1) (OR (= b 2) (= c 3)))"},
	{in: "a OR b XOR c AND d", tree: "(OR a (XOR b (AND c d)))"},
	{in: "NOT a = b", tree: "(not (= a b))"},
	{in: "NOT a AND b", tree: "(AND (not a) b)"},
	{in: "NOT (a AND b)", tree: "(not (AND a b))"},
	{in: "(NOT a) = b", tree: "(= (not a) b)"},
	{in: "NOT NOT a", tree: "(not (not a))"},
	{in: "a != b", want: "a <> b", tree: "(<> a b)"},
	{in: "a <> b", tree: "(<> a b)"},
	{in: "a < b", tree: "(< a b)"},
	{in: "a <= b", tree: "(<= a b)"},
	{in: "a > b", tree: "(> a b)"},
	{in: "a >= b + 1", tree: "(>= a (+ b 1))"},
	{in: "a = b = c", tree: "(= (= a b) c)"},
	{in: "a = (b = c)", tree: "(= a (= b c))"},
	{in: "a + 1 > b AND c", tree: "(AND (> (+ a 1) b) c)"},

	// IS, LIKE, IN, BETWEEN.
	{in: "a IS NULL", tree: "(is a NULL)"},
	{in: "a IS NOT NULL AND b", tree: "(AND (is-not a NULL) b)"},
	{in: "a IS TRUE", tree: "(is a TRUE)"},
	{in: "a IS NOT FALSE", tree: "(is-not a FALSE)"},
	{in: "a IS UNKNOWN", tree: "(is a UNKNOWN)"},
	{in: "a = b IS NULL", tree: "(is (= a b) NULL)"},
	{in: "NOT a IS NULL", tree: "(not (is a NULL))"},
	{in: "(NOT a) IS NULL", tree: "(is (not a) NULL)"},
	{in: "a IS DISTINCT FROM b", tree: "(IS DISTINCT FROM a b)"},
	{in: "a IS NOT DISTINCT FROM b + 1", tree: "(IS NOT DISTINCT FROM a (+ b 1))"},
	{in: "name LIKE 'a%'", tree: `(like name "a%")`},
	{in: "name NOT LIKE 'a%' ESCAPE '!'", tree: `(not-like name "a%" escape "!")`},
	{in: "name ILIKE 'A%'", tree: `(ilike name "A%")`},
	{in: "a LIKE b = c", tree: "(= (like a b) c)"},
	{in: "a LIKE b ESCAPE c LIKE d", tree: "(like (like a b escape c) d)"},
	{in: "a IN (1, 2, 3)", tree: "(in a 1 2 3)"},
	{in: "a NOT IN ('x')", tree: `(not-in a "x")`},
	{in: "a IN (SELECT b FROM t)", tree: "(in a (subquery SELECT b FROM t))"},
	{in: "a NOT IN (SELECT b FROM t)", tree: "(not-in a (subquery SELECT b FROM t))"},
	{in: "a + 1 IN (b, c + 1)", tree: "(in (+ a 1) b (+ c 1))"},
	{in: "x BETWEEN 1 AND 2", tree: "(between x 1 2)"},
	{in: "x NOT BETWEEN 1 + 1 AND 2 * 3 AND y", tree: "(AND (not-between x (+ 1 1) (* 2 3)) y)"},
	{in: "x BETWEEN (a AND b) AND c", tree: "(between x (AND a b) c)"},
	{in: "x BETWEEN a AND b BETWEEN c AND d", tree: "(between (between x a b) c d)"},
	{in: "NOT x BETWEEN 1 AND 2", tree: "(not (between x 1 2))"},
}

func TestExpressions(t *testing.T) {
	for _, tc := range exprCases {
		t.Run(tc.in, func(t *testing.T) {
			e := parseExprForTest(t, tc.in)
			want := tc.want
			if want == "" {
				want = tc.in
			}
			if got := e.String(); got != want {
				t.Errorf("String():\n got: %s\nwant: %s", got, want)
			}
			if got := tree(e); got != tc.tree {
				t.Errorf("tree:\n got: %s\nwant: %s", got, tc.tree)
			}
			if got := tree(parseExprForTest(t, want)); got != tc.tree {
				t.Errorf("tree of the printed form:\n got: %s\nwant: %s", got, tc.tree)
			}
		})
	}
}

func parseExprForTest(t *testing.T, in string) Expr {
	t.Helper()
	q := parseAs[*Query](t, "SELECT "+in)
	items := q.Body.(*Select).Items
	if len(items) != 1 || !items[0].Alias.IsZero() {
		t.Fatalf("SELECT %s: want one unaliased item, got %v", in, items)
	}
	return items[0].Expr
}

// tree prints an expression fully bracketed, to make its shape visible.
func tree(e Expr) string {
	switch e := e.(type) {
	case *IntLit:
		return fmt.Sprint(e.Value)
	case *FloatLit:
		return "float:" + e.Text
	case *StringLit:
		return fmt.Sprintf("%q", e.Value)
	case *HexLit:
		return fmt.Sprintf("hex:%x", e.Value)
	case *BoolLit:
		return fmt.Sprint(e.Value)
	case *NullLit:
		return "null"
	case *TypedLit:
		return e.Type + "'" + e.Value + "'"
	case *IntervalExpr:
		if e.Unit == "" {
			return "(interval " + tree(e.Value) + ")"
		}
		return "(interval " + tree(e.Value) + " " + e.Unit + ")"
	case *ColumnRef:
		var parts []string
		for _, id := range e.Table {
			parts = append(parts, id.Name)
		}
		return strings.Join(append(parts, e.Column.Name), ".")
	case *Wildcard:
		if len(e.Table) > 0 {
			return e.Table.Table().Name + ".*"
		}
		return "*"
	case *UnaryExpr:
		return "(" + strings.ToLower(e.Op.String()) + " " + tree(e.X) + ")"
	case *BinaryExpr:
		return "(" + e.Op.String() + " " + tree(e.Left) + " " + tree(e.Right) + ")"
	case *IsExpr:
		op := "is"
		if e.Not {
			op = "is-not"
		}
		test := [...]string{IsNull: "NULL", IsTrue: "TRUE", IsFalse: "FALSE", IsUnknown: "UNKNOWN"}[e.Test]
		return "(" + op + " " + tree(e.X) + " " + test + ")"
	case *LikeExpr:
		op := "like"
		if e.CaseInsensitive {
			op = "ilike"
		}
		if e.Not {
			op = "not-" + op
		}
		s := "(" + op + " " + tree(e.X) + " " + tree(e.Pattern)
		if e.Escape != nil {
			s += " escape " + tree(e.Escape)
		}
		return s + ")"
	case *InListExpr:
		s := "(" + not(e.Not) + "in " + tree(e.X)
		for _, x := range e.List {
			s += " " + tree(x)
		}
		return s + ")"
	case *InSubqueryExpr:
		return "(" + not(e.Not) + "in " + tree(e.X) + " (subquery " + e.Query.String() + "))"
	case *BetweenExpr:
		return "(" + not(e.Not) + "between " + tree(e.X) + " " + tree(e.Low) + " " + tree(e.High) + ")"
	case *CaseExpr:
		s := "(case"
		if e.Operand != nil {
			s += " " + tree(e.Operand)
		}
		for _, w := range e.Whens {
			s += " (when " + tree(w.Cond) + " " + tree(w.Result) + ")"
		}
		if e.Else != nil {
			s += " (else " + tree(e.Else) + ")"
		}
		return s + ")"
	case *CastExpr:
		return "(cast " + tree(e.X) + " " + e.Type.String() + ")"
	case *ExtractExpr:
		return "(extract " + e.Field + " " + tree(e.X) + ")"
	case *FuncCall:
		var args []string
		if e.Distinct {
			args = append(args, "distinct")
		}
		for _, a := range e.Args {
			args = append(args, tree(a))
		}
		return e.Name + "(" + strings.Join(args, " ") + ")"
	case *SubqueryExpr:
		return "(subquery " + e.Query.String() + ")"
	case *ExistsExpr:
		return "(exists " + e.Query.String() + ")"
	}
	return fmt.Sprintf("<%T>", e)
}

func not(b bool) string {
	if b {
		return "not-"
	}
	return ""
}
