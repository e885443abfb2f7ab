package pgwire

import (
	"context"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// The extended query protocol
// (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY):
//
//	Parse     'P' name, query, int16 n, n × int32 parameter type OID (0:
//	          unspecified) → ParseComplete '1'
//	Bind      'B' portal, statement, int16 n, n × int16 parameter format,
//	          int16 n, n × (int32 length (-1: NULL), bytes), int16 n,
//	          n × int16 result format → BindComplete '2'
//	Describe  'D' 'S' or 'P', name → for a statement ParameterDescription
//	          't' (int16 n, n × int32 OID), then RowDescription 'T' or
//	          NoData 'n'; for a portal RowDescription or NoData
//	Execute   'E' portal, int32 max rows (0: all) → DataRows, then
//	          CommandComplete 'C', PortalSuspended 's' (more rows remain)
//	          or EmptyQueryResponse 'I'
//	Close     'C' 'S' or 'P', name → CloseComplete '3'
//	Sync      'S' → ReadyForQuery 'Z'; portals are dropped
//	Flush     'H': send what is buffered
//
// A format is 0 (text) or 1 (binary); no formats means all text, one
// means all columns (parameters) in that format. After an error the server
// skips every message up to Sync.
//
// How statements run: the executor has no placeholders, so Bind renders
// each parameter as a literal of the dialect into the statement
// (params.go). Parameter types the client leaves unspecified are inferred
// from where the placeholder stands (infer.go); the rest are text. A
// statement's result columns are found, for Describe, by running it with
// typed NULL parameters under LIMIT 0; a portal's by running it, at
// Describe, the result being kept for Execute.

// maxStatements bounds the prepared statements and portals of a
// connection.
const maxStatements = 16382

// prepared is a statement of the extended protocol.
type prepared struct {
	// tmpl is the statement in the dialect, with $n placeholders; nil for
	// an empty statement.
	tmpl *sqltext.Template
	// paramOIDs are the parameter types: as the client declared them, or
	// inferred, or 0.
	paramOIDs []uint32
	// fields are the result columns (nil for none), once described.
	fields    []arrow.Field
	described bool
}

// portal is a bound statement.
type portal struct {
	stmt    *prepared
	sql     string
	formats []int16 // result formats from Bind
	out     *outcome
	encs    []colEncoder
	cur     cursor
	done    bool
}

func (p *portal) release() {
	p.out.release()
	p.out = nil
}

// parse handles Parse.
func (c *conn) parse(ctx context.Context, body []byte) error {
	f := &fields{b: body}
	name := f.cstring("statement name")
	text := f.cstring("query")
	n := f.int16("parameter type count")
	if n < 0 {
		return newError(codeProtocolViolation, "invalid parameter type count %d", n)
	}
	declared := make([]uint32, n)
	for i := range declared {
		declared[i] = uint32(f.int32("parameter type"))
	}
	if f.err != nil {
		return f.err
	}
	if _, ok := c.stmts[name]; ok && name != "" {
		return newError(codeDuplicatePrepared, "prepared statement %q already exists", name)
	}
	if len(c.stmts) >= maxStatements {
		return newError(codeInsufficientRes, "too many prepared statements (the limit is %d)", maxStatements)
	}
	st := &prepared{paramOIDs: declared}
	sql := translate(text)
	switch stmts := sqltext.Split(sql); len(stmts) {
	case 0:
	case 1:
		tmpl, err := sqltext.NewTemplate(stmts[0], sqltext.Dollar)
		if err != nil {
			return newError(codeUndefinedParameter, "%v", err)
		}
		st.tmpl = tmpl
		for len(st.paramOIDs) < tmpl.NumParams() {
			st.paramOIDs = append(st.paramOIDs, oidUnspecified)
		}
		c.inferParams(ctx, st)
		// Syntax errors are reported now, as PostgreSQL does.
		probe := probeSQL(st)
		if _, ok := c.compat(probe); !ok {
			if _, err := parser.Parse(probe); err != nil {
				return toPgError(err)
			}
		}
	default:
		return newError(codeSyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	c.stmts[name] = st
	return c.out.send(c.out.start('1'))
}

// bind handles Bind.
func (c *conn) bind(body []byte) error {
	f := &fields{b: body}
	portalName := f.cstring("portal name")
	stmtName := f.cstring("statement name")
	paramFormats := make([]int16, max(f.int16("parameter format count"), 0))
	for i := range paramFormats {
		paramFormats[i] = f.int16("parameter format")
	}
	values := make([][]byte, max(f.int16("parameter count"), 0))
	nulls := make([]bool, len(values))
	for i := range values {
		n := f.int32("parameter length")
		if n < 0 {
			nulls[i] = true
			continue
		}
		values[i] = f.bytes(int(n), "parameter value")
	}
	resultFormats := make([]int16, max(f.int16("result format count"), 0))
	for i := range resultFormats {
		resultFormats[i] = f.int16("result format")
	}
	if f.err != nil {
		return f.err
	}
	st := c.stmts[stmtName]
	if st == nil {
		return newError(codeInvalidStmtName, "prepared statement %q does not exist", stmtName)
	}
	if len(values) != len(st.paramOIDs) {
		return newError(codeProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d",
			len(values), stmtName, len(st.paramOIDs))
	}
	if n := len(paramFormats); n > 1 && n != len(values) {
		return newError(codeProtocolViolation, "bind message has %d parameter formats but %d parameters", n, len(values))
	}
	for _, fm := range append(paramFormats, resultFormats...) {
		if fm != 0 && fm != 1 {
			return newError(codeProtocolViolation, "unsupported format code: %d", fm)
		}
	}
	if _, ok := c.portals[portalName]; ok && portalName != "" {
		return newError(codeDuplicateCursor, "portal %q already exists", portalName)
	}
	if len(c.portals) >= maxStatements {
		return newError(codeInsufficientRes, "too many portals (the limit is %d)", maxStatements)
	}
	p := &portal{stmt: st, formats: resultFormats}
	if st.tmpl != nil {
		lits := make([][]byte, st.tmpl.NumParams())
		for i := range lits {
			if nulls[i] {
				lits[i] = sqltext.AppendNull(nil)
				continue
			}
			lit, err := decodeParam(st.paramOIDs[i], formatOf(paramFormats, i), values[i])
			if err != nil {
				return paramError(i, err)
			}
			lits[i] = lit
		}
		sql, err := st.tmpl.Bind(lits)
		if err != nil {
			return newError(codeProtocolViolation, "%v", err)
		}
		p.sql = sql
	}
	if old := c.portals[portalName]; old != nil {
		old.release()
	}
	c.portals[portalName] = p
	return c.out.send(c.out.start('2'))
}

// describe handles Describe.
func (c *conn) describe(ctx context.Context, body []byte) error {
	f := &fields{b: body}
	kind := f.byte("describe kind")
	name := f.cstring("name")
	if f.err != nil {
		return f.err
	}
	switch kind {
	case 'S':
		st := c.stmts[name]
		if st == nil {
			return newError(codeInvalidStmtName, "prepared statement %q does not exist", name)
		}
		b := c.out.start('t')
		b = appendInt16(b, int16(len(st.paramOIDs)))
		for _, oid := range st.paramOIDs {
			b = appendInt32(b, int32(oid))
		}
		if err := c.out.send(b); err != nil {
			return err
		}
		fields := c.describeStatement(ctx, st)
		if fields == nil {
			return c.out.send(c.out.start('n'))
		}
		return c.sendRowDescription(fields, encoders(fields), nil)
	case 'P':
		p := c.portals[name]
		if p == nil {
			return newError(codeInvalidCursorName, "portal %q does not exist", name)
		}
		fields, err := c.portalFields(ctx, p)
		if err != nil {
			return err
		}
		if fields == nil {
			return c.out.send(c.out.start('n'))
		}
		if err := checkFormats(p.formats, len(fields)); err != nil {
			return err
		}
		return c.sendRowDescription(fields, encoders(fields), p.formats)
	}
	return newError(codeProtocolViolation, "invalid DESCRIBE message subtype %d", kind)
}

func checkFormats(formats []int16, ncols int) error {
	if n := len(formats); n > 1 && n != ncols {
		return newError(codeProtocolViolation, "bind message has %d result formats but query has %d columns", n, ncols)
	}
	return nil
}

// portalFields returns the result columns of a portal, running it when it
// returns rows (the result waits for Execute). A statement without rows
// does not run before Execute.
func (c *conn) portalFields(ctx context.Context, p *portal) ([]arrow.Field, error) {
	if p.out == nil {
		if p.stmt.tmpl == nil {
			return nil, nil
		}
		if a, ok := c.compat(p.sql); ok {
			return a.fields, nil
		}
		if !returnsRows(p.sql) {
			return nil, nil
		}
		if err := c.runPortal(ctx, p); err != nil {
			return nil, err
		}
	}
	if p.out.res == nil || !p.out.res.IsQuery() {
		return nil, nil
	}
	return p.out.res.Schema.Fields(), nil
}

// returnsRows reports whether a statement of the dialect has a result
// set; false when it does not parse (it fails when it runs).
func returnsRows(sql string) bool {
	stmt, err := parser.Parse(sql)
	if err != nil {
		return false
	}
	switch stmt.(type) {
	case *parser.Query, *parser.Explain, *parser.ShowTables, *parser.ShowDatabases,
		*parser.ShowCreateTable, *parser.DescribeTable, *parser.ExistsTable:
		return true
	}
	return false
}

// runPortal runs a portal's statement and keeps its outcome.
func (c *conn) runPortal(ctx context.Context, p *portal) error {
	began := time.Now()
	out, err := c.run(ctx, p.sql)
	c.srv.m.observe(err, time.Since(began))
	if err != nil {
		c.logFailure(ctx, err, p.sql)
		return toPgError(err)
	}
	p.out = out
	if out.res != nil && out.res.IsQuery() {
		p.encs = encoders(out.res.Schema.Fields())
	}
	return nil
}

// execute handles Execute.
func (c *conn) execute(ctx context.Context, body []byte) error {
	f := &fields{b: body}
	name := f.cstring("portal name")
	maxRows := f.int32("row limit")
	if f.err != nil {
		return f.err
	}
	p := c.portals[name]
	if p == nil {
		return newError(codeInvalidCursorName, "portal %q does not exist", name)
	}
	if p.stmt.tmpl == nil {
		return c.out.send(c.out.start('I'))
	}
	if p.out == nil {
		if err := c.runPortal(ctx, p); err != nil {
			return err
		}
	}
	res := p.out.res
	if res == nil || !res.IsQuery() {
		if p.done {
			return c.sendCommandComplete(p.out.tag)
		}
		p.done = true
		return c.sendComplete(p.out)
	}
	if err := checkFormats(p.formats, len(p.encs)); err != nil {
		return err
	}
	before := p.cur.sent
	more, err := c.sendRows(res, &p.cur, p.encs, p.formats, int64(max(maxRows, 0)))
	if err != nil {
		return err
	}
	if more {
		return c.out.send(c.out.start('s'))
	}
	p.done = true
	return c.sendCommandComplete("SELECT " + strconv.FormatInt(p.cur.sent-before, 10))
}

// closeMessage handles Close.
func (c *conn) closeMessage(body []byte) error {
	f := &fields{b: body}
	kind := f.byte("close kind")
	name := f.cstring("name")
	if f.err != nil {
		return f.err
	}
	switch kind {
	case 'S':
		delete(c.stmts, name)
	case 'P':
		if p := c.portals[name]; p != nil {
			p.release()
			delete(c.portals, name)
		}
	default:
		return newError(codeProtocolViolation, "invalid CLOSE message subtype %d", kind)
	}
	return c.out.send(c.out.start('3'))
}

// describeStatement returns the result columns of a prepared statement
// (nil for none), found by running it with typed NULL parameters and no
// rows: LIMIT 0 for a query. When that fails the statement is described
// as having none; a client learns the columns from the portal's
// description at execution.
func (c *conn) describeStatement(ctx context.Context, st *prepared) []arrow.Field {
	if st.described || st.tmpl == nil {
		return st.fields
	}
	sql := probeSQL(st)
	st.described = true
	if a, ok := c.compat(sql); ok {
		st.fields = a.fields
		return st.fields
	}
	stmt, err := parser.Parse(sql)
	if err != nil {
		return nil
	}
	switch s := stmt.(type) {
	case *parser.Query:
		s.Limit, s.Offset = &parser.IntLit{Value: 0}, nil
		sql = s.String()
	case *parser.Explain:
		s.Analyze = false
		sql = s.String()
	case *parser.ShowTables, *parser.ShowDatabases, *parser.ShowCreateTable, *parser.DescribeTable, *parser.ExistsTable:
	default:
		return nil
	}
	res, err := c.srv.o.Executor.Execute(ctx, query.Session{Database: c.db, User: c.user}, sql)
	if err != nil {
		c.log.Debug("postgresql: describing a statement failed; described as returning no rows", "err", err, "sql", sql)
		return nil
	}
	defer res.Release()
	if res.Schema != nil {
		st.fields = append([]arrow.Field{}, res.Schema.Fields()...)
	}
	return st.fields
}

// probeSQL binds a statement to typed NULLs: CAST(NULL AS <type>) for each
// parameter's type, plain NULL for an unknown one.
func probeSQL(st *prepared) string {
	lits := make([][]byte, st.tmpl.NumParams())
	for i := range lits {
		lits[i] = []byte("CAST(NULL AS " + castName(st.paramOIDs[i]) + ")")
	}
	sql, _ := st.tmpl.Bind(lits)
	return sql
}
