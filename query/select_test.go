package query_test

import "testing"

func setupTwoTables(v *env) {
	v.must("CREATE TABLE cpu (host string TAG, usage double, t timestamp NOT NULL)")
	v.must("CREATE TABLE hosts (host string TAG, region string, t timestamp NOT NULL)")
	v.must(`INSERT INTO cpu (host, usage, t) VALUES ('a', 1, 1000), ('a', 3, 2000), ('b', 10, 1000), ('c', 7, 1000)`)
	v.must(`INSERT INTO hosts (host, region, t) VALUES ('a', 'eu', 0), ('b', 'us', 0), ('d', 'ap', 0)`)
}

func TestJoins(t *testing.T) {
	v := newEnv(t)
	setupTwoTables(v)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT c.host, h.region, c.usage FROM cpu c JOIN hosts h ON c.host = h.host ORDER BY c.usage",
			"host,region,usage\na,eu,1\na,eu,3\nb,us,10"},
		{"SELECT c.host, h.region FROM cpu AS c LEFT JOIN hosts AS h ON c.host = h.host WHERE c.t = 1000 ORDER BY c.host",
			"host,region\na,eu\nb,us\nc,NULL"},
		{"SELECT h.region, sum(c.usage) AS s FROM cpu c INNER JOIN hosts h ON c.host = h.host GROUP BY h.region ORDER BY s",
			"region,s\neu,4\nus,10"},
		{"SELECT c.host, h.host FROM cpu c JOIN hosts h ON c.host = h.host AND c.usage > 2 ORDER BY 1",
			"host,host\na,a\nb,b"},
		{"SELECT count(*) FROM cpu, hosts", "COUNT(*)\n12"},
		{"SELECT count(*) FROM cpu CROSS JOIN hosts WHERE cpu.host = hosts.host", "COUNT(*)\n3"},
		{"SELECT c.host, h.region FROM cpu c LEFT JOIN hosts h ON c.host = h.host AND h.region = 'us' WHERE c.t = 1000 ORDER BY c.host",
			"host,region\na,NULL\nb,us\nc,NULL"},
	} {
		v.expect(tc.sql, tc.want)
	}
	v.expectErr("SELECT host FROM cpu c JOIN hosts h ON c.host = h.host", "ambiguous", true)
}

func TestSubqueriesCTEsUnion(t *testing.T) {
	v := newEnv(t)
	setupTwoTables(v)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT x.host, x.m FROM (SELECT host, max(usage) AS m FROM cpu GROUP BY host) AS x WHERE x.m > 5 ORDER BY x.m",
			"host,m\nc,7\nb,10"},
		{"SELECT * FROM (SELECT host FROM hosts) ORDER BY host", "host\na\nb\nd"},
		{"WITH m AS (SELECT host, max(usage) AS top FROM cpu GROUP BY host) SELECT host, top FROM m WHERE top < 5",
			"host,top\na,3"},
		{"WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT y FROM b", "y\n2"},
		{"WITH r (h) AS (SELECT host FROM hosts) SELECT count(*) FROM r", "COUNT(*)\n3"},
		{"SELECT host FROM cpu UNION ALL SELECT host FROM hosts ORDER BY host", "host\na\na\na\nb\nb\nc\nd"},
		{"SELECT host FROM cpu UNION SELECT host FROM hosts ORDER BY 1 DESC", "host\nd\nc\nb\na"},
		{"SELECT 1 AS n UNION ALL SELECT 2.5 ORDER BY n", "n\n1\n2.5"},
		{"(SELECT host FROM cpu WHERE usage > 5) UNION ALL (SELECT host FROM hosts WHERE region = 'ap') ORDER BY host LIMIT 2", "host\nb\nc"},
	} {
		v.expect(tc.sql, tc.want)
	}
	v.expectErr("SELECT 1 UNION ALL SELECT 1, 2", "1 and 2 columns", true)
	v.expectErr("SELECT 1 UNION ALL SELECT 'a'", "do not combine", true)
	v.expectErr("SELECT host FROM cpu WHERE host IN (SELECT host FROM hosts)", "subqueries in expressions", true)
}

func TestExpressions(t *testing.T) {
	v := newEnv(t)
	setupTwoTables(v)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT host FROM hosts WHERE region LIKE 'e%' OR region LIKE '_p'", "host\na\nd"},
		{"SELECT count(*) FROM hosts WHERE region NOT LIKE '%u%'", "COUNT(*)\n1"},
		{"SELECT 'a_b' LIKE 'a\\_b', 'axb' LIKE 'a\\_b', 'A%' LIKE 'a!%' ESCAPE '!'", `Utf8("a_b") LIKE Utf8("a\\_b"),Utf8("axb") LIKE Utf8("a\\_b"),Utf8("A%") LIKE Utf8("a!%")` + "\ntrue,false,false"},
		{"SELECT host, CASE WHEN usage > 5 THEN 'high' WHEN usage > 2 THEN 'mid' ELSE 'low' END AS lvl FROM cpu ORDER BY usage",
			"host,lvl\na,low\na,mid\nc,high\nb,high"},
		{"SELECT CASE host WHEN 'a' THEN 1 WHEN 'b' THEN 2.5 END AS k FROM hosts ORDER BY host", "k\n1\n2.5\nNULL"},
		{"SELECT abs(-3), ceil(1.2), floor(-1.2), round(2.567, 2), sqrt(16), power(2, 10), sign(-5)",
			"abs(Int64(-3)),ceil(Float64(1.2)),floor(Float64(-1.2)),round(Float64(2.567),Int64(2)),sqrt(Int64(16)),power(Int64(2),Int64(10)),sign(Int64(-5))\n3,2,-2,2.57,4,1024,-1"},
		{"SELECT upper('abc'), lower('ABC'), length('héllo'), substr('hello', 2, 3), concat('a', NULL, 'b', 1), replace('aXbX', 'X', '-')",
			`upper(Utf8("abc")),lower(Utf8("ABC")),length(Utf8("héllo")),substr(Utf8("hello"),Int64(2),Int64(3)),concat(Utf8("a"),NULL,Utf8("b"),Int64(1)),replace(Utf8("aXbX"),Utf8("X"),Utf8("-"))` + "\nABC,abc,5,ell,ab1,a-b-"},
		{"SELECT trim('  x '), lpad('7', 3, '0'), split_part('a,b,c', ',', 2), starts_with('horaedb', 'hor'), strpos('hello', 'l')",
			`trim(Utf8("  x ")),lpad(Utf8("7"),Int64(3),Utf8("0")),split_part(Utf8("a,b,c"),Utf8(","),Int64(2)),starts_with(Utf8("horaedb"),Utf8("hor")),strpos(Utf8("hello"),Utf8("l"))` + "\nx,007,b,true,3"},
		{"SELECT coalesce(NULL, 2, 3) AS c, nullif(1, 1) AS n1, nullif(1, 2) AS n2", "c,n1,n2\n2,NULL,1"},
		{"SELECT date_trunc('hour', TIMESTAMP '2024-05-06 07:08:09') AS h, extract(month FROM TIMESTAMP '2024-05-06 07:08:09') AS m",
			"h,m\n1714978800000,5"},
		{"SELECT date_bin(INTERVAL '15 minutes', TIMESTAMP '2024-05-06 07:08:09') AS b, TIMESTAMP '2024-01-01' + INTERVAL '1' day AS d",
			"b,d\n1714978800000,1704153600000"},
		{"SELECT to_timestamp(1700000000) AS s, to_timestamp_millis(1700000000123) AS ms, to_unixtime(TIMESTAMP '1970-01-02') AS u",
			"s,ms,u\n1700000000000,1700000000123,86400"},
		{"SELECT CAST('12' AS int) + 1 AS i, CAST(3.9 AS bigint) AS err", ""}, // replaced below
		{"SELECT 1 IS DISTINCT FROM NULL AS a, NULL IS NOT DISTINCT FROM NULL AS b, 7 DIV 2 AS d", "a,b,d\ntrue,true,3"},
		{"SELECT DATE '2024-02-29' AS d, TIME '12:34:56.5' AS t", "d,t\n2024-02-29,12:34:56.500000000"},
	} {
		if tc.want == "" {
			continue
		}
		v.expect(tc.sql, tc.want)
	}
	v.expect("SELECT CAST('12' AS int) + 1 AS i", "i\n13")
	v.expectErr("SELECT CAST(3.9 AS bigint)", "cannot convert", true)
	v.expectErr("SELECT INTERVAL '1 month'", "no fixed length", true)
	v.expectErr("SELECT date_trunc('fortnight', now())", "unknown unit", true)
}

func TestMoreAggregates(t *testing.T) {
	v := newEnv(t)
	setupTwoTables(v)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT host, first(usage), last(usage) FROM cpu GROUP BY host ORDER BY host",
			"host,FIRST(cpu.usage),LAST(cpu.usage)\na,1,3\nb,10,10\nc,7,7"},
		{"SELECT round(stddev(usage), 4) AS s, round(stddev_pop(usage), 4) AS p, round(var_pop(usage), 4) AS v FROM cpu", "s,p,v\n4.0311,3.4911,12.1875"},
		{"SELECT approx_distinct(host), median(usage), approx_percentile_cont(usage, 0.5) FROM cpu",
			"APPROX_DISTINCT(cpu.host),MEDIAN(cpu.usage),APPROX_PERCENTILE_CONT(cpu.usage,Float64(0.5))\n3,5,5"},
		{"SELECT thetasketch_distinct(usage) FROM cpu", "THETASKETCH_DISTINCT(cpu.usage)\n4"},
		{"SELECT count(DISTINCT host), sum(DISTINCT usage) FROM cpu", "COUNT(DISTINCT cpu.host),SUM(DISTINCT cpu.usage)\n3,21"},
		{"SELECT last(usage, usage) AS top FROM cpu", "top\n10"},
	} {
		v.expect(tc.sql, tc.want)
	}
}

func TestRegexpLike(t *testing.T) {
	v := newEnv(t)
	v.must(demo)
	v.must("INSERT INTO demo (t, name, value) VALUES (1, 'host_1', 1), (2, 'host_12', 2), (3, 'web', 3)")
	v.expect("SELECT name FROM demo WHERE regexp_like(name, '^host_1$') ORDER BY t", "name\nhost_1")
	v.expect("SELECT name FROM demo WHERE regexp_like(name, 'host') ORDER BY t", "name\nhost_1\nhost_12")
	v.expect("SELECT name FROM demo WHERE NOT regexp_like(name, '^host_1') ORDER BY t", "name\nweb")
	v.expect("SELECT regexp_like('abc', 'B'), regexp_like('abc', '(?i)B'), regexp_like(NULL, 'x')",
		"regexp_like(Utf8(\"abc\"),Utf8(\"B\")),regexp_like(Utf8(\"abc\"),Utf8(\"(?i)B\")),regexp_like(NULL,Utf8(\"x\"))\nfalse,true,NULL")
	v.expectErr("SELECT regexp_like(name, '(') FROM demo", "regexp_like", true)
}
