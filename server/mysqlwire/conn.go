package mysqlwire

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/horaego/horaedb/query"
)

// refuseTimeout bounds how long a refused connection may take to read its
// error.
const refuseTimeout = 5 * time.Second

// conn is one client connection and its session.
type conn struct {
	srv *Server
	nc  net.Conn
	id  uint32
	pc  *packetConn

	caps uint32 // the capabilities both sides have
	user string
	db   string         // the schema statements run in
	loc  *time.Location // the session time zone (SET time_zone)
	zone string         // @@time_zone as the client set it

	stmts    map[uint32]*stmt
	nextStmt uint32

	out        []byte // scratch for outgoing payloads
	failedStmt bool   // the last statement was answered with an error
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{
		srv: s,
		nc:  nc,
		id:  s.nextID.Add(1),
		db:  query.DefaultDatabase,
		loc: s.o.TimeZone,
		pc: &packetConn{
			r:         bufio.NewReaderSize(nc, 16<<10),
			w:         bufio.NewWriterSize(nc, 32<<10),
			maxPacket: s.o.MaxPacketSize,
		},
		stmts: map[uint32]*stmt{},
	}
	c.zone = c.loc.String()
	return c
}

// refuse sends e as the first packet and closes the connection.
func (c *conn) refuse(e *wireError) {
	defer c.nc.Close()
	_ = c.nc.SetWriteDeadline(time.Now().Add(refuseTimeout))
	_ = c.pc.writePacket(appendErr(nil, e))
	_ = c.pc.flush()
}

// serve runs the connection until the client quits, the connection breaks
// or ctx (the server's) is cancelled.
func (c *conn) serve(ctx context.Context) {
	defer c.nc.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := c.srv.log.With("conn", c.id, "remote", c.nc.RemoteAddr().String())
	if err := c.handshake(); err != nil {
		c.failed(log, err, "mysql: handshake failed")
		return
	}
	if err := c.writeOK(0, defaultStatus); err != nil || c.pc.flush() != nil {
		return
	}
	log.Debug("mysql: client connected", "user", c.user, "database", c.db)
	for {
		c.pc.seq = 0
		pkt, err := c.pc.readPacket()
		if err != nil {
			c.failed(log, err, "mysql: reading a command failed")
			return
		}
		if len(pkt) == 0 {
			if c.writeErr(newError(erMalformedPacket, "HY000", "empty command packet")) != nil || c.pc.flush() != nil {
				return
			}
			continue
		}
		quit, err := c.dispatch(ctx, pkt[0], pkt[1:])
		if cap(c.out) > keptBuffer {
			c.out = nil
		}
		if err == nil {
			err = c.pc.flush()
		}
		if quit || err != nil {
			if err != nil {
				c.failed(log, err, "mysql: connection failed")
			}
			return
		}
	}
}

// failed answers a fatal error with an ERR packet where the client may
// still read it, and logs it.
func (c *conn) failed(log *slog.Logger, err error, msg string) {
	var we *wireError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		log.Debug("mysql: connection closed")
		return
	case errors.As(err, &we):
	case errors.Is(err, errPacketTooLarge):
		we = newError(erNetPacketTooLarge, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes (%d)", c.pc.maxPacket)
	case errors.Is(err, errMalformed):
		we = newError(erMalformedPacket, "HY000", "%v", err)
	default:
		log.Debug(msg, "err", err)
		return
	}
	log.Info(msg, "err", we.msg, "code", we.code)
	_ = c.nc.SetWriteDeadline(time.Now().Add(refuseTimeout))
	_ = c.writeErr(we)
	_ = c.pc.flush()
}

// dispatch runs one command. quit is set for COM_QUIT; an error means the
// connection cannot go on.
func (c *conn) dispatch(ctx context.Context, cmd byte, data []byte) (quit bool, err error) {
	switch cmd {
	case comQuit:
		return true, nil
	case comPing:
		return false, c.writeOK(0, defaultStatus)
	case comInitDB:
		c.useDatabase(string(data))
		return false, c.writeOK(0, defaultStatus)
	case comQuery:
		return false, c.handleQuery(ctx, string(data))
	case comFieldList:
		// The columns of a table; the CLI asks for them to complete names.
		// An empty list is a valid answer.
		return false, c.writeEnd(defaultStatus)
	case comStatistics:
		return false, c.pc.writePacket([]byte("Uptime: 0  Threads: 1  Questions: 0  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: 0.000"))
	case comSetOption:
		r := &reader{b: data}
		opt, err := r.uint16("option")
		if err != nil {
			return false, c.writeErr(toWireError(err))
		}
		switch opt {
		case multiStatementsOn:
			c.caps |= clientMultiStatements
		case multiStatementsOff:
			c.caps &^= clientMultiStatements
		default:
			return false, c.writeErr(newError(erUnknownCommand, "08S01", "unknown COM_SET_OPTION option %d", opt))
		}
		return false, c.pc.writePacket(appendEOF(nil, defaultStatus))
	case comResetConnection:
		c.stmts = map[uint32]*stmt{}
		c.loc, c.zone = c.srv.o.TimeZone, c.srv.o.TimeZone.String()
		return false, c.writeOK(0, defaultStatus)
	case comStmtPrepare:
		return false, c.prepare(string(data))
	case comStmtExecute:
		return false, c.execute(ctx, data)
	case comStmtSendLongData:
		c.sendLongData(data) // no answer, even to a bad one
		return false, nil
	case comStmtClose:
		r := &reader{b: data}
		if id, err := r.uint32("statement id"); err == nil {
			delete(c.stmts, id)
		}
		return false, nil // no answer
	case comStmtReset:
		return false, c.resetStmt(data)
	case comStmtFetch:
		return false, c.writeErr(newError(erUnknownStmtHandler, "HY000", "no cursor is open: statements are executed without cursors"))
	case comChangeUser:
		return false, c.writeErr(newError(erNotSupportedYet, "42000", "COM_CHANGE_USER is not supported; open a new connection"))
	}
	return false, c.writeErr(newError(erUnknownCommand, "08S01", "Unknown command 0x%02x", cmd))
}

// useDatabase sets the session's schema: "catalog-schema" is split on the
// first '-' (the catalog is not used: there is one), otherwise the whole
// name is the schema, as upstream did.
func (c *conn) useDatabase(name string) {
	if _, schema, ok := strings.Cut(name, "-"); ok {
		name = schema
	}
	if name == "" {
		name = query.DefaultDatabase
	}
	c.db = name
}

// --- responses ---

func (c *conn) writeOK(affected uint64, status uint16) error {
	c.out = appendOK(c.out[:0], 0, affected, status)
	return c.pc.writePacket(c.out)
}

func (c *conn) writeErr(e *wireError) error {
	c.out = appendErr(c.out[:0], e)
	return c.pc.writePacket(c.out)
}

// writeEnd ends a list of columns or rows: an EOF packet, or an OK packet
// with header 0xfe for a client with CLIENT_DEPRECATE_EOF.
func (c *conn) writeEnd(status uint16) error {
	if c.caps&clientDeprecateEOF != 0 {
		c.out = appendOK(c.out[:0], 0xfe, 0, status)
	} else {
		c.out = appendEOF(c.out[:0], status)
	}
	return c.pc.writePacket(c.out)
}
