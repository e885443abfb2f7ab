package query_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// TestLimits: upstream's limiter. Each case sets limits and runs
// statements; a blocked one fails with ErrBlocked and a message naming
// the rule or list, the others run.
func TestLimits(t *testing.T) {
	v := newEnv(t)
	v.must(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`)
	v.must(`CREATE TABLE mem (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`)
	v.must(`INSERT INTO cpu (host, v, t) VALUES ('a', 1, 1000), ('b', 2, 7200000)`)
	write := func(table string) error {
		_, err := v.x.Write(context.Background(), query.Session{}, []query.WriteTable{{Table: table, Fields: []string{"v"},
			Rows: []query.WriteRow{{Timestamp: 5000, Fields: []query.Cell{{Value: query.Value{Kind: schema.Double, F: 3}}}}}}},
			query.WriteOptions{TimestampColumn: "t"})
		return err
	}
	for _, tc := range []struct {
		name    string
		limits  query.Limits
		blocked map[string]string // statement → part of the message; "" = allowed
		writes  map[string]string // Write API, by table
	}{
		{"none", query.Limits{}, map[string]string{
			`SELECT count(*) FROM cpu`: "", `INSERT INTO cpu (host, v, t) VALUES ('c', 3, 2000)`: "",
		}, map[string]string{"cpu": ""}},
		{"write block list", query.Limits{WriteBlock: []string{"cpu"}}, map[string]string{
			`INSERT INTO cpu (host, v, t) VALUES ('c', 3, 2000)`: "table cpu is in the write block list",
			`INSERT INTO mem (host, v, t) VALUES ('c', 3, 2000)`: "",
			`SELECT count(*) FROM cpu`:                           "",
		}, map[string]string{"cpu": "write block list", "mem": ""}},
		{"read block list", query.Limits{ReadBlock: []string{"cpu"}}, map[string]string{
			`SELECT count(*) FROM cpu`:                                "table cpu is in the read block list",
			`SELECT * FROM mem, cpu`:                                  "table cpu is in the read block list",
			`SELECT * FROM (SELECT * FROM cpu WHERE t > 0) x`:         "table cpu is in the read block list",
			`INSERT INTO mem (host, v, t) SELECT host, v, t FROM cpu`: "table cpu is in the read block list",
			`SELECT count(*) FROM mem`:                                "",
			`INSERT INTO cpu (host, v, t) VALUES ('c', 3, 2000)`:      "",
		}, nil},
		{"QueryWithoutPredicate", query.Limits{NoQueryWithoutPredicate: true}, map[string]string{
			`SELECT count(*) FROM cpu`:                  "needs a WHERE clause",
			`SELECT count(*) FROM cpu WHERE host = 'a'`: "",
			`SELECT * FROM cpu, mem`:                    "needs a WHERE clause",
			`SELECT 1`:                                  "",
		}, nil},
		{"AnyQuery", query.Limits{NoQuery: true}, map[string]string{
			`SELECT count(*) FROM cpu WHERE host = 'a'`:          "limiter rule AnyQuery",
			`INSERT INTO cpu (host, v, t) VALUES ('c', 3, 2000)`: "",
		}, map[string]string{"cpu": ""}},
		{"AnyInsert", query.Limits{NoInsert: true}, map[string]string{
			`INSERT INTO mem (host, v, t) VALUES ('c', 3, 2000)`: "limiter rule AnyInsert",
			`SELECT count(*) FROM cpu`:                           "",
		}, map[string]string{"cpu": "AnyInsert", "mem": "AnyInsert"}},
		{"QueryRange", query.Limits{MaxQueryRange: time.Hour}, map[string]string{
			`SELECT count(*) FROM cpu`:                              "covers an unbounded time range; this node allows at most 1h ",
			`SELECT count(*) FROM cpu WHERE t >= 0 AND t < 3600000`: "",
			`SELECT count(*) FROM cpu WHERE t >= 0 AND t < 7200000`: "covers a time range of 2h;",
			`SELECT count(*) FROM cpu WHERE host = 'a'`:             "unbounded",
			// Bounds whose difference overflows int64.
			`SELECT count(*) FROM cpu WHERE t > -9223372036854775807 AND t < 9223372036854775806`: "covers a time range of",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v.x.SetLimits(tc.limits)
			defer v.x.SetLimits(query.Limits{})
			check := func(what string, err error, want string) {
				t.Helper()
				switch {
				case want == "" && err != nil:
					t.Errorf("%s: %v, want it to run", what, err)
				case want != "" && (!errors.Is(err, query.ErrBlocked) || !strings.Contains(err.Error(), want)):
					t.Errorf("%s: %v, want ErrBlocked with %q", what, err, want)
				}
			}
			for stmt, want := range tc.blocked {
				_, err := v.run(stmt)
				check(stmt, err, want)
			}
			for table, want := range tc.writes {
				check("Write "+table, write(table), want)
			}
		})
	}
	if got := v.x.Limits(); len(got.WriteBlock) != 0 || got.NoQuery {
		t.Errorf("limits after reset: %+v", got)
	}
}
