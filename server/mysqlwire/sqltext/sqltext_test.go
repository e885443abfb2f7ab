package sqltext

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/horaego/horaedb/query/parser"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ;; ", nil},
		{"SELECT 1", []string{"SELECT 1"}},
		{"SELECT 1;", []string{"SELECT 1"}},
		{" SELECT 1 ; SELECT 2 ", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT ';'; SELECT \";\"", []string{"SELECT ';'", "SELECT \";\""}},
		{"SELECT 'a\\';'; SELECT 2", []string{"SELECT 'a\\';'", "SELECT 2"}},
		{"SELECT `a;b` FROM t; -- c; d\n", []string{"SELECT `a;b` FROM t"}},
		{"/* ; */ SELECT 1 /* ; */; /* only a comment */", []string{"/* ; */ SELECT 1 /* ; */"}},
		{"SELECT 'unterminated; SELECT 2", []string{"SELECT 'unterminated; SELECT 2"}},
	} {
		if got := Split(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTokenize(t *testing.T) {
	toks := Tokenize("/* c */ SELECT @@session.x, 'it''s', `a``b`, x'0a', 1.5e3 -- end", NoPlaceholders)
	var got []string
	for _, tok := range toks {
		got = append(got, fmt.Sprintf("%d:%s", tok.Kind, tok.Value))
	}
	want := []string{"1:SELECT", "7:@", "7:@", "1:session", "7:.", "1:x", "7:,", "3:it's", "7:,",
		"4:a`b", "7:,", "5:x'0a'", "7:,", "2:1.5e3"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokenize = %q\nwant       %q", got, want)
	}
}

func TestTemplate(t *testing.T) {
	lit := func(s ...string) [][]byte {
		var out [][]byte
		for _, x := range s {
			out = append(out, []byte(x))
		}
		return out
	}
	for _, tc := range []struct {
		sql   string
		style Style
		n     int
		args  [][]byte
		want  string
	}{
		{"SELECT 1", QuestionMark, 0, nil, "SELECT 1"},
		{"SELECT ?, ?", QuestionMark, 2, lit("1", "'a'"), "SELECT 1, 'a'"},
		{"SELECT '?', `?`, \"?\" -- ?\n, ? /* ? */", QuestionMark, 1, lit("2"), "SELECT '?', `?`, \"?\" -- ?\n, 2 /* ? */"},
		{"SELECT 'a\\'?', ?", QuestionMark, 1, lit("3"), "SELECT 'a\\'?', 3"},
		{"SELECT x?", QuestionMark, 1, lit("'b'"), "SELECT x 'b'"},
		{"SELECT 5 -?", QuestionMark, 1, lit("(-1)"), "SELECT 5 - (-1)"},
		{"SELECT 'a'?'b'", QuestionMark, 1, lit("'c'"), "SELECT 'a' 'c' 'b'"},
		{"SELECT a$1", Dollar, 0, nil, "SELECT a$1"},
		{"SELECT $2, $1, $2", Dollar, 2, lit("1", "2"), "SELECT 2, 1, 2"},
		{"SELECT $1::bigint", Dollar, 1, lit("'7'"), "SELECT '7' ::bigint"},
		{"SELECT ? $1", Dollar, 1, lit("1"), "SELECT ? 1"},
		{"INSERT INTO t VALUES (?,?)", QuestionMark, 2, lit("1", "NULL"), "INSERT INTO t VALUES (1,NULL)"},
		{"SELECT é?", QuestionMark, 1, lit("1"), "SELECT é 1"},
	} {
		tmpl, err := NewTemplate(tc.sql, tc.style)
		if err != nil {
			t.Fatalf("NewTemplate(%q): %v", tc.sql, err)
		}
		if tmpl.NumParams() != tc.n {
			t.Errorf("NumParams(%q) = %d, want %d", tc.sql, tmpl.NumParams(), tc.n)
			continue
		}
		got, err := tmpl.Bind(tc.args)
		if err != nil || got != tc.want {
			t.Errorf("Bind(%q) = %q, %v; want %q", tc.sql, got, err, tc.want)
		}
	}
	for _, bad := range []string{"SELECT $0", "SELECT $65536", "SELECT $99999999999999999999"} {
		if _, err := NewTemplate(bad, Dollar); err == nil {
			t.Errorf("NewTemplate(%q) accepted it", bad)
		}
	}
	tmpl, _ := NewTemplate("SELECT ?", QuestionMark)
	if _, err := tmpl.Bind(nil); err == nil {
		t.Error("Bind with too few parameters succeeded")
	}
}

// TestLiterals checks that every literal parses back to its value.
func TestLiterals(t *testing.T) {
	for _, tc := range []struct {
		lit  []byte
		want string // the literal as query/parser prints it back
	}{
		{AppendNull(nil), "NULL"},
		{AppendBool(nil, true), "TRUE"},
		{AppendBool(nil, false), "FALSE"},
		{AppendInt(nil, 42), "42"},
		{AppendInt(nil, -42), "-42"},
		{AppendInt(nil, math.MinInt64), "-9223372036854775808"},
		{AppendUint(nil, math.MaxUint64), "18446744073709551615"},
		{AppendFloat(nil, 2, 64), "2.0"},
		{AppendFloat(nil, -0.5, 64), "-0.5"},
		{AppendFloat(nil, 1e21, 64), "1e+21"},
		{AppendFloat(nil, float64(float32(1.1)), 32), "1.1"},
		{AppendFloat(nil, math.NaN(), 64), "CAST('NaN' AS double)"},
		{AppendFloat(nil, math.Inf(-1), 64), "CAST('-Infinity' AS double)"},
		{AppendString(nil, "it's a \\ back'slash"), `'it''s a \\ back''slash'`},
		{AppendString(nil, "\x00\n%_"), `'\0\n%_'`},
		{AppendBytes(nil, []byte{0, 0xff}), "x'00ff'"},
		{AppendTimestamp(nil, time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.FixedZone("", 8*3600))), "'2024-01-02T03:04:05.123+08:00'"},
	} {
		stmt, err := parser.Parse("SELECT " + string(tc.lit))
		if err != nil {
			t.Errorf("SELECT %s: %v", tc.lit, err)
			continue
		}
		q := stmt.(*parser.Query).Body.(*parser.Select)
		if got := q.Items[0].Expr.String(); got != tc.want {
			t.Errorf("%s parses as %s, want %s", tc.lit, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"1", "1"}, {"-1.50", "(-1.50)"}, {"+.5", ".5"}, {"1e-3", "1e-3"}, {"5.", "5."},
	} {
		got, err := AppendDecimal(nil, tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("AppendDecimal(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1e", "e5", "1x", "1 OR 1=1", "0x10", "1--", "NaN"} {
		if _, err := AppendDecimal(nil, bad); err == nil {
			t.Errorf("AppendDecimal(%q) accepted it", bad)
		}
	}
}

// FuzzBind checks that binding is injection-safe: whatever the value of a
// string or bytes parameter, the bound statement parses to the same tree as
// the statement bound to a harmless reference value, except that each
// placeholder's position holds the parameter, as one literal. The
// statement text is fuzzed too (placeholders next to words, quotes,
// comments...).
func FuzzBind(f *testing.F) {
	for _, seed := range []struct {
		sql, val string
		dollar   bool
	}{
		{"SELECT ?", "a", false},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "x' OR '1'='1", false},
		{"INSERT INTO t (a, b) VALUES (?, ?)", "a\\', 1); DROP TABLE t; --", false},
		{"SELECT x?", "ab", false},
		{"SELECT 'a'?'b'", "'", false},
		{"SELECT 5 -?", "-- c", false},
		{"SELECT ? /* ? */ -- ?", "*/ 1", false},
		{"SELECT $1, $2, $1", "\\", true},
		{"SELECT a FROM t WHERE b LIKE $1", "%\\_", true},
		{"SELECT \"?\", ?", "\"", false},
		{"SELECT ?", "\x00\xff\xfe", false},
	} {
		f.Add(seed.sql, seed.val, seed.dollar)
	}
	f.Fuzz(func(t *testing.T, sql, val string, dollar bool) {
		style := QuestionMark
		if dollar {
			style = Dollar
		}
		tmpl, err := NewTemplate(sql, style)
		if err != nil || tmpl.NumParams() == 0 || tmpl.NumParams() > 16 {
			return
		}
		ref := "z"
		if val == ref {
			ref = "y"
		}
		checkBound(t, tmpl, func(dst []byte, v string) []byte { return AppendString(dst, v) }, val, ref)
		checkBound(t, tmpl, func(dst []byte, v string) []byte { return AppendBytes(dst, []byte(v)) }, val, ref)
	})
}

// checkBound binds every parameter of tmpl to lit(val) and to lit(ref) and
// compares the trees.
func checkBound(t *testing.T, tmpl *Template, lit func([]byte, string) []byte, val, ref string) {
	t.Helper()
	bind := func(v string) string {
		args := make([][]byte, tmpl.NumParams())
		for i := range args {
			args[i] = lit(nil, v)
		}
		s, err := tmpl.Bind(args)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	withVal, withRef := bind(val), bind(ref)
	got, errVal := parser.Parse(withVal)
	want, errRef := parser.Parse(withRef)
	if (errVal == nil) != (errRef == nil) {
		t.Fatalf("the value decides whether the statement parses:\n%q: %v\n%q: %v", withVal, errVal, withRef, errRef)
	}
	if errVal != nil {
		return
	}
	n, ok := substitutions(reflect.ValueOf(want), reflect.ValueOf(got), ref, val)
	if !ok {
		t.Fatalf("the value changed the statement:\n%q parses as %s\n%q parses as %s", withRef, want, withVal, got)
	}
	if n != len(tmpl.holes) {
		t.Fatalf("%q: the value appears %d times in the tree, want once per placeholder (%d)", withVal, n, len(tmpl.holes))
	}
}

// substitutions walks two trees in parallel and counts the places where a
// has the string ref and b the string val (a string field, or a []byte for
// binary literals). ok is false when the trees differ otherwise.
func substitutions(a, b reflect.Value, ref, val string) (n int, ok bool) {
	if a.Kind() != b.Kind() || a.Type() != b.Type() {
		return 0, false
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return 0, a.IsNil() == b.IsNil()
		}
		return substitutions(a.Elem(), b.Elem(), ref, val)
	case reflect.Slice:
		if a.Type().Elem().Kind() == reflect.Uint8 {
			if bytes.Equal(a.Bytes(), b.Bytes()) {
				return 0, true
			}
			return 1, string(a.Bytes()) == ref && string(b.Bytes()) == val
		}
		if a.Len() != b.Len() {
			return 0, false
		}
		for i := 0; i < a.Len(); i++ {
			k, ok := substitutions(a.Index(i), b.Index(i), ref, val)
			if !ok {
				return 0, false
			}
			n += k
		}
		return n, true
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			k, ok := substitutions(a.Field(i), b.Field(i), ref, val)
			if !ok {
				return 0, false
			}
			n += k
		}
		return n, true
	case reflect.String:
		if a.String() == b.String() {
			return 0, true
		}
		return 1, a.String() == ref && b.String() == val
	case reflect.Bool:
		return 0, a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return 0, a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return 0, a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return 0, x == y || x != x && y != y
	}
	return 0, false
}
