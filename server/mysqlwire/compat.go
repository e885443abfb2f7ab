package mysqlwire

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// Client compatibility: statements MySQL clients send on their own (on
// connect, for their prompt, to set up a session) that HoraeDB's SQL does
// not have. They are answered here, never reaching the executor:
//
//	SELECT <items> [FROM DUAL] [LIMIT n], where every item is a system
//	  variable (@@x, @@session.x, @@global.x), VERSION(), DATABASE(),
//	  SCHEMA(), USER(), CURRENT_USER(), SESSION_USER(), SYSTEM_USER(),
//	  CONNECTION_ID(), TIMEDIFF(NOW(), UTC_TIMESTAMP()) or a literal, each
//	  with an optional alias, and at least one not a literal (this covers
//	  mysql-connector-j's connection banner)
//	SHOW [GLOBAL|SESSION] VARIABLES [LIKE 'p' | WHERE Variable_name ...]
//	SHOW [GLOBAL|SESSION] STATUS, SHOW COLLATION, SHOW CHARSET,
//	  SHOW CHARACTER SET, SHOW ENGINES, SHOW WARNINGS, SHOW ERRORS,
//	  SHOW COUNT(*) WARNINGS|ERRORS
//	SET ...: accepted; SET time_zone = '...' changes the session's zone
//	USE db
//	BEGIN, START TRANSACTION, COMMIT, ROLLBACK, LOCK TABLES, UNLOCK TABLES:
//	  accepted and ignored (every statement commits on its own)
//
// An unknown system variable reads as NULL rather than an error.

// answer produces the result of a compatibility statement; it may change
// the session (SET, USE).
type answer func() (*query.Result, error)

// compat returns the answer to sql when it is one of the statements above;
// ok is false otherwise. Finding out changes nothing.
func (c *conn) compat(sql string) (a answer, ok bool) {
	toks := sqltext.Tokenize(sql, sqltext.NoPlaceholders)
	for len(toks) > 0 && isPunct(toks[len(toks)-1], ";") {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 || toks[0].Kind != sqltext.Word {
		return nil, false
	}
	done := func() (*query.Result, error) { return &query.Result{}, nil }
	switch strings.ToUpper(toks[0].Text) {
	case "SELECT":
		return c.selectSystem(sql, toks[1:])
	case "SHOW":
		return c.show(toks[1:])
	case "SET":
		return func() (*query.Result, error) { return &query.Result{}, c.set(toks[1:]) }, true
	case "USE":
		return func() (*query.Result, error) {
			if len(toks) != 2 || toks[1].Kind != sqltext.Word && toks[1].Kind != sqltext.QuotedIdent && toks[1].Kind != sqltext.String {
				return nil, newError(erParse, "42000", "USE takes one database name")
			}
			c.useDatabase(toks[1].Value)
			return &query.Result{}, nil
		}, true
	case "BEGIN", "START", "COMMIT", "ROLLBACK", "LOCK", "UNLOCK":
		return done, true
	}
	return nil, false
}

// rows returns the answer of a fixed result.
func rows(fields []arrow.Field, rs [][]any) (answer, bool) {
	return func() (*query.Result, error) { return rowsResult(fields, rs), nil }, true
}

func isPunct(t sqltext.Token, p string) bool { return t.Kind == sqltext.Punct && t.Text == p }

func isWord(t sqltext.Token, w string) bool {
	return t.Kind == sqltext.Word && strings.EqualFold(t.Text, w)
}

// tokens is a cursor over the tokens of a statement.
type tokens struct {
	t []sqltext.Token
	i int
}

func (p *tokens) done() bool { return p.i >= len(p.t) }

func (p *tokens) peek() sqltext.Token {
	if p.done() {
		return sqltext.Token{}
	}
	return p.t[p.i]
}

func (p *tokens) punct(s string) bool {
	if !p.done() && isPunct(p.t[p.i], s) {
		p.i++
		return true
	}
	return false
}

func (p *tokens) word(w string) bool {
	if !p.done() && isWord(p.t[p.i], w) {
		p.i++
		return true
	}
	return false
}

// words consumes the sequence ws if all of it is next.
func (p *tokens) words(ws ...string) bool {
	for k, w := range ws {
		if p.i+k >= len(p.t) || !isWord(p.t[p.i+k], w) {
			return false
		}
	}
	p.i += len(ws)
	return true
}

// call consumes "NAME ( )".
func (p *tokens) call(name string) bool {
	save := p.i
	if p.word(name) && p.punct("(") && p.punct(")") {
		return true
	}
	p.i = save
	return false
}

// selectSystem answers a SELECT of system variables and functions.
func (c *conn) selectSystem(sql string, toks []sqltext.Token) (answer, bool) {
	p := &tokens{t: toks}
	var (
		fields  []arrow.Field
		row     []any
		literal = true
	)
	for {
		if p.done() {
			return nil, false
		}
		start := p.peek().Start
		literal = literal && (p.peek().Kind == sqltext.String || p.peek().Kind == sqltext.Number || isWord(p.peek(), "NULL"))
		v, ok := c.systemItem(p)
		if !ok {
			return nil, false
		}
		name := sql[start:toks[p.i-1].End]
		switch t := p.peek(); {
		case isWord(t, "AS"):
			p.i++
			if p.done() {
				return nil, false
			}
			name = p.peek().Value
			p.i++
		case t.Kind == sqltext.String || t.Kind == sqltext.QuotedIdent ||
			t.Kind == sqltext.Word && !isWord(t, "FROM") && !isWord(t, "LIMIT"):
			name = t.Value
			p.i++
		}
		fields = append(fields, arrow.Field{Name: name, Type: typeOfValue(v), Nullable: true})
		row = append(row, v)
		if !p.punct(",") {
			break
		}
	}
	if p.word("FROM") && !p.word("DUAL") {
		return nil, false
	}
	if p.word("LIMIT") {
		if p.peek().Kind != sqltext.Number && !isWord(p.peek(), "NULL") {
			return nil, false
		}
		p.i++
	}
	if !p.done() || literal {
		return nil, false // SELECT 1 is the executor's
	}
	return rows(fields, [][]any{row})
}

// systemItem reads one item of a system SELECT and returns its value.
func (c *conn) systemItem(p *tokens) (any, bool) {
	if p.punct("@") {
		if !p.punct("@") || p.peek().Kind != sqltext.Word {
			return nil, false
		}
		name := p.peek().Text
		p.i++
		if s := strings.ToLower(name); (s == "session" || s == "global" || s == "local") && p.punct(".") {
			if p.peek().Kind != sqltext.Word {
				return nil, false
			}
			name = p.peek().Text
			p.i++
		}
		return c.variables()[strings.ToLower(name)], true
	}
	switch t := p.peek(); {
	case t.Kind == sqltext.String:
		p.i++
		return t.Value, true
	case p.word("NULL"):
		return nil, true
	case t.Kind == sqltext.Number:
		p.i++
		if v, err := strconv.ParseInt(t.Text, 10, 64); err == nil {
			return v, true
		}
		return t.Text, true
	case p.call("VERSION"):
		return c.srv.version, true
	case p.call("DATABASE"), p.call("SCHEMA"):
		return c.db, true
	case p.call("USER"), p.call("SESSION_USER"), p.call("SYSTEM_USER"):
		return c.user + "@" + c.host(), true
	case p.call("CURRENT_USER"), p.word("CURRENT_USER"):
		return c.user + "@%", true
	case p.call("CONNECTION_ID"):
		return uint64(c.id), true
	}
	save := p.i
	if p.word("TIMEDIFF") && p.punct("(") && p.call("NOW") && p.punct(",") && p.call("UTC_TIMESTAMP") && p.punct(")") {
		_, off := time.Now().In(c.loc).Zone()
		sign := ""
		if off < 0 {
			sign, off = "-", -off
		}
		return fmt.Sprintf("%s%02d:%02d:%02d", sign, off/3600, off/60%60, off%60), true
	}
	p.i = save
	return nil, false
}

func (c *conn) host() string {
	host := c.nc.RemoteAddr().String()
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// variables are the system variables a client may read, by lowercase
// name.
func (c *conn) variables() map[string]any {
	return map[string]any{
		"auto_increment_increment":      int64(1),
		"auto_increment_offset":         int64(1),
		"autocommit":                    int64(1),
		"character_set_client":          "utf8mb4",
		"character_set_connection":      "utf8mb4",
		"character_set_database":        "utf8mb4",
		"character_set_filesystem":      "binary",
		"character_set_results":         "utf8mb4",
		"character_set_server":          "utf8mb4",
		"character_set_system":          "utf8mb3",
		"collation_connection":          "utf8mb4_general_ci",
		"collation_database":            "utf8mb4_general_ci",
		"collation_server":              "utf8mb4_general_ci",
		"default_authentication_plugin": nativePassword,
		"default_storage_engine":        "Analytic",
		"error_count":                   int64(0),
		"have_openssl":                  "DISABLED",
		"have_ssl":                      "DISABLED",
		"init_connect":                  "",
		"interactive_timeout":           int64(28800),
		"license":                       "Apache-2.0",
		"lower_case_table_names":        int64(0),
		"max_allowed_packet":            int64(c.srv.o.MaxPacketSize),
		"net_buffer_length":             int64(16384),
		"net_read_timeout":              int64(30),
		"net_write_timeout":             int64(60),
		"performance_schema":            int64(0),
		"protocol_version":              int64(10),
		"query_cache_size":              int64(0),
		"query_cache_type":              "OFF",
		"sql_auto_is_null":              int64(0),
		"sql_mode":                      "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION",
		"sql_select_limit":              uint64(1<<64 - 1),
		"system_time_zone":              c.srv.o.TimeZone.String(),
		"time_zone":                     c.zone,
		"transaction_isolation":         "REPEATABLE-READ",
		"transaction_read_only":         int64(0),
		"tx_isolation":                  "REPEATABLE-READ",
		"tx_read_only":                  int64(0),
		"version":                       c.srv.version,
		"version_comment":               "HoraeDB " + c.srv.o.Version,
		"version_compile_os":            "Linux",
		"wait_timeout":                  int64(28800),
		"warning_count":                 int64(0),
	}
}

// show answers the SHOW statements of compat; SHOW TABLES, DATABASES and
// CREATE TABLE go to the executor.
func (c *conn) show(toks []sqltext.Token) (answer, bool) {
	p := &tokens{t: toks}
	_ = p.word("GLOBAL") || p.word("SESSION") || p.word("LOCAL")
	str := func(names ...string) []arrow.Field {
		fs := make([]arrow.Field, len(names))
		for i, n := range names {
			fs[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
		}
		return fs
	}
	switch {
	case p.word("VARIABLES"):
		vars := c.variables()
		keep := filterFor(p)
		var rs [][]any
		for name, v := range vars {
			if keep(name) {
				rs = append(rs, []any{name, valueText(v)})
			}
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i][0].(string) < rs[j][0].(string) })
		return rows(str("Variable_name", "Value"), rs)
	case p.word("STATUS"):
		return rows(str("Variable_name", "Value"), nil)
	case p.word("COLLATION"):
		fs := str("Collation", "Charset")
		fs = append(fs, arrow.Field{Name: "Id", Type: arrow.PrimitiveTypes.Uint64, Nullable: true})
		fs = append(fs, str("Default", "Compiled")...)
		fs = append(fs, arrow.Field{Name: "Sortlen", Type: arrow.PrimitiveTypes.Uint32, Nullable: true})
		keep := filterFor(p)
		var rs [][]any
		for _, r := range [][]any{
			{"binary", "binary", uint64(63), "Yes", "Yes", uint32(1)},
			{"utf8mb4_bin", "utf8mb4", uint64(46), "", "Yes", uint32(1)},
			{"utf8mb4_general_ci", "utf8mb4", uint64(45), "Yes", "Yes", uint32(1)},
		} {
			if keep(r[0].(string)) {
				rs = append(rs, r)
			}
		}
		return rows(fs, rs)
	case p.word("CHARSET"), p.words("CHARACTER", "SET"):
		fs := str("Charset", "Description", "Default collation")
		fs = append(fs, arrow.Field{Name: "Maxlen", Type: arrow.PrimitiveTypes.Uint32, Nullable: true})
		keep := filterFor(p)
		var rs [][]any
		for _, r := range [][]any{
			{"binary", "Binary pseudo charset", "binary", uint32(1)},
			{"utf8mb4", "UTF-8 Unicode", "utf8mb4_general_ci", uint32(4)},
		} {
			if keep(r[0].(string)) {
				rs = append(rs, r)
			}
		}
		return rows(fs, rs)
	case p.word("ENGINES"):
		return rows(str("Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"),
			[][]any{{"Analytic", "DEFAULT", "HoraeDB's time-series engine", "NO", "NO", "NO"}})
	case p.word("WARNINGS"), p.word("ERRORS"):
		fs := str("Level")
		fs = append(fs, arrow.Field{Name: "Code", Type: arrow.PrimitiveTypes.Uint32, Nullable: true})
		fs = append(fs, str("Message")...)
		return rows(fs, nil)
	case p.word("COUNT"):
		if p.punct("(") && p.punct("*") && p.punct(")") && (p.word("WARNINGS") || p.word("ERRORS")) {
			name := "@@session.warning_count"
			if isWord(toks[p.i-1], "ERRORS") {
				name = "@@session.error_count"
			}
			return rows([]arrow.Field{{Name: name, Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, [][]any{{int64(0)}})
		}
	}
	return nil, false
}

// filterFor reads an optional LIKE 'pattern' or WHERE clause of a SHOW and
// returns the filter of names it stands for. A WHERE keeps the names its
// string literals list (WHERE Variable_name = 'a' OR Variable_name IN
// ('b')), which is what clients send.
func filterFor(p *tokens) func(string) bool {
	switch {
	case p.word("LIKE"):
		if t := p.peek(); t.Kind == sqltext.String {
			pat := strings.ToLower(t.Value)
			return func(name string) bool { return likeMatch(pat, strings.ToLower(name)) }
		}
	case p.word("WHERE"):
		names := map[string]bool{}
		for _, t := range p.t[p.i:] {
			if t.Kind == sqltext.String {
				names[strings.ToLower(t.Value)] = true
			}
		}
		return func(name string) bool { return names[strings.ToLower(name)] }
	}
	return func(string) bool { return true }
}

// likeMatch reports whether s matches the SQL LIKE pattern (% any run, _
// any one character, \ escapes).
func likeMatch(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	// Backtracking over the last %, which is linear enough for names.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi] == '\\' && pi+1 < len(p) && p[pi+1] == str[si]:
			pi, si = pi+2, si+1
		case pi < len(p) && (p[pi] == '_' || p[pi] != '%' && p[pi] != '\\' && p[pi] == str[si]):
			pi, si = pi+1, si+1
		case pi < len(p) && p[pi] == '%':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

// set answers SET statements. Only the session time zone has an effect;
// everything else (NAMES, autocommit, sql_mode, ...) is accepted as is.
func (c *conn) set(toks []sqltext.Token) error {
	p := &tokens{t: toks}
	for !p.done() {
		// [SESSION|LOCAL|GLOBAL] [@@[scope.]]name {=|:=} value
		_ = p.word("SESSION") || p.word("LOCAL") || p.word("GLOBAL")
		if p.punct("@") {
			if p.punct("@") { // @@[scope.]name: skip the scope
				if t := p.peek(); t.Kind == sqltext.Word && p.i+1 < len(p.t) && isPunct(p.t[p.i+1], ".") {
					p.i += 2
				}
			}
		}
		name := strings.ToLower(p.peek().Value)
		p.i++
		_ = p.punct(":")
		if !p.punct("=") {
			break // SET NAMES utf8mb4, SET CHARACTER SET ...: nothing to do
		}
		value := p.peek()
		if name == "time_zone" || name == "@@time_zone" {
			if err := c.setTimeZone(value.Value); err != nil {
				return err
			}
		}
		// Skip the value, up to the comma before the next assignment.
		for depth := 0; !p.done(); p.i++ {
			t := p.peek()
			if isPunct(t, "(") {
				depth++
			} else if isPunct(t, ")") {
				depth--
			} else if isPunct(t, ",") && depth == 0 {
				p.i++
				break
			}
		}
	}
	return nil
}

// setTimeZone sets the session time zone: "SYSTEM" (the server's),
// "+HH:MM" / "-HH:MM", or a zone name ("UTC", "Asia/Shanghai").
func (c *conn) setTimeZone(v string) error {
	bad := newError(1298, "HY000", "Unknown or incorrect time zone: '%s'", v)
	switch {
	case strings.EqualFold(v, "SYSTEM"):
		c.loc, c.zone = c.srv.o.TimeZone, "SYSTEM"
		return nil
	case len(v) == 6 && (v[0] == '+' || v[0] == '-') && v[3] == ':':
		h, err1 := strconv.Atoi(v[1:3])
		m, err2 := strconv.Atoi(v[4:6])
		if err1 != nil || err2 != nil || h > 14 || m > 59 {
			return bad
		}
		off := h*3600 + m*60
		if v[0] == '-' {
			off = -off
		}
		c.loc, c.zone = time.FixedZone(v, off), v
		return nil
	}
	loc, err := time.LoadLocation(v)
	if err != nil || v == "" || strings.EqualFold(v, "local") {
		return bad
	}
	c.loc, c.zone = loc, v
	return nil
}

// typeOfValue is the Arrow type of a canned value.
func typeOfValue(v any) arrow.DataType {
	switch v.(type) {
	case int64:
		return arrow.PrimitiveTypes.Int64
	case uint64:
		return arrow.PrimitiveTypes.Uint64
	case uint32:
		return arrow.PrimitiveTypes.Uint32
	}
	return arrow.BinaryTypes.String
}

func valueText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// rowsResult builds a query result of canned rows: values are string,
// int64, uint64, uint32 or nil for NULL, matching the fields' types.
func rowsResult(fields []arrow.Field, rows [][]any) *query.Result {
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			switch fb := b.Field(i).(type) {
			case *array.StringBuilder:
				if s, ok := v.(string); ok {
					fb.Append(s)
				} else {
					fb.AppendNull()
				}
			case *array.Int64Builder:
				fb.Append(v.(int64))
			case *array.Uint64Builder:
				fb.Append(v.(uint64))
			case *array.Uint32Builder:
				fb.Append(v.(uint32))
			}
		}
	}
	return &query.Result{Schema: schema, Records: []arrow.RecordBatch{b.NewRecordBatch()}}
}
