package server

import (
	"strings"
	"testing"

	"github.com/horaego/horaedb/server/config"
)

// TestLimiter: [limiter] from the config and POST /admin/block. Blocked
// statements and writes answer 403 naming the list or rule, from SQL and
// from the InfluxDB endpoint; /admin/block answers the resulting limits.
func TestLimiter(t *testing.T) {
	cfg := config.Default()
	cfg.Limiter.WriteBlockList = []string{"frozen", "frozen"}
	_, base := startServerWith(t, cfg, t.TempDir())
	for _, table := range []string{"frozen", "cpu"} {
		if code, body := post(t, base+"/sql", `CREATE TABLE `+table+` (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`); code != 200 {
			t.Fatalf("CREATE %s: %d %s", table, code, body)
		}
	}
	expect := func(what string, code int, body string, wantCode int, wantBody string) {
		t.Helper()
		if code != wantCode || !strings.Contains(body, wantBody) {
			t.Errorf("%s: %d %s, want %d with %q", what, code, body, wantCode, wantBody)
		}
	}
	code, body := post(t, base+"/sql", `INSERT INTO frozen (host, v, t) VALUES ('a', 1, 1)`)
	expect("INSERT into a table of the config's write block list", code, body, 403, "table frozen is in the write block list")
	code, body = post(t, base+"/influxdb/v1/write?db=public", "frozen,host=a v=1 1000000")
	expect("line protocol into it", code, body, 403, "write block list")
	code, body = post(t, base+"/sql", `INSERT INTO cpu (host, v, t) VALUES ('a', 1, 1)`)
	expect("INSERT into another table", code, body, 200, `"affected_rows":1`)

	code, body = post(t, base+"/admin/block", `{"operation":"Add","read_block_list":["cpu"],"block_rules":[{"type":"QueryRange","content":"1d"},{"type":"AnyInsert"}]}`)
	expect("Add", code, body, 200,
		`{"write_block_list":["frozen"],"read_block_list":["cpu"],"block_rules":[{"type":"AnyInsert"},{"type":"QueryRange","content":"1d"}]}`)
	code, body = post(t, base+"/sql", `SELECT * FROM cpu`)
	expect("SELECT of a read-blocked table", code, body, 403, "table cpu is in the read block list")
	code, body = post(t, base+"/sql", `SELECT * FROM frozen`)
	expect("SELECT without a time range", code, body, 403, "unbounded time range")
	code, body = post(t, base+"/sql", `SELECT count(*) AS n FROM frozen WHERE t >= 0 AND t < 1000`)
	expect("SELECT within a day", code, body, 200, `"n":0`)
	code, body = post(t, base+"/sql", `INSERT INTO cpu (host, v, t) VALUES ('a', 1, 2)`)
	expect("INSERT under AnyInsert", code, body, 403, "AnyInsert")

	code, body = post(t, base+"/admin/block", `{"operation":"Remove","write_block_list":["frozen"],"read_block_list":["cpu"],"block_rules":[{"type":"AnyInsert"}]}`)
	expect("Remove", code, body, 200, `{"write_block_list":[],"read_block_list":[],"block_rules":[{"type":"QueryRange","content":"1d"}]}`)
	code, body = post(t, base+"/sql", `INSERT INTO frozen (host, v, t) VALUES ('a', 1, 1)`)
	expect("INSERT after Remove", code, body, 200, `"affected_rows":1`)
	code, body = post(t, base+"/admin/block", `{"operation":"Set","write_block_list":["x"]}`)
	expect("Set", code, body, 200, `{"write_block_list":["x"],"read_block_list":[],"block_rules":[]}`)

	for _, tc := range []struct{ body, want string }{
		{`{"operation":"Replace"}`, `operation \"Replace\": want \"Add\", \"Set\" or \"Remove\"`},
		{`{"operation":"Add","block_rules":[{"type":"AnyDelete"}]}`, `block_rules[0]: unknown rule type \"AnyDelete\"`},
		{`{"operation":"Add","block_rules":[{"type":"QueryRange","content":"soon"}]}`, "QueryRange needs a positive duration"},
		{`{"operation":"Add","write_blocklist":[]}`, "not a block request"},
		{`[1]`, "not a block request"},
	} {
		code, body := post(t, base+"/admin/block", tc.body)
		expect(tc.body, code, body, 400, tc.want)
	}
	// A refused change changed nothing.
	code, body = post(t, base+"/admin/block", `{"operation":"Add"}`)
	expect("Add nothing", code, body, 200, `{"write_block_list":["x"],"read_block_list":[],"block_rules":[]}`)
}
