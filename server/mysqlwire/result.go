package mysqlwire

import (
	"context"
	"log/slog"
	"time"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// A result set (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html):
//
//	column count          length-encoded integer
//	column definitions    one packet each (ColumnDefinition41)
//	EOF                   only without CLIENT_DEPRECATE_EOF
//	rows                  one packet each
//	EOF, or OK with header 0xfe under CLIENT_DEPRECATE_EOF
//
// A text row holds each value as a length-encoded string, NULL as 0xfb. A
// binary row (prepared statements) is 0x00, a NULL bitmap of
// (columns+7+2)/8 bytes whose first two bits are unused, and the non-NULL
// values in their binary form (values.go). A statement without a result
// set (DDL, INSERT) is answered with an OK packet carrying the affected
// rows. SERVER_MORE_RESULTS_EXISTS in the status flags says another result
// follows (several statements in one COM_QUERY).

// maxLoggedSQL is how much of a statement's text a log line carries.
const maxLoggedSQL = 1024

// handleQuery runs a COM_QUERY. With CLIENT_MULTI_STATEMENTS the text may
// hold several statements separated by ';', answered one result each until
// the first error; without it the text is one statement (the executor
// rejects more).
func (c *conn) handleQuery(ctx context.Context, text string) error {
	stmts := sqltext.Split(text)
	if len(stmts) == 0 {
		return c.writeErr(newError(erEmptyQuery, "42000", "Query was empty"))
	}
	if c.caps&clientMultiStatements == 0 {
		stmts = []string{text}
	}
	for i, sql := range stmts {
		status := uint16(defaultStatus)
		if i < len(stmts)-1 {
			status |= statusMoreResults
		}
		if err := c.runAndWrite(ctx, sql, false, status); err != nil {
			return err
		}
		if c.failedStmt {
			return nil
		}
	}
	return nil
}

// runAndWrite runs one statement and writes its result, or its error as an
// ERR packet (then c.failedStmt is set). An error returned means the
// connection broke.
func (c *conn) runAndWrite(ctx context.Context, sql string, binary bool, status uint16) error {
	began := time.Now()
	c.failedStmt = false
	res, err := c.run(ctx, sql)
	if err != nil {
		c.srv.m.observe(err, time.Since(began))
		c.logFailure(ctx, err, sql)
		c.failedStmt = true
		return c.writeErr(toWireError(err))
	}
	defer res.Release()
	err = c.writeResult(res, binary, status)
	c.srv.m.observe(nil, time.Since(began))
	return err
}

// run answers a statement: a compatibility query from its canned answers,
// anything else with the executor.
func (c *conn) run(ctx context.Context, sql string) (*query.Result, error) {
	if a, ok := c.compat(sql); ok {
		return a()
	}
	if t := c.srv.o.Timeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel() // Execute returns a materialized result
	}
	res, err := c.srv.o.Executor.Execute(ctx, query.Session{Database: c.db, User: c.user}, sql)
	if err == nil && res == nil {
		res = &query.Result{}
	}
	return res, err
}

func (c *conn) logFailure(ctx context.Context, err error, sql string) {
	level := slog.LevelDebug
	if isServerFault(err) {
		level = slog.LevelWarn
	}
	if len(sql) > maxLoggedSQL {
		sql = sql[:maxLoggedSQL] + "..."
	}
	c.srv.log.Log(ctx, level, "mysql: statement failed", "conn", c.id, "err", err, "sql", sql, "database", c.db)
}

// writeResult writes res as an OK packet or a result set with text or
// binary rows.
func (c *conn) writeResult(res *query.Result, binary bool, status uint16) error {
	if !res.IsQuery() {
		c.out = appendOK(c.out[:0], 0, uint64(max(res.AffectedRows, 0)), status)
		return c.pc.writePacket(c.out)
	}
	fields := res.Schema.Fields()
	c.out = appendLenEncInt(c.out[:0], uint64(len(fields)))
	if err := c.pc.writePacket(c.out); err != nil {
		return err
	}
	encs := make([]colEncoder, len(fields))
	for i, f := range fields {
		encs[i] = encoderFor(f.Name, f.Type, c.loc, c.srv.o.TimestampAsMillis)
		c.out = appendColumn(c.out[:0], &encs[i].col)
		if err := c.pc.writePacket(c.out); err != nil {
			return err
		}
	}
	if c.caps&clientDeprecateEOF == 0 {
		c.out = appendEOF(c.out[:0], status)
		if err := c.pc.writePacket(c.out); err != nil {
			return err
		}
	}
	var val []byte
	for _, rec := range res.Records {
		cols := rec.Columns()
		for i := range int(rec.NumRows()) {
			if binary {
				c.out = append(c.out[:0], 0)
				bitmap := len(c.out)
				c.out = append(c.out, make([]byte, (len(cols)+7+2)/8)...)
				for j, col := range cols {
					if col.IsNull(i) || encs[j].binary == nil {
						c.out[bitmap+(j+2)/8] |= 1 << ((j + 2) % 8)
						continue
					}
					c.out = encs[j].binary(c.out, col, i)
				}
			} else {
				c.out = c.out[:0]
				for j, col := range cols {
					if col.IsNull(i) || encs[j].text == nil {
						c.out = append(c.out, 0xfb)
						continue
					}
					val = encs[j].text(val[:0], col, i)
					c.out = appendLenEncBytes(c.out, val)
				}
			}
			if err := c.pc.writePacket(c.out); err != nil {
				return err
			}
		}
	}
	return c.writeEnd(status)
}
