package parser

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// roundTripCases pair a statement with its canonical String(). An empty
// want means the input is already canonical.
var roundTripCases = []struct {
	in, want string
}{
	// CREATE TABLE: the reference examples.
	{
		in: "CREATE TABLE demo (name string TAG, value double NOT NULL, t timestamp NOT NULL, TIMESTAMP KEY(t)) ENGINE=Analytic WITH (enable_ttl='false')",
	},
	{
		in:   "create table t (t timestamp not null timestamp key, c3 int, c5 uint32 default c3*2 + 1)",
		want: "CREATE TABLE t (t timestamp NOT NULL TIMESTAMP KEY, c3 int, c5 uint32 DEFAULT c3 * 2 + 1)",
	},
	{
		in:   "CREATE TABLE t (t1 timestamp NOT NULL, c1 string, PRIMARY KEY(t1, tsid), TIMESTAMP KEY(t1))",
		want: "CREATE TABLE t (t1 timestamp NOT NULL, c1 string, PRIMARY KEY(t1, tsid), TIMESTAMP KEY(t1))",
	},
	{
		in:   "CREATE TABLE t (a int, t timestamp NOT NULL, TIMESTAMP KEY(t),)",
		want: "CREATE TABLE t (a int, t timestamp NOT NULL, TIMESTAMP KEY(t))",
	},
	{
		in:   "CREATE TABLE `t` (`name` string TAG, `t` timestamp NOT NULL, TIMESTAMP KEY(t)) PARTITION BY KEY(name) PARTITIONS 4 ENGINE=Analytic",
		want: "CREATE TABLE `t` (`name` string TAG, `t` timestamp NOT NULL, TIMESTAMP KEY(t)) PARTITION BY KEY(name) PARTITIONS 4 ENGINE=Analytic",
	},
	{in: "CREATE TABLE t (a int, t timestamp, TIMESTAMP KEY(t)) PARTITION BY LINEAR KEY(a, b)"},
	{in: "CREATE TABLE t (a int TAG, t timestamp, TIMESTAMP KEY(t)) PARTITION BY HASH(a) PARTITIONS 8"},
	{in: "CREATE TABLE t (a int TAG, t timestamp, TIMESTAMP KEY(t)) PARTITION BY LINEAR HASH(a)"},
	{in: "CREATE TABLE t (t timestamp, TIMESTAMP KEY(t)) PARTITION BY RANDOM PARTITIONS 2"},
	{
		in:   "CREATE TABLE IF NOT EXISTS `t` (`timestamp` timestamp NOT NULL, value double, tag string tag, TIMESTAMP KEY(`timestamp`))",
		want: "CREATE TABLE IF NOT EXISTS `t` (`timestamp` timestamp NOT NULL, value double, tag string TAG, TIMESTAMP KEY(`timestamp`))",
	},
	{
		// Every column option, in a scrambled order; UNSIGN is upstream's spelling.
		in:   "CREATE TABLE t (c bigint unsign COMMENT 'it''s' DEFAULT -1 NULL COLLATE utf8 CONSTRAINT c1 PRIMARY KEY, s string DICTIONARY TAG NOT NULL, t timestamp NOT NULL TIMESTAMP KEY)",
		want: "CREATE TABLE t (c bigint UNSIGNED COLLATE utf8 DEFAULT -1 PRIMARY KEY COMMENT 'it''s', s string TAG DICTIONARY NOT NULL, t timestamp NOT NULL TIMESTAMP KEY)",
	},
	{
		in:   "CREATE TABLE t (c1 int DEFAULT 0 NOT NULL, c2 string DEFAULT NULL, c3 timestamp DEFAULT now(), CONSTRAINT pk PRIMARY KEY (c1), CONSTRAINT ts TIMESTAMP KEY (c3))",
		want: "CREATE TABLE t (c1 int NOT NULL DEFAULT 0, c2 string DEFAULT NULL, c3 timestamp DEFAULT now(), CONSTRAINT pk PRIMARY KEY(c1), CONSTRAINT ts TIMESTAMP KEY(c3))",
	},
	{
		// Every data type spelling of the reference.
		in: "CREATE TABLE t (a timestamp, b double, c float, d real, e string, f varbinary, g uint64, h uint32, i uint16, j uint8, " +
			"k bigint, l int64, m int, n int32, o smallint, p int16, q tinyint, r int8, s boolean, u date, v time, w null, x INT(11))",
		want: "CREATE TABLE t (a timestamp, b double, c float, d real, e string, f varbinary, g uint64, h uint32, i uint16, j uint8, " +
			"k bigint, l int64, m int, n int32, o smallint, p int16, q tinyint, r int8, s boolean, u date, v time, w null, x int(11))",
	},
	{
		in:   "CREATE TABLE t (t timestamp) ENGINE = Memory WITH (ttl='7d', enable_ttl=false, update_mode=APPEND, `num_rows_per_row_group`=8192, arena_block_size = \"2MB\", x=-1.5, y=NULL, z=TRUE, w=+3)",
		want: "CREATE TABLE t (t timestamp) ENGINE=Memory WITH (ttl='7d', enable_ttl=false, update_mode=APPEND, num_rows_per_row_group=8192, arena_block_size='2MB', x=-1.5, y=NULL, z=true, w=3)",
	},
	{in: "CREATE TABLE t (a int DEFAULT a IS NOT NULL NOT NULL, b date DEFAULT date TIMESTAMP KEY)", want: "CREATE TABLE t (a int NOT NULL DEFAULT a IS NOT NULL, b date DEFAULT date TIMESTAMP KEY)"},
	{in: "CREATE TABLE 中文表 (名字 string TAG, 时间 timestamp NOT NULL, TIMESTAMP KEY(时间))"},
	{in: "CREATE TABLE `a b` (`c``d` string, t timestamp)"},
	{in: "CREATE TABLE db.t ()"},

	// DROP, DESCRIBE, SHOW, EXISTS.
	{in: "DROP TABLE t"},
	{in: "drop table if exists `T1` engine = Analytic", want: "DROP TABLE IF EXISTS `T1` ENGINE=Analytic"},
	{in: "DESCRIBE t"},
	{in: "DESC t", want: "DESCRIBE t"},
	{in: "desc table Demo", want: "DESCRIBE Demo"},
	{in: "SHOW TABLES"},
	{in: `show tables like "demo%"`, want: "SHOW TABLES LIKE 'demo%'"},
	{in: "SHOW DATABASES"},
	{in: "SHOW CREATE TABLE `Demo`"},
	{in: "EXISTS TABLE t"},
	{in: "exists t;", want: "EXISTS TABLE t"},

	// ALTER TABLE.
	{in: "ALTER TABLE t ADD COLUMN c string TAG"},
	{in: "ALTER TABLE t ADD COLUMN (a int, b string DICTIONARY)"},
	{in: "alter table t add column (a int)", want: "ALTER TABLE t ADD COLUMN a int"},
	{in: "ALTER TABLE t ADD c double DEFAULT 0.5", want: "ALTER TABLE t ADD COLUMN c double DEFAULT 0.5"},
	{in: "ALTER TABLE t MODIFY SETTING ttl='10d', enable_ttl='true'"},
	{in: "alter table t modify setting write_buffer_size = '300M'", want: "ALTER TABLE t MODIFY SETTING write_buffer_size='300M'"},

	// INSERT.
	{in: `INSERT INTO t (a,b) VALUES (1,"x"),(2,'y')`, want: "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')"},
	{in: "INSERT INTO t (a, b) VALUES (x'11', X'0aFF')", want: "INSERT INTO t (a, b) VALUES (x'11', x'0aff')"},
	{in: "insert t value (-1, +2, -1.5e3, NULL, true, false, 18446744073709551615)", want: "INSERT INTO t VALUES (-1, +2, -1.5e3, NULL, TRUE, FALSE, 18446744073709551615)"},
	{in: "INSERT INTO TABLE t VALUES (1), ()", want: "INSERT INTO t VALUES (1), ()"},
	{in: "INSERT INTO t () VALUES ()"},
	{in: "INSERT INTO t (`timestamp`, value) VALUES (1651737067000, 100)"},
	{in: "INSERT INTO t (a, b) VALUES (1 + 2, now())"},
	{in: "INSERT INTO t2 (a, b) SELECT a, b FROM t1 WHERE a > 1"},
	{in: "INSERT INTO t2 SELECT * FROM t1"},
	{in: "INSERT INTO t2 (SELECT * FROM t1)"},
	{in: "INSERT INTO t2 (a) WITH x AS (SELECT 1) SELECT * FROM x"},

	// SELECT.
	{
		in: "SELECT time_bucket(t, 'PT1M') AS b, count(*) FROM demo WHERE t >= 1 AND name IN ('a','b') GROUP BY b ORDER BY b DESC LIMIT 10",
		want: "SELECT time_bucket(t, 'PT1M') AS b, count(*) FROM demo WHERE t >= 1 AND name IN ('a', 'b') GROUP BY b " +
			"ORDER BY b DESC LIMIT 10",
	},
	{in: "SELECT 1"},
	{in: "select 1;", want: "SELECT 1"},
	{in: "SELECT * FROM t"},
	{in: "SELECT t.*, `s`.* FROM t, s"},
	{in: "SELECT DISTINCT a, b AS c, d e FROM t", want: "SELECT DISTINCT a, b AS c, d AS e FROM t"},
	{in: "SELECT ALL a FROM t", want: "SELECT a FROM t"},
	{in: `SELECT a AS 'x y', b AS "z" FROM t`, want: "SELECT a AS `x y`, b AS `z` FROM t"},
	{in: "SELECT a AS `select`, b AS from FROM t", want: "SELECT a AS `select`, b AS `from` FROM t"},
	{in: "SELECT t.a, db.t.b, `T`.`c d` FROM db.t AS t"},
	{in: "SELECT a FROM t x WHERE x.a = 1", want: "SELECT a FROM t AS x WHERE x.a = 1"},
	{in: "SELECT * FROM (SELECT 1 AS a) AS s"},
	{in: "SELECT * FROM (SELECT 1) s", want: "SELECT * FROM (SELECT 1) AS s"},
	{in: "SELECT * FROM (SELECT 1)"},
	{in: "SELECT * FROM ((SELECT 1) UNION (SELECT 2)) AS u"},
	{in: "SELECT * FROM a JOIN b ON a.id = b.id"},
	{in: "SELECT * FROM a INNER JOIN b ON a.id = b.id", want: "SELECT * FROM a JOIN b ON a.id = b.id"},
	{in: "SELECT * FROM a LEFT OUTER JOIN b ON a.id = b.id RIGHT JOIN c ON c.x = b.x", want: "SELECT * FROM a LEFT JOIN b ON a.id = b.id RIGHT JOIN c ON c.x = b.x"},
	{in: "SELECT * FROM a FULL OUTER JOIN b USING (id, k)", want: "SELECT * FROM a FULL JOIN b USING (id, k)"},
	{in: "SELECT * FROM a CROSS JOIN b"},
	{in: "SELECT * FROM a JOIN b"},
	{in: "SELECT * FROM a JOIN (b JOIN c ON b.x = c.x) ON a.y = b.y"},
	{in: "SELECT * FROM (a JOIN b ON a.x = b.x)", want: "SELECT * FROM a JOIN b ON a.x = b.x"},
	{in: "SELECT * FROM a, b LEFT JOIN c ON b.k = c.k WHERE a.k = b.k"},
	{in: "SELECT * FROM a AS x JOIN (SELECT * FROM b) AS y ON x.id = y.id"},
	{in: "SELECT * FROM ((SELECT 1) AS a JOIN b ON TRUE)", want: "SELECT * FROM (SELECT 1) AS a JOIN b ON TRUE"},
	{in: "SELECT * FROM c JOIN ((SELECT 1) AS a JOIN b ON TRUE) ON TRUE"},
	{in: "SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1"},
	{in: "SELECT a FROM t ORDER BY a ASC, b DESC NULLS FIRST, c NULLS LAST", want: "SELECT a FROM t ORDER BY a, b DESC NULLS FIRST, c NULLS LAST"},
	{in: "SELECT a FROM t LIMIT 10 OFFSET 5"},
	{in: "SELECT a FROM t LIMIT 5, 10", want: "SELECT a FROM t LIMIT 10 OFFSET 5"},
	{in: "SELECT a FROM t OFFSET 5"},
	{in: "SELECT a FROM t OFFSET 5 LIMIT 1", want: "SELECT a FROM t LIMIT 1 OFFSET 5"},
	{in: "WITH x AS (SELECT 1 AS a), y (b) AS (SELECT a FROM x) SELECT * FROM y"},
	{in: "WITH RECURSIVE x AS (SELECT 1) SELECT * FROM x"},
	{in: "SELECT 1 UNION SELECT 2"},
	{in: "SELECT 1 UNION ALL SELECT 2 UNION DISTINCT SELECT 3", want: "SELECT 1 UNION ALL SELECT 2 UNION SELECT 3"},
	{in: "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3"},
	{in: "(SELECT 1 UNION SELECT 2) INTERSECT SELECT 3"},
	{in: "SELECT 1 EXCEPT (SELECT 2 EXCEPT SELECT 3)"},
	{in: "(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT b FROM s) ORDER BY 1 LIMIT 2"},
	{in: "((SELECT 1))"},
	{in: "SELECT a FROM t WHERE a IN (SELECT b FROM s) AND EXISTS (SELECT 1 FROM u WHERE u.x = t.x)"},
	{in: "SELECT (SELECT max(b) FROM s) + 1 AS m FROM t"},
	{in: "SELECT `中文` FROM 表 WHERE 名字 = '张三'"},
	{in: "SELECT a FROM `Case_Sensitive` WHERE `timestamp` > '2021-12-02 15:00:34'"},
	{in: "SELECT timestamp, value, tag, key FROM t", want: "SELECT timestamp, value, tag, key FROM t"},
	{in: "SELECT count(DISTINCT arch), sum(DISTINCT x) FROM t"},
	{in: "SELECT COUNT(*), Sum(x), TIME_BUCKET(t, 'P1D') FROM t", want: "SELECT count(*), sum(x), time_bucket(t, 'P1D') FROM t"},
	{in: "SELECT row_number() OVER (PARTITION BY a ORDER BY b DESC) FROM t"},
	{in: "SELECT sum(x) OVER (ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t"},
	{in: "SELECT avg(x) OVER (RANGE BETWEEN INTERVAL '1' DAY PRECEDING AND 2 FOLLOWING), min(x) OVER () FROM t"},
	{in: "SELECT count(*) FILTER (WHERE x > 1) FROM t"},
	{in: "SELECT sum(x) OVER (ROWS BETWEEN (unbounded) PRECEDING AND `unbounded` FOLLOWING) FROM t"},
	{in: "SELECT sum(x) OVER (ROWS BETWEEN current PRECEDING AND CURRENT ROW) FROM t"},
	{in: "SELECT first_value(x) OVER (PARTITION BY a, b GROUPS 1 PRECEDING) FROM t"},
	{in: "SELECT date_bin(INTERVAL '30' SECOND, ts, TIMESTAMP '2001-01-01T00:00:00Z') FROM t"},
	{in: "SELECT left(s, 2), right(s, 1), if(a, 1, 2), current_timestamp(), current_date FROM t", want: "SELECT left(s, 2), right(s, 1), if(a, 1, 2), current_timestamp(), current_date() FROM t"},

	// EXPLAIN.
	{in: "EXPLAIN SELECT * FROM t"},
	{in: "EXPLAIN ANALYZE SELECT * FROM t WHERE a = 1"},
	{in: "explain verbose select 1", want: "EXPLAIN VERBOSE SELECT 1"},
	{in: "EXPLAIN ANALYZE VERBOSE WITH x AS (SELECT 1) SELECT * FROM x"},

	// Comments, whitespace and the trailing semicolon.
	{in: "-- leading comment\nSELECT /* inline */ a -- trailing\nFROM t;\n;", want: "SELECT a FROM t"},
	{in: "\u3000SELECT\u00a01", want: "SELECT 1"},
}

func TestParseRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases {
		t.Run(tc.in, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = tc.in
			}
			stmt, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := stmt.String(); got != want {
				t.Fatalf("String():\n got: %s\nwant: %s", got, want)
			}
			again, err := Parse(want)
			if err != nil {
				t.Fatalf("Parse(String()): %v", err)
			}
			if !sameTree(stmt, again) {
				t.Fatalf("tree changed after printing:\n first: %#v\nsecond: %#v", stmt, again)
			}
		})
	}
}

// parseAs parses sql and asserts the statement's type.
func parseAs[T Statement](t *testing.T, sql string) T {
	t.Helper()
	stmt, err := Parse(sql)
	if err != nil {
		t.Fatalf("Parse(%q): %v", sql, err)
	}
	s, ok := stmt.(T)
	if !ok {
		t.Fatalf("Parse(%q) = %T, want %T", sql, stmt, s)
	}
	return s
}

func TestCreateTableTree(t *testing.T) {
	s := parseAs[*CreateTable](t, "CREATE TABLE IF NOT EXISTS demo (name string TAG COMMENT 'host', value double NOT NULL, "+
		"d string DICTIONARY, u int UNSIGNED DEFAULT 1, t timestamp NOT NULL, TIMESTAMP KEY(t), PRIMARY KEY(name, t)) "+
		"PARTITION BY KEY(name) PARTITIONS 4 ENGINE=Analytic WITH (enable_ttl='false', update_mode=APPEND, n=8192, b=true, z=null)")
	want := &CreateTable{
		IfNotExists: true,
		Name:        ObjectName{{Name: "demo"}},
		Columns: []*ColumnDef{
			{Name: Ident{Name: "name"}, Type: DataType{Name: "string"}, Tag: true, Comment: "host"},
			{Name: Ident{Name: "value"}, Type: DataType{Name: "double"}, NotNull: true},
			{Name: Ident{Name: "d"}, Type: DataType{Name: "string"}, Dictionary: true},
			{Name: Ident{Name: "u"}, Type: DataType{Name: "int"}, Unsigned: true, Default: &IntLit{Value: 1}},
			{Name: Ident{Name: "t"}, Type: DataType{Name: "timestamp"}, NotNull: true},
		},
		Constraints: []TableConstraint{
			{Kind: TimestampKeyConstraint, Columns: []Ident{{Name: "t"}}},
			{Kind: PrimaryKeyConstraint, Columns: []Ident{{Name: "name"}, {Name: "t"}}},
		},
		PartitionBy: &PartitionBy{Kind: PartitionKey, Columns: []Ident{{Name: "name"}}, Partitions: 4},
		Engine:      Ident{Name: "Analytic"},
		Options: []TableOption{
			{Key: "enable_ttl", Value: OptionValue{Kind: OptionString, Text: "false"}},
			{Key: "update_mode", Value: OptionValue{Kind: OptionIdent, Text: "APPEND"}},
			{Key: "n", Value: OptionValue{Kind: OptionNumber, Text: "8192"}},
			{Key: "b", Value: OptionValue{Kind: OptionBool, Text: "true"}},
			{Key: "z", Value: OptionValue{Kind: OptionNull}},
		},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got  %#v\nwant %#v", s, want)
	}
}

func TestCreateTableColumnDetails(t *testing.T) {
	s := parseAs[*CreateTable](t, "CREATE TABLE t (t timestamp NOT NULL TIMESTAMP KEY, c3 int, c5 uint32 default c3*2 + 1, "+
		"k string PRIMARY KEY, `Mixed Case` STRING COLLATE utf8mb4_bin, h int TAG)")
	if c := s.Columns[0]; !c.TimestampKey || !c.NotNull {
		t.Errorf("inline TIMESTAMP KEY: got %+v", c)
	}
	if got := s.Columns[2].Default.String(); got != "c3 * 2 + 1" {
		t.Errorf("DEFAULT = %q", got)
	}
	if c := s.Columns[3]; !c.PrimaryKey {
		t.Errorf("inline PRIMARY KEY: got %+v", c)
	}
	if c := s.Columns[4]; c.Name != (Ident{Name: "Mixed Case", Quoted: true}) || c.Type.Name != "string" || c.Collation.Name != "utf8mb4_bin" {
		t.Errorf("quoted column: got %+v", c)
	}
	var names []string
	for _, c := range s.Columns {
		names = append(names, c.Name.Name)
	}
	if got := strings.Join(names, ","); got != "t,c3,c5,k,Mixed Case,h" {
		t.Errorf("column order = %s", got)
	}
	hash := parseAs[*CreateTable](t, "CREATE TABLE t (a int TAG, t timestamp) PARTITION BY LINEAR HASH(a)").PartitionBy
	if hash.Kind != PartitionHash || !hash.Linear || hash.Expr.String() != "a" || hash.Partitions != 0 {
		t.Errorf("HASH partition: got %+v", hash)
	}
	random := parseAs[*CreateTable](t, "CREATE TABLE t (t timestamp) PARTITION BY RANDOM").PartitionBy
	if random.Kind != PartitionRandom {
		t.Errorf("RANDOM partition: got %+v", random)
	}
}

func TestOtherStatementTrees(t *testing.T) {
	drop := parseAs[*DropTable](t, "DROP TABLE IF EXISTS CaseSensitive ENGINE=Analytic")
	if !reflect.DeepEqual(drop, &DropTable{IfExists: true, Name: ObjectName{{Name: "CaseSensitive"}}, Engine: Ident{Name: "Analytic"}}) {
		t.Errorf("DROP: %#v", drop)
	}
	if s := parseAs[*ShowTables](t, "SHOW TABLES LIKE 'a_%'"); s.Like == nil || *s.Like != "a_%" {
		t.Errorf("SHOW TABLES LIKE: %#v", s)
	}
	if s := parseAs[*ShowTables](t, "SHOW TABLES"); s.Like != nil {
		t.Errorf("SHOW TABLES: %#v", s)
	}
	parseAs[*ShowDatabases](t, "show databases")
	if s := parseAs[*ShowCreateTable](t, "SHOW CREATE TABLE public.t"); len(s.Name) != 2 || s.Name.Table().Name != "t" {
		t.Errorf("SHOW CREATE: %#v", s)
	}
	if s := parseAs[*DescribeTable](t, "DESC TABLE t"); s.Name.Table().Name != "t" {
		t.Errorf("DESC: %#v", s)
	}
	if s := parseAs[*ExistsTable](t, "EXISTS t"); s.Name.Table().Name != "t" {
		t.Errorf("EXISTS: %#v", s)
	}
	add := parseAs[*AlterTableAddColumn](t, "ALTER TABLE t ADD COLUMN (a string TAG, b double)")
	if len(add.Columns) != 2 || !add.Columns[0].Tag || add.Columns[1].Type.Name != "double" {
		t.Errorf("ADD COLUMN: %#v", add)
	}
	mod := parseAs[*AlterTableModifySetting](t, "ALTER TABLE t MODIFY SETTING ttl='10d', enable_ttl=false")
	if !reflect.DeepEqual(mod.Options, []TableOption{
		{Key: "ttl", Value: OptionValue{Kind: OptionString, Text: "10d"}},
		{Key: "enable_ttl", Value: OptionValue{Kind: OptionBool, Text: "false"}},
	}) {
		t.Errorf("MODIFY SETTING: %#v", mod.Options)
	}
	ex := parseAs[*Explain](t, "EXPLAIN ANALYZE VERBOSE SELECT 1")
	if !ex.Analyze || !ex.Verbose || ex.Query == nil {
		t.Errorf("EXPLAIN: %#v", ex)
	}
}

func TestInsertTree(t *testing.T) {
	s := parseAs[*Insert](t, `INSERT INTO t (a,b,c,d,e) VALUES (1,"x",x'11',-2,NULL),(18446744073709551615,'y',X'',1.5,true)`)
	want := &Insert{
		Table:   ObjectName{{Name: "t"}},
		Columns: []Ident{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}, {Name: "e"}},
		Rows: [][]Expr{
			{&IntLit{Value: 1}, &StringLit{Value: "x"}, &HexLit{Value: []byte{0x11}}, &UnaryExpr{Op: OpNeg, X: &IntLit{Value: 2}}, &NullLit{}},
			{&IntLit{Value: 18446744073709551615}, &StringLit{Value: "y"}, &HexLit{Value: []byte{}}, &FloatLit{Text: "1.5", Value: 1.5}, &BoolLit{Value: true}},
		},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got  %#v\nwant %#v", s, want)
	}
	sel := parseAs[*Insert](t, "INSERT INTO t2 (a) SELECT a FROM t1")
	if sel.Query == nil || sel.Rows != nil || len(sel.Columns) != 1 {
		t.Errorf("INSERT SELECT: %#v", sel)
	}
	if s := parseAs[*Insert](t, "INSERT INTO t VALUES (1)"); s.Columns != nil {
		t.Errorf("no column list must give nil Columns, got %#v", s.Columns)
	}
}

func TestSelectTree(t *testing.T) {
	q := parseAs[*Query](t, "WITH c AS (SELECT 1) SELECT DISTINCT t.*, a + 1 AS b FROM t AS x LEFT JOIN c ON x.k = c.k, u "+
		"WHERE a > 1 GROUP BY b HAVING count(*) > 2 ORDER BY b DESC NULLS LAST LIMIT 5, 10")
	if q.With == nil || len(q.With.CTEs) != 1 || q.With.CTEs[0].Name.Name != "c" {
		t.Errorf("WITH: %#v", q.With)
	}
	s, ok := q.Body.(*Select)
	if !ok {
		t.Fatalf("body is %T", q.Body)
	}
	if !s.Distinct || len(s.Items) != 2 {
		t.Fatalf("select list: %#v", s.Items)
	}
	if w, ok := s.Items[0].Expr.(*Wildcard); !ok || w.Table.String() != "t" {
		t.Errorf("t.*: %#v", s.Items[0].Expr)
	}
	if s.Items[1].Alias.Name != "b" {
		t.Errorf("alias: %#v", s.Items[1])
	}
	if len(s.From) != 2 {
		t.Fatalf("FROM: %#v", s.From)
	}
	j, ok := s.From[0].(*Join)
	if !ok || j.Kind != LeftJoin || j.On == nil {
		t.Fatalf("join: %#v", s.From[0])
	}
	if tn := j.Left.(*TableName); tn.Alias.Name != "x" || tn.Name.Table().Name != "t" {
		t.Errorf("aliased table: %#v", tn)
	}
	if s.Where == nil || len(s.GroupBy) != 1 || s.Having == nil {
		t.Errorf("WHERE/GROUP BY/HAVING: %#v", s)
	}
	if len(q.OrderBy) != 1 || !q.OrderBy[0].Desc || q.OrderBy[0].Nulls != NullsLast {
		t.Errorf("ORDER BY: %#v", q.OrderBy)
	}
	if q.Limit.String() != "10" || q.Offset.String() != "5" {
		t.Errorf("LIMIT 5, 10 gave limit %s offset %s", q.Limit, q.Offset)
	}

	u := parseAs[*Query](t, "SELECT 1 UNION ALL SELECT 2 INTERSECT SELECT 3")
	op, ok := u.Body.(*SetOp)
	if !ok || op.Op != Union || !op.All {
		t.Fatalf("UNION: %#v", u.Body)
	}
	if r, ok := op.Right.(*SetOp); !ok || r.Op != Intersect {
		t.Errorf("INTERSECT must bind tighter than UNION: %#v", op.Right)
	}

	if q := parseAs[*Query](t, "SELECT 1"); q.Body.(*Select).From != nil {
		t.Errorf("table-less SELECT has FROM %#v", q.Body.(*Select).From)
	}
}

func TestFunctionCall(t *testing.T) {
	q := parseAs[*Query](t, "SELECT COUNT(*), Count(DISTINCT x), Time_Bucket(t, 'PT1M') FROM t")
	items := q.Body.(*Select).Items
	star := items[0].Expr.(*FuncCall)
	if star.Name != "count" || len(star.Args) != 1 {
		t.Fatalf("count(*): %#v", star)
	}
	if _, ok := star.Args[0].(*Wildcard); !ok {
		t.Errorf("count(*) argument: %#v", star.Args[0])
	}
	if d := items[1].Expr.(*FuncCall); d.Name != "count" || !d.Distinct {
		t.Errorf("count(DISTINCT x): %#v", d)
	}
	if f := items[2].Expr.(*FuncCall); f.Name != "time_bucket" || len(f.Args) != 2 {
		t.Errorf("time_bucket: %#v", f)
	}
}

func TestOneStatement(t *testing.T) {
	for _, sql := range []string{"SELECT 1", "SELECT 1;", "SELECT 1 ; ;", ";SELECT 1"} {
		if _, err := Parse(sql); err != nil {
			t.Errorf("Parse(%q): %v", sql, err)
		}
	}
	_, err := Parse("SELECT 1; SELECT 2; DROP TABLE t")
	var perr *Error
	if !errors.As(err, &perr) || perr.Msg != "Only support execute one statement now, current num:3" {
		t.Fatalf("got %v", err)
	}
	if perr.Line != 1 || perr.Column != 11 {
		t.Errorf("position = %d:%d, want the second statement at 1:11", perr.Line, perr.Column)
	}
}

func TestCanonicalTypeName(t *testing.T) {
	for in, want := range map[string]string{
		"timestamp": "timestamp", "DOUBLE": "double", "real": "float", "Float": "float", "string": "string",
		"varbinary": "varbinary", "UINT64": "uint64", "uint8": "uint8", "int64": "bigint", "BIGINT": "bigint",
		"int32": "int", "int": "int", "int16": "smallint", "int8": "tinyint", "boolean": "boolean",
		"date": "date", "time": "time", "null": "null",
	} {
		if got, ok := CanonicalTypeName(in); !ok || got != want {
			t.Errorf("CanonicalTypeName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"decimal", "varchar", "text", "integer", "bool", ""} {
		if got, ok := CanonicalTypeName(in); ok {
			t.Errorf("CanonicalTypeName(%q) = %q, want not ok", in, got)
		}
	}
	if n := len(ColumnTypeNames()); n != 22 {
		t.Errorf("ColumnTypeNames has %d names, want 22", n)
	}
}

// TestParseConcurrent checks that the recycled token buffers are not shared
// between concurrent calls and do not leak into the trees (run with -race).
func TestParseConcurrent(t *testing.T) {
	sqls := []string{benchInsert(20), benchSelect, "SHOW TABLES LIKE 'abc%'", "SELECT 'x' || y FROM t"}
	want := make([]string, len(sqls))
	for i, s := range sqls {
		stmt, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = stmt.String()
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				k := (g + i) % len(sqls)
				stmt, perr := Parse(sqls[k])
				if perr != nil {
					err = perr
				} else if got := stmt.String(); got != want[k] {
					err = errors.New("got " + got + ", want " + want[k])
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	like := parseAs[*ShowTables](t, "SHOW TABLES LIKE 'first'")
	parseAs[*ShowTables](t, "SHOW TABLES LIKE 'second'")
	if *like.Like != "first" {
		t.Errorf("a recycled token changed an earlier tree: %q", *like.Like)
	}
}
