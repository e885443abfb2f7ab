package parser

import (
	"errors"
	"reflect"
	"testing"
)

// fuzzSeeds returns every SQL text the other tests use.
func fuzzSeeds() []string {
	var seeds []string
	for _, tc := range roundTripCases {
		seeds = append(seeds, tc.in)
	}
	for _, tc := range exprCases {
		seeds = append(seeds, "SELECT "+tc.in)
	}
	for _, tc := range errorCases {
		seeds = append(seeds, tc.in)
	}
	for _, tc := range lexCases {
		seeds = append(seeds, tc.in)
	}
	return append(seeds, benchInsert(100), benchSelect)
}

// FuzzParse checks that Parse never panics, that its errors are *Error, and
// that printing is stable: when Parse accepts a text, it accepts its
// String() too and prints that back unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmt, err := Parse(sql)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) returned %T %v, want *Error matching ErrSyntax", sql, err, err)
			}
			return
		}
		printed := stmt.String()
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which does not parse: %v", sql, printed, err)
		}
		if got := again.String(); got != printed {
			t.Fatalf("printing is not stable for %q:\nfirst:  %s\nsecond: %s", sql, printed, got)
		}
		if !sameTree(stmt, again) {
			t.Fatalf("%q printed as %q, which parses to a different tree", sql, printed)
		}
	})
}

// sameTree reports whether two trees are equal up to identifier quoting:
// printing backquotes a name that is a reserved word, so Quoted may change.
func sameTree(a, b Statement) bool {
	return reflect.DeepEqual(unquoted(reflect.ValueOf(a)), unquoted(reflect.ValueOf(b)))
}

// unquoted returns a deep copy of v with every Ident.Quoted cleared.
func unquoted(v reflect.Value) any {
	c := reflect.New(v.Type()).Elem()
	copyUnquoted(c, v)
	return c.Interface()
}

func copyUnquoted(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			dst.Set(reflect.New(src.Type().Elem()))
			copyUnquoted(dst.Elem(), src.Elem())
		}
	case reflect.Interface:
		if !src.IsNil() {
			e := reflect.New(src.Elem().Type()).Elem()
			copyUnquoted(e, src.Elem())
			dst.Set(e)
		}
	case reflect.Slice:
		if !src.IsNil() {
			dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
			for i := 0; i < src.Len(); i++ {
				copyUnquoted(dst.Index(i), src.Index(i))
			}
		}
	case reflect.Struct:
		if src.Type() == reflect.TypeFor[Ident]() {
			dst.Set(reflect.ValueOf(Ident{Name: src.Interface().(Ident).Name}))
			return
		}
		for i := 0; i < src.NumField(); i++ {
			copyUnquoted(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}

func TestSameTree(t *testing.T) {
	parse := func(s string) Statement {
		t.Helper()
		stmt, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return stmt
	}
	if !sameTree(parse("SELECT `a` FROM `t`"), parse("SELECT a FROM t")) {
		t.Error("quoting must not matter")
	}
	for _, pair := range [][2]string{
		{"SELECT 1", "SELECT 2"},
		{"SELECT a FROM t", "SELECT a FROM u"},
		{"SELECT INTERVAL (INTERVAL '1') DAY", "SELECT INTERVAL INTERVAL '1' DAY"},
		{"CREATE TABLE t (a int TAG)", "CREATE TABLE t (a int)"},
	} {
		if sameTree(parse(pair[0]), parse(pair[1])) {
			t.Errorf("%q and %q must differ", pair[0], pair[1])
		}
	}
}
