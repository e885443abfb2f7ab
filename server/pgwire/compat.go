package pgwire

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// Client compatibility: what psql and drivers send that HoraeDB's SQL does
// not have, answered here without the executor:
//
//	BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT,
//	  RELEASE: accepted (every statement commits on its own); the
//	  transaction status of ReadyForQuery follows them
//	SET, RESET: accepted and ignored
//	DISCARD ALL, DEALLOCATE [PREPARE] name|ALL: drop prepared statements
//	SHOW name, SHOW ALL: the settings of startup.go (SHOW TABLES,
//	  DATABASES and CREATE TABLE are the executor's)
//	SELECT of version(), current_database(), current_schema[()],
//	  current_user, session_user, user, current_catalog,
//	  current_setting('name'), pg_backend_pid() and literals, with aliases
//	SELECT ... FROM the pg_catalog or information_schema relations: psql's
//	  table list (\dt, \d) lists the tables (by SHOW TABLES, filtered by
//	  psql's name pattern), \dn the schema; any other catalog query gets
//	  no rows, with the columns its select list names (all text), so that
//	  tools show an empty list instead of failing

// answer is a statement compat answers.
type answer struct {
	// fields are the result's columns; nil for a statement without rows.
	fields []arrow.Field
	// run produces the result; it may change the session.
	run func(ctx context.Context) (*outcome, error)
}

// outcome is the result of one statement.
type outcome struct {
	// res holds the rows of a query (res.IsQuery()), or the affected rows.
	res *query.Result
	// tag is the CommandComplete tag of a statement without rows; for
	// rows the tag is "SELECT <n>".
	tag string
	// empty is set for an empty statement (EmptyQueryResponse).
	empty bool
}

func (o *outcome) release() {
	if o != nil && o.res != nil {
		o.res.Release()
	}
}

func isWord(t sqltext.Token, w string) bool {
	return t.Kind == sqltext.Word && strings.EqualFold(t.Text, w)
}

func isPunct(t sqltext.Token, p string) bool { return t.Kind == sqltext.Punct && t.Text == p }

// compat returns the answer to sql (in the dialect, after translate) when
// compat answers it. Finding out changes nothing.
func (c *conn) compat(sql string) (*answer, bool) {
	toks := sqltext.Tokenize(sql, sqltext.Dollar)
	for len(toks) > 0 && isPunct(toks[len(toks)-1], ";") {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 || toks[0].Kind != sqltext.Word {
		return nil, false
	}
	tagOnly := func(tag string, effect func()) (*answer, bool) {
		return &answer{run: func(context.Context) (*outcome, error) {
			if effect != nil {
				effect()
			}
			return &outcome{tag: tag}, nil
		}}, true
	}
	first := strings.ToUpper(toks[0].Text)
	switch first {
	case "BEGIN", "START":
		tag := "BEGIN"
		if first == "START" {
			tag = "START TRANSACTION"
		}
		return tagOnly(tag, func() { c.inTx = true })
	case "COMMIT", "END":
		return tagOnly("COMMIT", func() { c.inTx = false })
	case "ROLLBACK", "ABORT":
		if len(toks) > 1 && (isWord(toks[1], "TO") || len(toks) > 2 && isWord(toks[2], "TO")) {
			return tagOnly("ROLLBACK", nil) // to a savepoint: the transaction goes on
		}
		return tagOnly("ROLLBACK", func() { c.inTx = false })
	case "SAVEPOINT", "RELEASE":
		return tagOnly(first, nil)
	case "SET":
		return tagOnly("SET", nil)
	case "RESET":
		return tagOnly("RESET", nil)
	case "DISCARD":
		return tagOnly("DISCARD ALL", func() { c.stmts = map[string]*prepared{} })
	case "DEALLOCATE":
		rest := toks[1:]
		if len(rest) > 0 && isWord(rest[0], "PREPARE") {
			rest = rest[1:]
		}
		if len(rest) == 1 && isWord(rest[0], "ALL") {
			return tagOnly("DEALLOCATE ALL", func() { c.stmts = map[string]*prepared{} })
		}
		if len(rest) == 1 {
			return tagOnly("DEALLOCATE", func() { delete(c.stmts, rest[0].Value) })
		}
	case "SHOW":
		return c.show(toks[1:])
	case "SELECT":
		if a, ok := c.selectSystem(sql, toks[1:]); ok {
			return a, true
		}
		if mentionsCatalog(toks) {
			return c.catalog(toks), true
		}
	}
	return nil, false
}

// textFields returns text columns of the given names.
func textFields(names ...string) []arrow.Field {
	fs := make([]arrow.Field, len(names))
	for i, n := range names {
		fs[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	return fs
}

// rows returns the answer of a fixed result.
func rows(fields []arrow.Field, rs [][]any) (*answer, bool) {
	return &answer{fields: fields, run: func(context.Context) (*outcome, error) {
		return &outcome{res: rowsResult(fields, rs)}, nil
	}}, true
}

// show answers SHOW name and SHOW ALL.
func (c *conn) show(toks []sqltext.Token) (*answer, bool) {
	if len(toks) == 0 {
		return nil, false
	}
	settings := c.settings()
	switch {
	case len(toks) == 1 && isWord(toks[0], "ALL"):
		var rs [][]any
		for name, v := range settings {
			rs = append(rs, []any{name, v, ""})
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i][0].(string) < rs[j][0].(string) })
		return rows(textFields("name", "setting", "description"), rs)
	case isWord(toks[0], "TABLES"), isWord(toks[0], "DATABASES"), isWord(toks[0], "CREATE"):
		return nil, false
	}
	var name string
	switch {
	case len(toks) == 3 && isWord(toks[0], "TRANSACTION") && isWord(toks[1], "ISOLATION") && isWord(toks[2], "LEVEL"):
		name = "transaction_isolation"
	case len(toks) == 2 && isWord(toks[0], "TIME") && isWord(toks[1], "ZONE"):
		name = "TimeZone"
	case len(toks) == 1 && (toks[0].Kind == sqltext.Word || toks[0].Kind == sqltext.QuotedIdent):
		name = toks[0].Value
	case len(toks) == 3 && toks[0].Kind == sqltext.Word && isPunct(toks[1], ".") && toks[2].Kind == sqltext.Word:
		name = toks[0].Text + "." + toks[2].Text
	default:
		return nil, false
	}
	v, ok := settings[strings.ToLower(name)]
	if !ok {
		return &answer{fields: textFields(strings.ToLower(name)), run: func(context.Context) (*outcome, error) {
			return nil, newError(codeUndefinedObject, "unrecognized configuration parameter %q", name)
		}}, true
	}
	return rows(textFields(strings.ToLower(name)), [][]any{{v}})
}

// selectSystem answers a SELECT of system functions and literals.
func (c *conn) selectSystem(sql string, toks []sqltext.Token) (*answer, bool) {
	var (
		fields  []arrow.Field
		row     []any
		literal = true
	)
	i := 0
	for {
		if i >= len(toks) {
			return nil, false
		}
		t := toks[i]
		literal = literal && (t.Kind == sqltext.String || t.Kind == sqltext.Number)
		v, name, n, ok := c.systemItem(toks[i:])
		if !ok {
			return nil, false
		}
		i += n
		if i < len(toks) && isWord(toks[i], "AS") {
			i++
			if i >= len(toks) {
				return nil, false
			}
			name = toks[i].Value
			i++
		} else if i < len(toks) && (toks[i].Kind == sqltext.QuotedIdent || toks[i].Kind == sqltext.Word && !isWord(toks[i], "FROM")) {
			name = toks[i].Value
			i++
		}
		typ := arrow.DataType(arrow.BinaryTypes.String)
		if _, isInt := v.(int32); isInt {
			typ = arrow.PrimitiveTypes.Int32
		}
		fields = append(fields, arrow.Field{Name: name, Type: typ, Nullable: true})
		row = append(row, v)
		if i < len(toks) && isPunct(toks[i], ",") {
			i++
			continue
		}
		break
	}
	if i != len(toks) || literal {
		return nil, false
	}
	return rows(fields, [][]any{row})
}

// systemItem reads one item of a system SELECT: its value, default column
// name and length in tokens.
func (c *conn) systemItem(toks []sqltext.Token) (v any, name string, n int, ok bool) {
	t := toks[0]
	switch t.Kind {
	case sqltext.String:
		return t.Value, "?column?", 1, true
	case sqltext.Number:
		return t.Text, "?column?", 1, true
	case sqltext.Word:
	default:
		return nil, "", 0, false
	}
	// Skip a pg_catalog. qualifier.
	if isWord(t, "pg_catalog") && len(toks) > 2 && isPunct(toks[1], ".") {
		v, name, n, ok := c.systemItem(toks[2:])
		return v, name, n + 2, ok
	}
	fn := strings.ToLower(t.Text)
	call := len(toks) >= 3 && isPunct(toks[1], "(") && isPunct(toks[2], ")")
	switch {
	case fn == "version" && call:
		return "PostgreSQL " + serverVersion + " (HoraeDB " + c.srv.o.Version + ")", "version", 3, true
	case fn == "current_database" && call:
		return c.db, fn, 3, true
	case fn == "current_schema" && call:
		return c.db, fn, 3, true
	case fn == "pg_backend_pid" && call:
		return int32(c.pid), fn, 3, true
	case (fn == "current_user" || fn == "session_user" || fn == "user" || fn == "current_role") && !call:
		if fn == "user" {
			fn = "current_user"
		}
		return c.user, fn, 1, true
	case (fn == "current_schema" || fn == "current_catalog") && !call:
		if fn == "current_catalog" {
			return "horaedb", fn, 1, true
		}
		return c.db, fn, 1, true
	case fn == "current_setting" && len(toks) >= 4 && isPunct(toks[1], "(") && toks[2].Kind == sqltext.String && isPunct(toks[3], ")"):
		v, ok := c.settings()[strings.ToLower(toks[2].Value)]
		if !ok {
			return nil, "", 0, false
		}
		return v, fn, 4, true
	}
	return nil, "", 0, false
}

// mentionsCatalog reports whether a statement reads a relation of
// pg_catalog or information_schema.
func mentionsCatalog(toks []sqltext.Token) bool {
	for i, t := range toks {
		if t.Kind != sqltext.Word && t.Kind != sqltext.QuotedIdent {
			continue
		}
		name := strings.ToLower(t.Value)
		if name == "pg_catalog" || name == "information_schema" {
			return true
		}
		if strings.HasPrefix(name, "pg_") && (i+1 >= len(toks) || !isPunct(toks[i+1], "(")) {
			return true
		}
	}
	return false
}

// catalog answers a query of the system catalogs.
func (c *conn) catalog(toks []sqltext.Token) *answer {
	names := outputNames(toks)
	fields := textFields(names...)
	lower := strings.ToLower(strings.Join(names, ","))
	var list func(ctx context.Context) ([][]any, error)
	switch {
	case strings.HasPrefix(lower, "schema,name,type,owner") && hasString(toks, "r") && mentions(toks, "pg_class"):
		// psql's \dt and \d: the tables of the schema.
		pattern := namePattern(toks)
		list = func(ctx context.Context) ([][]any, error) {
			tables, err := c.tables(ctx)
			if err != nil {
				return nil, err
			}
			var rs [][]any
			for _, t := range tables {
				if pattern != nil && !pattern.MatchString(t) {
					continue
				}
				r := []any{c.db, t, "table", c.user}
				for len(r) < len(names) {
					r = append(r, "")
				}
				rs = append(rs, r)
			}
			return rs, nil
		}
	case lower == "name,owner" && mentions(toks, "pg_namespace"):
		// psql's \dn: the schema.
		list = func(context.Context) ([][]any, error) { return [][]any{{c.db, c.user}}, nil }
	}
	return &answer{fields: fields, run: func(ctx context.Context) (*outcome, error) {
		var rs [][]any
		if list != nil {
			var err error
			if rs, err = list(ctx); err != nil {
				return nil, err
			}
		}
		return &outcome{res: rowsResult(fields, rs)}, nil
	}}
}

// tables lists the tables of the session's schema.
func (c *conn) tables(ctx context.Context) ([]string, error) {
	res, err := c.srv.o.Executor.Execute(ctx, query.Session{Database: c.db, User: c.user}, "SHOW TABLES")
	if err != nil {
		return nil, err
	}
	defer res.Release()
	var out []string
	for _, rec := range res.Records {
		if rec.NumCols() == 0 {
			continue
		}
		if col, ok := rec.Column(0).(*array.String); ok {
			for i := range col.Len() {
				out = append(out, col.Value(i))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func hasString(toks []sqltext.Token, s string) bool {
	for _, t := range toks {
		if t.Kind == sqltext.String && t.Value == s {
			return true
		}
	}
	return false
}

func mentions(toks []sqltext.Token, word string) bool {
	for _, t := range toks {
		if (t.Kind == sqltext.Word || t.Kind == sqltext.QuotedIdent) && strings.EqualFold(t.Value, word) {
			return true
		}
	}
	return false
}

// namePattern returns psql's name filter (relname OPERATOR(pg_catalog.~)
// '^(pattern)$'), if any.
func namePattern(toks []sqltext.Token) *regexp.Regexp {
	for i, t := range toks {
		if !isWord(t, "relname") {
			continue
		}
		for j := i + 1; j < len(toks) && j < i+8; j++ {
			if toks[j].Kind == sqltext.String {
				if re, err := regexp.Compile(toks[j].Value); err == nil {
					return re
				}
				return nil
			}
		}
	}
	return nil
}

// outputNames returns the column names of a SELECT's select list: an
// item's alias, else its last identifier, else its function's name, else
// "?column?".
func outputNames(toks []sqltext.Token) []string {
	start := -1
	depth := 0
	var items [][]sqltext.Token
	for i, t := range toks {
		if isPunct(t, "(") {
			depth++
			continue
		}
		if isPunct(t, ")") {
			depth--
			continue
		}
		if depth != 0 {
			continue
		}
		switch {
		case start < 0 && isWord(t, "SELECT"):
			start = i + 1
			if start < len(toks) && isWord(toks[start], "DISTINCT") {
				start++
			}
		case start >= 0 && isPunct(t, ","):
			items = append(items, toks[start:i])
			start = i + 1
		case start >= 0 && isWord(t, "FROM"):
			items = append(items, toks[start:i])
			start = -2 // done
		}
		if start == -2 {
			break
		}
	}
	if start >= 0 && start <= len(toks) {
		items = append(items, toks[start:])
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		names = append(names, itemName(it))
	}
	return names
}

func itemName(it []sqltext.Token) string {
	n := len(it)
	isName := func(t sqltext.Token) bool { return t.Kind == sqltext.Word || t.Kind == sqltext.QuotedIdent }
	switch {
	case n == 0:
		return "?column?"
	case n >= 2 && isWord(it[n-2], "AS"):
		return it[n-1].Value
	case n >= 2 && isName(it[n-1]) && !isPunct(it[n-2], ".") && !isPunct(it[n-2], "::") && it[n-2].Kind != sqltext.Punct:
		return it[n-1].Value // expr alias
	case isName(it[n-1]):
		return it[n-1].Value
	}
	for i := 0; i+1 < n; i++ {
		if isName(it[i]) && isPunct(it[i+1], "(") {
			return strings.ToLower(it[i].Value)
		}
	}
	return "?column?"
}

// rowsResult builds a query result of canned rows: values are string,
// int32 or nil for NULL, matching the fields' types.
func rowsResult(fields []arrow.Field, rs [][]any) *query.Result {
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range rs {
		for i, v := range row {
			switch fb := b.Field(i).(type) {
			case *array.StringBuilder:
				switch v := v.(type) {
				case string:
					fb.Append(v)
				case int32:
					fb.Append(strconv.Itoa(int(v)))
				default:
					fb.AppendNull()
				}
			case *array.Int32Builder:
				fb.Append(v.(int32))
			}
		}
	}
	return &query.Result{Schema: schema, Records: []arrow.RecordBatch{b.NewRecordBatch()}}
}
