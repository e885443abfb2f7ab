package query

import (
	"slices"
	"testing"
)

func TestStatementTables(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
		ok   bool
	}{
		{"SELECT * FROM cpu", []string{"cpu"}, true},
		{"SELECT 1", nil, true},
		{"SELECT a.v FROM cpu a JOIN mem b ON a.host = b.host WHERE a.v IN (SELECT v FROM disk)", []string{"cpu", "disk", "mem"}, true},
		{"WITH x AS (SELECT * FROM cpu) SELECT * FROM x, x AS y", []string{"cpu"}, true},
		{"SELECT (SELECT max(v) FROM mem), v FROM (SELECT v FROM cpu) t WHERE EXISTS (SELECT 1 FROM disk)", []string{"cpu", "disk", "mem"}, true},
		{"SELECT v FROM cpu UNION ALL SELECT v FROM mem ORDER BY v", []string{"cpu", "mem"}, true},
		{"INSERT INTO cpu (t, v) VALUES (1, 2)", []string{"cpu"}, true},
		{"INSERT INTO cpu SELECT * FROM mem", []string{"cpu", "mem"}, true},
		{"EXPLAIN SELECT * FROM cpu", []string{"cpu"}, true},
		{"DESCRIBE cpu", []string{"cpu"}, true},
		{"SHOW CREATE TABLE cpu", []string{"cpu"}, true},
		{"EXISTS TABLE cpu", []string{"cpu"}, true},
		{"ALTER TABLE cpu ADD COLUMN x string", []string{"cpu"}, true},
		{"CREATE TABLE cpu (t timestamp NOT NULL, TIMESTAMP KEY(t))", nil, true},
		{"DROP TABLE cpu", nil, true},
		{"SHOW TABLES", nil, true},
		{"SELEC * FROM", nil, false},
	} {
		got, ok := StatementTables(tc.sql, false)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v %v", tc.sql, got, ok, tc.want, tc.ok)
		}
	}
	// With static placement DDL runs on the owner.
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"CREATE TABLE cpu (t timestamp NOT NULL, TIMESTAMP KEY(t))", []string{"cpu"}},
		{"CREATE TABLE IF NOT EXISTS `Mem` (t timestamp NOT NULL, TIMESTAMP KEY(t))", []string{"Mem"}},
		{"DROP TABLE IF EXISTS cpu", []string{"cpu"}},
		{"SELECT * FROM cpu", []string{"cpu"}},
		{"SHOW TABLES", nil},
	} {
		if got, ok := StatementTables(tc.sql, true); !ok || !slices.Equal(got, tc.want) {
			t.Errorf("%s with ddl: %v %v, want %v", tc.sql, got, ok, tc.want)
		}
	}
}
