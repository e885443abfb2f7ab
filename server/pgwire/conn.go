package pgwire

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// refuseTimeout bounds how long a refused connection may take to read its
// error.
const refuseTimeout = 5 * time.Second

// maxLoggedSQL is how much of a statement's text a log line carries.
const maxLoggedSQL = 1024

// conn is one client connection and its session.
type conn struct {
	srv         *Server
	nc          net.Conn
	pid, secret uint32
	in          msgReader
	out         msgWriter
	log         *slog.Logger

	user, database, appName string
	db                      string // the schema statements run in

	stmts      map[string]*prepared
	portals    map[string]*portal
	inTx       bool // between BEGIN and COMMIT (which change nothing)
	skipToSync bool // an error in the extended protocol: ignore until Sync

	running struct {
		sync.Mutex
		cancel context.CancelFunc // of the running statement, nil when idle
	}
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{
		srv:     s,
		nc:      nc,
		pid:     s.nextID.Add(1),
		secret:  newSecret(),
		in:      msgReader{r: bufio.NewReaderSize(nc, 16<<10), max: s.o.MaxMessageSize},
		out:     msgWriter{w: bufio.NewWriterSize(nc, 32<<10)},
		stmts:   map[string]*prepared{},
		portals: map[string]*portal{},
	}
	c.log = s.log.With("pid", c.pid, "remote", nc.RemoteAddr().String())
	return c
}

// refuse sends e during startup and closes the connection.
func (c *conn) refuse(e *pgError) {
	defer c.nc.Close()
	_ = c.nc.SetDeadline(time.Now().Add(refuseTimeout))
	if _, err := c.in.readStartup(); err == nil {
		_ = c.sendError(e)
		_ = c.out.flush()
	}
}

// serve runs the connection until the client terminates, the connection
// breaks or ctx (the server's) is cancelled.
func (c *conn) serve(ctx context.Context) {
	defer c.nc.Close()
	defer c.closePortals()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cancelOnly, err := c.startup()
	if cancelOnly {
		return
	}
	if err == nil {
		err = c.readyForQuery()
	}
	if err != nil {
		c.fail(err, "postgresql: startup failed")
		return
	}
	c.log.Debug("postgresql: client connected", "user", c.user, "database", c.db)
	for {
		typ, body, err := c.in.readMessage()
		if err != nil {
			c.fail(err, "postgresql: reading a message failed")
			return
		}
		if c.skipToSync && typ != 'S' && typ != 'X' {
			continue
		}
		quit, err := c.dispatch(ctx, typ, body)
		if quit {
			return
		}
		if err != nil {
			c.fail(err, "postgresql: connection failed")
			return
		}
	}
}

// fail answers a fatal error with a FATAL ErrorResponse where the client
// may still read it, and logs it.
func (c *conn) fail(err error, msg string) {
	var pe *pgError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		c.log.Debug("postgresql: connection closed")
		return
	case errors.As(err, &pe):
		pe = &pgError{severity: "FATAL", code: pe.code, msg: pe.msg}
	case errors.Is(err, errTooLarge):
		pe = fatal(codeProtocolViolation, "%v", err)
	case errors.Is(err, errProtocol):
		pe = fatal(codeProtocolViolation, "%v", err)
	default:
		c.log.Debug(msg, "err", err)
		return
	}
	c.log.Info(msg, "err", pe.msg, "code", pe.code)
	_ = c.nc.SetWriteDeadline(time.Now().Add(refuseTimeout))
	_ = c.sendError(pe)
	_ = c.out.flush()
}

// dispatch handles one message. quit is set for Terminate; an error means
// the connection cannot go on.
func (c *conn) dispatch(ctx context.Context, typ byte, body []byte) (quit bool, err error) {
	switch typ {
	case 'Q':
		f := &fields{b: body}
		text := f.cstring("query")
		if f.err != nil {
			return false, f.err
		}
		return false, c.simpleQuery(ctx, text)
	case 'P':
		return false, c.extended(c.parse(ctx, body))
	case 'B':
		return false, c.extended(c.bind(body))
	case 'D':
		return false, c.extended(c.describe(ctx, body))
	case 'E':
		return false, c.extended(c.execute(ctx, body))
	case 'C':
		return false, c.extended(c.closeMessage(body))
	case 'S':
		c.skipToSync = false
		c.closePortals()
		return false, c.readyForQuery()
	case 'H':
		return false, c.out.flush()
	case 'X':
		return true, nil
	case 'd', 'c', 'f':
		return false, nil // COPY data outside COPY: ignored, as PostgreSQL does
	case 'F':
		return false, c.extended(newError(codeFeatureNotSupported, "the function call protocol is not supported"))
	}
	return false, &pgError{severity: "FATAL", code: codeProtocolViolation, msg: "invalid frontend message type " + strconv.Quote(string(typ))}
}

// extended handles the error of an extended-protocol message: a
// statement's error is sent and the messages up to Sync are skipped; a
// broken connection is returned.
func (c *conn) extended(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgError
	if !errors.As(err, &pe) {
		if errors.Is(err, errProtocol) {
			pe = newError(codeProtocolViolation, "%v", err)
		} else {
			return err
		}
	}
	c.skipToSync = true
	return c.sendError(pe)
}

// readyForQuery sends ReadyForQuery and flushes.
func (c *conn) readyForQuery() error {
	status := byte('I')
	if c.inTx {
		status = 'T'
	}
	b := c.out.start('Z')
	if err := c.out.send(append(b, status)); err != nil {
		return err
	}
	return c.out.flush()
}

// simpleQuery runs a Query message: each statement in turn, stopping at
// the first error, then ReadyForQuery.
func (c *conn) simpleQuery(ctx context.Context, text string) error {
	stmts := sqltext.Split(translate(text))
	if len(stmts) == 0 {
		if err := c.out.send(c.out.start('I')); err != nil {
			return err
		}
		return c.readyForQuery()
	}
	for _, sql := range stmts {
		began := time.Now()
		out, err := c.run(ctx, sql)
		c.srv.m.observe(err, time.Since(began))
		if err != nil {
			c.logFailure(ctx, err, sql)
			if err := c.sendError(toPgError(err)); err != nil {
				return err
			}
			break
		}
		err = c.sendOutcome(out, nil)
		out.release()
		if err != nil {
			return err
		}
	}
	c.closePortals()
	return c.readyForQuery()
}

// sendOutcome sends the whole result of a simple-protocol statement:
// RowDescription, DataRows and CommandComplete, in text.
func (c *conn) sendOutcome(out *outcome, formats []int16) error {
	if out.empty {
		return c.out.send(c.out.start('I'))
	}
	if out.res == nil || !out.res.IsQuery() {
		return c.sendComplete(out)
	}
	encs := encoders(out.res.Schema.Fields())
	if err := c.sendRowDescription(out.res.Schema.Fields(), encs, formats); err != nil {
		return err
	}
	cur := &cursor{}
	if _, err := c.sendRows(out.res, cur, encs, formats, 0); err != nil {
		return err
	}
	return c.sendCommandComplete("SELECT " + strconv.FormatInt(cur.sent, 10))
}

// sendComplete sends the CommandComplete of a statement without rows.
func (c *conn) sendComplete(out *outcome) error {
	tag := out.tag
	if tag == "INSERT" {
		var n int64
		if out.res != nil {
			n = out.res.AffectedRows
		}
		tag = "INSERT 0 " + strconv.FormatInt(n, 10)
	}
	return c.sendCommandComplete(tag)
}

// run runs one statement (in the dialect): compat's answer, or the
// executor's.
func (c *conn) run(ctx context.Context, sql string) (*outcome, error) {
	if a, ok := c.compat(sql); ok {
		return a.run(ctx)
	}
	ctx, done := c.startRunning(ctx)
	defer done()
	res, err := c.srv.o.Executor.Execute(ctx, query.Session{Database: c.db, User: c.user}, sql)
	if err != nil {
		return nil, err
	}
	if res == nil {
		res = &query.Result{}
	}
	return &outcome{res: res, tag: commandTag(sql)}, nil
}

// startRunning makes ctx cancellable by a CancelRequest.
func (c *conn) startRunning(ctx context.Context) (context.Context, func()) {
	var cancel context.CancelFunc
	if t := c.srv.o.Timeout; t > 0 {
		ctx, cancel = context.WithTimeout(ctx, t)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	c.running.Lock()
	c.running.cancel = cancel
	c.running.Unlock()
	return ctx, func() {
		c.running.Lock()
		c.running.cancel = nil
		c.running.Unlock()
		cancel()
	}
}

// cancelRunning cancels the running statement, if any.
func (c *conn) cancelRunning() {
	c.running.Lock()
	defer c.running.Unlock()
	if c.running.cancel != nil {
		c.running.cancel()
	}
}

// commandTag is the CommandComplete tag of a statement without rows, from
// its first word.
func commandTag(sql string) string {
	toks := sqltext.Tokenize(sql, sqltext.Dollar)
	if len(toks) == 0 {
		return ""
	}
	switch w := strings.ToUpper(toks[0].Text); w {
	case "INSERT":
		return "INSERT"
	case "CREATE", "DROP", "ALTER":
		return w + " TABLE"
	default:
		return w
	}
}

func (c *conn) logFailure(ctx context.Context, err error, sql string) {
	level := slog.LevelDebug
	if isServerFault(err) {
		level = slog.LevelWarn
	}
	if len(sql) > maxLoggedSQL {
		sql = sql[:maxLoggedSQL] + "..."
	}
	c.log.Log(ctx, level, "postgresql: statement failed", "err", err, "sql", sql, "database", c.db)
}

// --- messages to the client ---

// sendError sends an ErrorResponse: severity, code, message.
func (c *conn) sendError(e *pgError) error {
	b := c.out.start('E')
	b = append(b, 'S')
	b = appendCString(b, e.severity)
	b = append(b, 'V')
	b = appendCString(b, e.severity)
	b = append(b, 'C')
	b = appendCString(b, e.code)
	b = append(b, 'M')
	b = appendCString(b, e.msg)
	return c.out.send(append(b, 0))
}

func (c *conn) sendCommandComplete(tag string) error {
	return c.out.send(appendCString(c.out.start('C'), tag))
}

// encoders returns the encoders of a result's columns.
func encoders(fields []arrow.Field) []colEncoder {
	encs := make([]colEncoder, len(fields))
	for i, f := range fields {
		encs[i] = encoderFor(f.Type)
	}
	return encs
}

// formatOf returns the format of column i: formats holds none (all text),
// one (for all columns) or one per column.
func formatOf(formats []int16, i int) int16 {
	switch len(formats) {
	case 0:
		return 0
	case 1:
		return formats[0]
	}
	return formats[i]
}

// sendRowDescription sends a RowDescription: per column its name, table
// OID and attribute number (0), type OID, type size, type modifier (-1)
// and format.
func (c *conn) sendRowDescription(fields []arrow.Field, encs []colEncoder, formats []int16) error {
	b := c.out.start('T')
	b = appendInt16(b, int16(len(fields)))
	for i, f := range fields {
		b = appendCString(b, f.Name)
		b = appendInt32(b, 0)
		b = appendInt16(b, 0)
		b = appendInt32(b, int32(encs[i].typ.oid))
		b = appendInt16(b, encs[i].typ.size)
		b = appendInt32(b, -1)
		b = appendInt16(b, formatOf(formats, i))
	}
	return c.out.send(b)
}

// cursor is a position in a query result.
type cursor struct {
	rec, row int
	sent     int64
}

// sendRows sends DataRows from cur on, at most limit of them (0: all);
// more reports whether rows remain. A DataRow is the column count and, per
// column, the value's length (-1 for NULL) and bytes.
func (c *conn) sendRows(res *query.Result, cur *cursor, encs []colEncoder, formats []int16, limit int64) (more bool, err error) {
	var sent int64
	for ; cur.rec < len(res.Records); cur.rec, cur.row = cur.rec+1, 0 {
		rec := res.Records[cur.rec]
		cols := rec.Columns()
		for ; cur.row < int(rec.NumRows()); cur.row++ {
			if limit > 0 && sent == limit {
				return true, nil
			}
			b := c.out.start('D')
			b = appendInt16(b, int16(len(cols)))
			for j, col := range cols {
				enc := encs[j].text
				if formatOf(formats, j) == 1 {
					enc = encs[j].binary
				}
				if enc == nil || col.IsNull(cur.row) {
					b = appendInt32(b, -1)
					continue
				}
				lenAt := len(b)
				b = appendInt32(b, 0)
				b = enc(b, col, cur.row)
				putInt32(b[lenAt:], int32(len(b)-lenAt-4))
			}
			if err := c.out.send(b); err != nil {
				return false, err
			}
			sent++
			cur.sent++
		}
	}
	return false, nil
}

func putInt32(b []byte, v int32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// closePortals drops every portal: a Sync ends the implicit transaction
// they live in.
func (c *conn) closePortals() {
	for name, p := range c.portals {
		p.release()
		delete(c.portals, name)
	}
}
