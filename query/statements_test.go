package query_test

import (
	"strings"
	"testing"
)

func TestAlterTable(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE a (k string TAG, v double, t timestamp NOT NULL)")
	v.must("INSERT INTO a (k, v, t) VALUES ('x', 1, 1)")
	v.expect("ALTER TABLE a ADD COLUMN c string TAG", "affected_rows: 0")
	v.expect("ALTER TABLE a ADD COLUMN (d int, e bigint DEFAULT 7)", "affected_rows: 0")
	v.must("INSERT INTO a (k, v, t, c, d) VALUES ('y', 2, 2, 'new', 4)")
	v.expect("SELECT k, c, d, e FROM a ORDER BY t", "k,c,d,e\nx,NULL,NULL,NULL\ny,new,4,7")
	v.expect("DESCRIBE a", "name,type,is_primary,is_nullable,is_tag,is_dictionary\ntsid,uint64,true,false,false,false\nt,timestamp,true,false,false,false\nk,string,false,true,true,false\nv,double,false,true,false,false\nc,string,false,true,true,false\nd,int,false,true,false,false\ne,bigint,false,true,false,false")
	v.expectErr("ALTER TABLE a ADD COLUMN k int", "already exists", true)
	v.expectErr("ALTER TABLE a ADD COLUMN z int NOT NULL", "nullable or have a default", true)
	v.expect("ALTER TABLE a MODIFY SETTING ttl='10d', write_buffer_size='1MB'", "affected_rows: 0")
	if got := v.must("SHOW CREATE TABLE a"); !strings.Contains(got, "ttl='10d'") || !strings.Contains(got, "write_buffer_size='1048576'") ||
		!strings.Contains(got, "`c` string TAG") || !strings.Contains(got, "`e` bigint DEFAULT 7") {
		t.Errorf("SHOW CREATE TABLE after ALTER: %s", got)
	}
	v.expectErr("ALTER TABLE a MODIFY SETTING compression='gzip'", "unknown compression", true)
	v.expectErr("ALTER TABLE a RENAME TO b", "Unsupported", true)
}

func TestDefaults(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE d (c1 int, c3 uint32, c5 uint32 DEFAULT c3 * 2 + 1, s string DEFAULT 'none', t timestamp NOT NULL DEFAULT now())")
	v.must("INSERT INTO d (c1, c3, t) VALUES (1, 10, 1000)")
	v.must("INSERT INTO d (c1) VALUES (2)")
	v.expect("SELECT c1, c3, c5, s, t FROM d ORDER BY c1", "c1,c3,c5,s,t\n1,10,21,none,1000\n2,NULL,NULL,none,1700000000000")
	v.expectErr("CREATE TABLE bad (x int DEFAULT nope, t timestamp NOT NULL)", "DEFAULT of column x", true)
	v.expectErr("CREATE TABLE bad (x int DEFAULT TIME '01:00:00', t timestamp NOT NULL)", "cannot be stored", true)
}

func TestInsertSelect(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE src (k string TAG, v double, t timestamp NOT NULL)")
	v.must("CREATE TABLE dst (k string TAG, total bigint, t timestamp NOT NULL)")
	v.must("INSERT INTO src (k, v, t) VALUES ('a', 1.5, 1), ('a', 2.5, 2), ('b', 4, 1)")
	v.expect("INSERT INTO dst (k, total, t) SELECT k, sum(v), max(t) FROM src GROUP BY k", "affected_rows: 2")
	v.expect("SELECT k, total, t FROM dst ORDER BY k", "k,total,t\na,4,2\nb,4,1")
	v.expectErr("INSERT INTO dst (k, t) SELECT k FROM src", "2 target columns but the query returns 1", true)
	v.expectErr("INSERT INTO dst (k, total, t) SELECT k, v, t FROM src", "cannot convert", true) // 1.5 is no bigint
	v.expect("SELECT count(*) FROM dst", "COUNT(*)\n2")                                          // the failed INSERT wrote nothing
	v.expect("INSERT INTO dst (k, t) SELECT k, t FROM src WHERE k = 'nobody'", "affected_rows: 0")
}

func TestExplain(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE e (host string TAG, v double, t timestamp NOT NULL)")
	v.must("INSERT INTO e (host, v, t) VALUES ('a', 1, 1000), ('b', 2, 5000)")
	out := v.must("EXPLAIN SELECT host, max(v) FROM e WHERE t >= 1000 AND t < 2000 AND host = 'a' GROUP BY host ORDER BY 2 DESC LIMIT 3")
	for _, want := range []string{"plan_type,plan", "physical_plan", "Limit: skip=0, fetch=3", "Sort: ", "fetch=3",
		"Aggregate: groupBy=[e.host], aggr=[MAX(e.v)]", "Filter: ", "Scan: table=e, columns=[t, host, v], time_range=[1000, 2000)"} {
		if !strings.Contains(out, want) {
			t.Errorf("EXPLAIN lacks %q:\n%s", want, out)
		}
	}
	out = v.must("EXPLAIN ANALYZE SELECT count(*) FROM e WHERE t >= 4000")
	for _, want := range []string{"Plan with Metrics", "output_rows=1", "memtables=1, ssts=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("EXPLAIN ANALYZE lacks %q:\n%s", want, out)
		}
	}
}

func TestTopK(t *testing.T) {
	v := newEnv(t)
	v.must("CREATE TABLE k (n bigint, t timestamp NOT NULL) WITH (update_mode='APPEND')")
	var b strings.Builder
	b.WriteString("INSERT INTO k (n, t) VALUES ")
	for i := 0; i < 20000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("(")
		b.WriteString(itoa((i * 7919) % 20000))
		b.WriteString(", 1)")
	}
	v.must(b.String())
	v.expect("SELECT n FROM k ORDER BY n DESC LIMIT 3", "n\n19999\n19998\n19997")
	v.expect("SELECT n FROM k ORDER BY n LIMIT 2 OFFSET 10000", "n\n10000\n10001")
}

func itoa(i int) string { return fmtInt(i) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}
