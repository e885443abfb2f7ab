package parser

import (
	"errors"
	"strings"
	"testing"
)

// errorCases are inputs Parse must refuse, with the exact error text.
// unsupported marks errors that must also match ErrUnsupported.
var errorCases = []struct {
	in, want    string
	unsupported bool
}{
	// Reference wording.
	{in: "CREATE TABLE t (d DOUBLE DICTIONARY, t timestamp NOT NULL, TIMESTAMP KEY(t))",
		want: `syntax error at line 1, column 26: Only string column can be dictionary encoded: "d DOUBLE DICTIONARY"`},
	{in: "CREATE TABLE t (d DECIMAL(10, 2))", want: "syntax error at line 1, column 19: unsupported data type: DECIMAL", unsupported: true},
	{in: "CREATE TABLE t (v varchar(10))", want: "syntax error at line 1, column 19: unsupported data type: varchar", unsupported: true},
	{in: "ALTER TABLE t ADD COLUMN d int DICTIONARY",
		want: `syntax error at line 1, column 32: Only string column can be dictionary encoded: "d int DICTIONARY"`},
	{in: "SELECT 1; SELECT 2", want: "syntax error at line 1, column 11: Only support execute one statement now, current num:2"},
	{in: "ALTER TABLE t RENAME TO u", want: "syntax error at line 1, column 15: Unsupported SQL statement: ALTER TABLE supports only ADD COLUMN and MODIFY SETTING, found 'RENAME'", unsupported: true},
	{in: "ALTER TABLE t DROP COLUMN c", want: "syntax error at line 1, column 15: Unsupported SQL statement: ALTER TABLE supports only ADD COLUMN and MODIFY SETTING, found 'DROP'", unsupported: true},
	{in: "ALTER TABLE t MODIFY COLUMN c int", want: "syntax error at line 1, column 15: Unsupported SQL statement: ALTER TABLE supports only ADD COLUMN and MODIFY SETTING, found 'MODIFY'", unsupported: true},
	{in: "ALTER TABLE t ADD INDEX i (a)", want: "syntax error at line 1, column 19: Unsupported SQL statement: ALTER TABLE ... ADD INDEX (only ADD COLUMN is supported)", unsupported: true},
	{in: "ALTER DATABASE d", want: "syntax error at line 1, column 7: Unsupported SQL statement: ALTER DATABASE", unsupported: true},
	{in: "DELETE FROM t WHERE a = 1", want: "syntax error at line 1, column 1: Unsupported SQL statement: DELETE", unsupported: true},
	{in: "update t set a = 1", want: "syntax error at line 1, column 1: Unsupported SQL statement: UPDATE", unsupported: true},
	{in: "SHOW VARIABLES", want: "syntax error at line 1, column 6: Unsupported SQL statement: SHOW VARIABLES", unsupported: true},
	{in: "CREATE TABLE t (a int, UNIQUE (a))", want: "syntax error at line 1, column 24: unsupported table constraint UNIQUE: only PRIMARY KEY and TIMESTAMP KEY are supported", unsupported: true},

	// Syntax errors name what was expected and what was found.
	{in: "SELECT count(a FROM t", want: "syntax error at line 1, column 16: expected ')' but found 'FROM'"},
	{in: "SELECT a FROM t WHERE", want: "syntax error at line 1, column 22: expected an expression but found end of input"},
	{in: "SELECT a, FROM t", want: "syntax error at line 1, column 11: expected an expression but found 'FROM'"},
	{in: "SELECT * FROM t t2 t3", want: "syntax error at line 1, column 20: expected end of statement but found 't3'"},
	{in: "SELECT 1 SELECT 2", want: "syntax error at line 1, column 10: expected end of statement but found 'SELECT'"},
	{in: "SELECT * FROM select", want: "syntax error at line 1, column 15: expected a table name but found 'select'"},
	{in: "SELECT * FROM a LEFT JOIN b", want: "syntax error at line 1, column 28: expected ON or USING but found end of input"},
	{in: "SELECT CASE END", want: "syntax error at line 1, column 13: expected WHEN but found 'END'"},
	{in: "SELECT CASE WHEN 1 THEN 2", want: "syntax error at line 1, column 26: expected END but found end of input"},
	{in: "SELECT CAST(a bigint)", want: "syntax error at line 1, column 15: expected AS but found 'bigint'"},
	{in: "SELECT a IS b", want: "syntax error at line 1, column 13: expected NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM after IS but found 'b'"},
	{in: "SELECT a BETWEEN 1 OR 2", want: "syntax error at line 1, column 20: expected AND but found 'OR'"},
	{in: "SELECT a IN ()", want: "syntax error at line 1, column 14: expected an expression but found ')'"},
	{in: "SELECT t.", want: "syntax error at line 1, column 10: expected an identifier after '.' but found end of input"},
	{in: "SELECT db.f(1)", want: "syntax error at line 1, column 12: qualified function names are not supported: db.f"},
	{in: "SELECT (1, 2)", want: "syntax error at line 1, column 10: expected ')' but found ','"},
	{in: "SELECT\n  a\n  FROM t\n WHERE (a = 1", want: "syntax error at line 4, column 14: expected ')' but found end of input"},
	{in: "", want: "syntax error at line 1, column 1: expected a statement but found end of input"},
	{in: " ; ;", want: "syntax error at line 1, column 5: expected a statement but found end of input"},
	{in: "HELLO", want: "syntax error at line 1, column 1: expected a statement but found 'HELLO'"},
	{in: "'x'", want: "syntax error at line 1, column 1: expected a statement but found string 'x'"},
	{in: "CREATE DATABASE d", want: "syntax error at line 1, column 8: expected TABLE but found 'DATABASE'"},
	{in: "CREATE TABLE t", want: "syntax error at line 1, column 15: expected '(' but found end of input"},
	{in: "CREATE TABLE t (a int b int)", want: "syntax error at line 1, column 23: expected ',' or ')' but found 'b'"},
	{in: "CREATE TABLE t (a)", want: "syntax error at line 1, column 18: expected a data type but found ')'"},
	{in: "CREATE TABLE t (a NOT NULL)", want: "syntax error at line 1, column 19: expected a data type but found 'NOT'"},
	{in: "CREATE TABLE t (,)", want: "syntax error at line 1, column 17: expected an identifier but found ','"},
	{in: "CREATE TABLE t (select int)", want: "syntax error at line 1, column 17: expected an identifier but found 'select'"},
	{in: "CREATE TABLE t (a int NULL NOT NULL)", want: "syntax error at line 1, column 28: conflicting or repeated NULL / NOT NULL in the definition of column a"},
	{in: "CREATE TABLE t (a int DEFAULT 1 DEFAULT 2)", want: "syntax error at line 1, column 33: duplicate DEFAULT in the definition of column a"},
	{in: "CREATE TABLE t (a int tag TAG)", want: "syntax error at line 1, column 27: duplicate TAG in the definition of column a"},
	{in: "CREATE TABLE t (a string COMMENT x)", want: "syntax error at line 1, column 34: expected a string after COMMENT but found 'x'"},
	{in: "CREATE TABLE t (a int CONSTRAINT c)", want: "syntax error at line 1, column 35: expected a column option after CONSTRAINT name but found ')'"},
	{in: "CREATE TABLE t (t timestamp, TIMESTAMP KEY(a, b))", want: "syntax error at line 1, column 43: TIMESTAMP KEY takes exactly one column, found 2"},
	{in: "CREATE TABLE t (t timestamp, CONSTRAINT c UNIQUE (t))", want: "syntax error at line 1, column 43: expected PRIMARY KEY or TIMESTAMP KEY but found 'UNIQUE'"},
	{in: "CREATE TABLE t (t timestamp) PARTITION BY LIST(a)", want: "syntax error at line 1, column 43: expected KEY, HASH or RANDOM but found 'LIST'"},
	{in: "CREATE TABLE t (t timestamp) PARTITION BY LINEAR RANDOM", want: "syntax error at line 1, column 50: expected KEY or HASH but found 'RANDOM'"},
	{in: "CREATE TABLE t (t timestamp) PARTITION BY KEY(a) PARTITIONS 0", want: "syntax error at line 1, column 61: PARTITIONS must be at least 1"},
	{in: "CREATE TABLE t (t timestamp) PARTITION BY KEY(a) PARTITIONS x", want: "syntax error at line 1, column 61: expected a partition count but found 'x'"},
	{in: "CREATE TABLE t (t timestamp) WITH (a=x'11')", want: "syntax error at line 1, column 38: a hex literal is not a valid option value"},
	{in: "CREATE TABLE t (t timestamp) WITH (a=)", want: "syntax error at line 1, column 38: expected an option value but found ')'"},
	{in: "CREATE TABLE t (t timestamp) WITH ()", want: "syntax error at line 1, column 36: expected an option name but found ')'"},
	{in: "CREATE TABLE t (t timestamp) WITH (a 1)", want: "syntax error at line 1, column 38: expected '=' but found '1'"},
	{in: "DROP DATABASE d", want: "syntax error at line 1, column 6: expected TABLE but found 'DATABASE'"},
	{in: "DROP TABLE IF t", want: "syntax error at line 1, column 15: expected EXISTS but found 't'"},
	{in: "INSERT INTO t (a) SET a = 1", want: "syntax error at line 1, column 19: expected VALUES or a query but found 'SET'"},
	{in: "INSERT INTO t VALUES (1", want: "syntax error at line 1, column 24: expected ')' but found end of input"},
	{in: "INSERT INTO t VALUES 1", want: "syntax error at line 1, column 22: expected '(' but found '1'"},
	{in: "EXPLAIN INSERT INTO t VALUES (1)", want: "syntax error at line 1, column 9: expected a query after EXPLAIN but found 'INSERT'"},
	{in: "SHOW", want: "syntax error at line 1, column 5: expected TABLES, DATABASES or CREATE TABLE but found end of input"},
	{in: "SHOW TABLES LIKE a", want: "syntax error at line 1, column 18: expected a string pattern after LIKE but found 'a'"},
	{in: "SELECT a FROM t ORDER BY a NULLS", want: "syntax error at line 1, column 28: expected end of statement but found 'NULLS'"},
	{in: "SELECT sum(x) OVER (ROWS 1) FROM t", want: "syntax error at line 1, column 27: expected PRECEDING or FOLLOWING but found ')'"},
	{in: "SELECT count(DISTINCT)", want: "syntax error at line 1, column 22: expected an expression but found ')'"},
	{in: "SELECT * FROM ((SELECT 1) AS a JOIN b ON)", want: "syntax error at line 1, column 41: expected an expression but found ')'"},
	{in: "SELECT * FROM ((SELECT 1) UNION SELECT)", want: "syntax error at line 1, column 39: expected an expression but found ')'"},
	{in: "SELECT CAST(a AS 1)", want: "syntax error at line 1, column 18: expected a data type but found '1'"},
	{in: "SELECT CAST(a AS varchar(x))", want: "syntax error at line 1, column 26: expected an integer type parameter but found 'x'"},

	// Lexical errors.
	{in: "SELECT 'abc", want: "syntax error at line 1, column 8: unterminated string literal"},
	{in: `SELECT "abc\`, want: "syntax error at line 1, column 8: unterminated string literal"},
	{in: "SELECT `abc", want: "syntax error at line 1, column 8: unterminated quoted identifier"},
	{in: "SELECT ``", want: "syntax error at line 1, column 8: empty quoted identifier"},
	{in: "SELECT x'1'", want: "syntax error at line 1, column 8: hex literal must have an even number of digits"},
	{in: "SELECT x'1g'", want: "syntax error at line 1, column 11: invalid hex digit 'g' in hex literal"},
	{in: "SELECT x'12", want: "syntax error at line 1, column 8: unterminated hex literal"},
	{in: "SELECT 1 /* never closed", want: "syntax error at line 1, column 10: unterminated block comment"},
	{in: "SELECT a & b", want: "syntax error at line 1, column 10: unexpected character '&'"},
	{in: "SELECT 中文，1", want: "syntax error at line 1, column 10: unexpected character '，'"},
	{in: "SELECT a\n\tFROM t WHERE a ! b", want: "syntax error at line 2, column 17: unexpected character '!'"},
	{in: "SELECT \xff", want: "syntax error at line 1, column 8: invalid UTF-8 byte 0xff"},
	{in: "SELECT @@version", want: "syntax error at line 1, column 8: unexpected character '@'"},

	// The recursion bound.
	{in: "SELECT " + strings.Repeat("(", 2000) + "1" + strings.Repeat(")", 2000),
		want: "syntax error at line 1, column 1007: statement is nested too deeply (more than 1000 levels)"},
	{in: "SELECT " + strings.Repeat("- ", 5000) + "1",
		want: "syntax error at line 1, column 2006: statement is nested too deeply (more than 1000 levels)"},
	{in: strings.Repeat("SELECT * FROM (", 1000) + "SELECT 1" + strings.Repeat(")", 1000),
		want: "syntax error at line 1, column 7501: statement is nested too deeply (more than 1000 levels)"},
}

func TestErrors(t *testing.T) {
	for _, tc := range errorCases {
		name := tc.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			stmt, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse succeeded: %s", stmt)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error:\n got: %s\nwant: %s", got, tc.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error is %T, want *Error", err)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error does not match ErrSyntax")
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", got, tc.unsupported)
			}
		})
	}
}

func TestDeepButValidNesting(t *testing.T) {
	for _, sql := range []string{
		"SELECT " + strings.Repeat("(", 900) + "1" + strings.Repeat(")", 900),
		"SELECT " + strings.Repeat("NOT ", 900) + "1",
		// Long flat chains are not nesting: they are parsed in a loop.
		"SELECT " + strings.Repeat("1 + ", 100000) + "1",
		"SELECT * FROM t WHERE " + strings.Repeat("a = 1 OR ", 20000) + "a = 2",
	} {
		stmt, err := Parse(sql)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if _, err := Parse(stmt.String()); err != nil {
			t.Fatalf("Parse(String()): %v", err)
		}
	}
}
