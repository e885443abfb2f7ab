package mysqlwire

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// Prepared statements
// (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase_ps.html):
//
//	COM_STMT_PREPARE      0x16, the statement text with ? placeholders
//	  answer              0x00, statement id u32, columns u16 (always 0:
//	                      the columns are sent with each execution),
//	                      parameters u16, 0x00, warnings u16; then one
//	                      column definition per parameter and an EOF
//	                      (without CLIENT_DEPRECATE_EOF)
//	COM_STMT_EXECUTE      0x17, statement id u32, flags u8 (cursors are not
//	                      opened: the whole result is sent), iterations u32;
//	                      with parameters: a NULL bitmap of (n+7)/8 bytes,
//	                      new-params-bound u8, [type u16 per parameter
//	                      (type, then 0x80 for UNSIGNED)], the values of the
//	                      non-NULL parameters in their binary form
//	  answer              a result set with binary rows, an OK or an ERR
//	COM_STMT_SEND_LONG_DATA 0x18, statement id u32, parameter u16, bytes;
//	                      appended to the parameter's value; no answer
//	COM_STMT_RESET        0x1a, statement id u32: drops long data; OK
//	COM_STMT_CLOSE        0x19, statement id u32; no answer
//
// The executor has no placeholders: each execution renders the parameters
// as SQL literals into the statement (package sqltext), which then runs
// like a COM_QUERY. Binary parameters map to literals so:
//
//	NULL                              NULL
//	TINY, SHORT, LONG, INT24,         integers (signed or UNSIGNED)
//	LONGLONG, YEAR
//	FLOAT, DOUBLE                     floating-point literals
//	DECIMAL, NEWDECIMAL               the number, checked
//	strings, blobs, JSON, ENUM, SET   a string literal when the bytes are
//	                                  UTF-8, else a binary literal x'..'
//	DATE                              'YYYY-MM-DD'
//	DATETIME, TIMESTAMP               an RFC 3339 timestamp, read in the
//	                                  session's time zone
//	TIME                              '[-]HH:MM:SS.ffffff'

// maxStatements bounds the prepared statements of one connection, as
// MySQL's max_prepared_stmt_count does.
const maxStatements = 16382

// stmt is a prepared statement.
type stmt struct {
	tmpl *sqltext.Template
	// types are the parameter types of the last execution that sent them.
	types []uint16
	// long holds COM_STMT_SEND_LONG_DATA bytes by parameter, until the next
	// execution or reset; longSize is their total size.
	long     map[int][]byte
	longSize int
	longErr  *wireError
}

// prepare answers COM_STMT_PREPARE.
func (c *conn) prepare(sql string) error {
	if len(c.stmts) >= maxStatements {
		return c.writeErr(newError(erMaxPreparedStmt, "42000",
			"Can't create more than max_prepared_stmt_count statements (current value: %d)", maxStatements))
	}
	tmpl, err := sqltext.NewTemplate(sql, sqltext.QuestionMark)
	if err != nil {
		return c.writeErr(newError(erParse, "42000", "%v", err))
	}
	// Syntax errors are reported now, as MySQL does.
	nulls := make([][]byte, tmpl.NumParams())
	for i := range nulls {
		nulls[i] = []byte("NULL")
	}
	probe, _ := tmpl.Bind(nulls)
	if _, ok := c.compat(probe); !ok {
		if _, err := parser.Parse(probe); err != nil {
			return c.writeErr(toWireError(err))
		}
	}
	c.nextStmt++
	id := c.nextStmt
	c.stmts[id] = &stmt{tmpl: tmpl}

	n := tmpl.NumParams()
	c.out = append(c.out[:0], 0)
	c.out = binary.LittleEndian.AppendUint32(c.out, id)
	c.out = binary.LittleEndian.AppendUint16(c.out, 0) // columns
	c.out = binary.LittleEndian.AppendUint16(c.out, uint16(n))
	c.out = append(c.out, 0, 0, 0) // filler, warnings
	if err := c.pc.writePacket(c.out); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	param := column{name: "?", typ: typeVarString, charset: charsetBinary, flags: flagBinary}
	for range n {
		c.out = appendColumn(c.out[:0], &param)
		if err := c.pc.writePacket(c.out); err != nil {
			return err
		}
	}
	if c.caps&clientDeprecateEOF == 0 {
		c.out = appendEOF(c.out[:0], defaultStatus)
		return c.pc.writePacket(c.out)
	}
	return nil
}

func unknownStmt(id uint32, cmd string) *wireError {
	return newError(erUnknownStmtHandler, "HY000", "Unknown prepared statement handler (%d) given to %s", id, cmd)
}

// execute answers COM_STMT_EXECUTE.
func (c *conn) execute(ctx context.Context, data []byte) error {
	r := &reader{b: data}
	id, err := r.uint32("statement id")
	if err != nil {
		return c.writeErr(toWireError(err))
	}
	st := c.stmts[id]
	if st == nil {
		return c.writeErr(unknownStmt(id, "mysqld_stmt_execute"))
	}
	lits, werr := c.bindParams(st, r)
	st.long, st.longSize, st.longErr = nil, 0, nil
	if werr != nil {
		return c.writeErr(werr)
	}
	sql, err := st.tmpl.Bind(lits)
	if err != nil {
		return c.writeErr(newError(erWrongArguments, "HY000", "%v", err))
	}
	return c.runAndWrite(ctx, sql, true, defaultStatus)
}

// bindParams decodes the parameters of a COM_STMT_EXECUTE (after the
// statement id) into literals.
func (c *conn) bindParams(st *stmt, r *reader) ([][]byte, *wireError) {
	if st.longErr != nil {
		return nil, st.longErr
	}
	bad := func(err error) *wireError {
		return newError(erWrongArguments, "HY000", "Incorrect arguments to mysqld_stmt_execute: %v", err)
	}
	if _, err := r.bytes(1+4, "flags and iteration count"); err != nil {
		return nil, bad(err)
	}
	n := st.tmpl.NumParams()
	if n == 0 {
		return nil, nil
	}
	nulls, err := r.bytes((n+7)/8, "NULL bitmap")
	if err != nil {
		return nil, bad(err)
	}
	bound, err := r.byte("new-params-bound flag")
	if err != nil {
		return nil, bad(err)
	}
	if bound == 1 {
		types := make([]uint16, n)
		for i := range types {
			if types[i], err = r.uint16("parameter type"); err != nil {
				return nil, bad(err)
			}
		}
		st.types = types
	}
	if st.types == nil {
		return nil, bad(fmt.Errorf("the parameter types were never sent"))
	}
	lits := make([][]byte, n)
	for i := range lits {
		switch {
		case nulls[i/8]&(1<<(i%8)) != 0:
			lits[i] = sqltext.AppendNull(nil)
		case st.long[i] != nil:
			lits[i] = appendText(nil, st.long[i])
		default:
			if lits[i], err = c.decodeParam(r, st.types[i]); err != nil {
				return nil, bad(fmt.Errorf("parameter %d: %w", i+1, err))
			}
		}
	}
	return lits, nil
}

// appendText renders the bytes of a string or blob parameter: a string
// literal when they are UTF-8 (the executor converts strings for binary
// columns too), a binary literal otherwise.
func appendText(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return sqltext.AppendString(dst, string(b))
	}
	return sqltext.AppendBytes(dst, b)
}

// decodeParam reads one binary parameter value of type typ and returns its
// literal.
func (c *conn) decodeParam(r *reader, typ uint16) ([]byte, error) {
	unsigned := typ&0x8000 != 0
	switch byte(typ) {
	case typeNull:
		return sqltext.AppendNull(nil), nil
	case typeTiny:
		v, err := r.byte("TINY")
		if unsigned {
			return sqltext.AppendUint(nil, uint64(v)), err
		}
		return sqltext.AppendInt(nil, int64(int8(v))), err
	case typeShort, typeYear:
		v, err := r.uint16("SHORT")
		if unsigned || byte(typ) == typeYear {
			return sqltext.AppendUint(nil, uint64(v)), err
		}
		return sqltext.AppendInt(nil, int64(int16(v))), err
	case typeLong, typeInt24:
		v, err := r.uint32("LONG")
		if unsigned {
			return sqltext.AppendUint(nil, uint64(v)), err
		}
		return sqltext.AppendInt(nil, int64(int32(v))), err
	case typeLongLong:
		v, err := r.uint64("LONGLONG")
		if unsigned {
			return sqltext.AppendUint(nil, v), err
		}
		return sqltext.AppendInt(nil, int64(v)), err
	case typeFloat:
		v, err := r.uint32("FLOAT")
		return sqltext.AppendFloat(nil, float64(math.Float32frombits(v)), 32), err
	case typeDouble:
		v, err := r.uint64("DOUBLE")
		return sqltext.AppendFloat(nil, math.Float64frombits(v), 64), err
	case typeDecimal, typeNewDecimal:
		b, err := r.lenEncBytes("DECIMAL")
		if err != nil {
			return nil, err
		}
		return sqltext.AppendDecimal(nil, string(b))
	case typeVarchar, typeVarString, typeString, typeEnum, typeSet, typeJSON,
		typeTinyBlob, typeMediumBlob, typeLongBlob, typeBlob, typeBit, typeGeometry:
		b, err := r.lenEncBytes("string")
		if err != nil {
			return nil, err
		}
		return appendText(nil, b), nil
	case typeDate, typeDatetime, typeTimestamp, typeNewDate, typeDatetime2, typeTimestamp2:
		return c.decodeDatetime(r, byte(typ) == typeDate || byte(typ) == typeNewDate)
	case typeTime, typeTime2:
		return decodeTime(r)
	}
	return nil, fmt.Errorf("unsupported parameter type 0x%02x", byte(typ))
}

// decodeDatetime reads a binary DATE or DATETIME: a length (0, 4, 7 or 11),
// then year u16, month, day, [hour, minute, second, [microseconds u32]].
func (c *conn) decodeDatetime(r *reader, dateOnly bool) ([]byte, error) {
	n, err := r.byte("date length")
	if err != nil {
		return nil, err
	}
	if n != 0 && n != 4 && n != 7 && n != 11 {
		return nil, fmt.Errorf("a date of length %d", n)
	}
	b, err := r.bytes(int(n), "date")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("the zero date 0000-00-00 is not a valid date")
	}
	year, month, day := int(binary.LittleEndian.Uint16(b)), int(b[2]), int(b[3])
	var hour, minute, sec, micros int
	if n >= 7 {
		hour, minute, sec = int(b[4]), int(b[5]), int(b[6])
	}
	if n == 11 {
		micros = int(binary.LittleEndian.Uint32(b[7:]))
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 || micros > 999999 {
		return nil, fmt.Errorf("%04d-%02d-%02d %02d:%02d:%02d.%06d is not a valid date", year, month, day, hour, minute, sec, micros)
	}
	if dateOnly {
		return sqltext.AppendString(nil, fmt.Sprintf("%04d-%02d-%02d", year, month, day)), nil
	}
	return sqltext.AppendTimestamp(nil, time.Date(year, time.Month(month), day, hour, minute, sec, micros*1000, c.loc)), nil
}

// decodeTime reads a binary TIME: a length (0, 8 or 12), then the sign,
// days u32, hours, minutes, seconds, [microseconds u32].
func decodeTime(r *reader) ([]byte, error) {
	n, err := r.byte("time length")
	if err != nil {
		return nil, err
	}
	if n != 0 && n != 8 && n != 12 {
		return nil, fmt.Errorf("a time of length %d", n)
	}
	b, err := r.bytes(int(n), "time")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return sqltext.AppendString(nil, "00:00:00"), nil
	}
	days, hour, minute, sec := uint64(binary.LittleEndian.Uint32(b[1:])), uint64(b[5]), uint64(b[6]), uint64(b[7])
	var micros uint64
	if n == 12 {
		micros = uint64(binary.LittleEndian.Uint32(b[8:]))
	}
	if hour > 23 || minute > 59 || sec > 59 || micros > 999999 || days > 34 {
		return nil, fmt.Errorf("not a valid time")
	}
	var s []byte
	if b[0] == 1 {
		s = append(s, '-')
	}
	s = appendPadded(s, days*24+hour, 2)
	s = append(s, ':')
	s = appendPadded(s, minute, 2)
	s = append(s, ':')
	s = appendPadded(s, sec, 2)
	if micros != 0 {
		s = append(s, '.')
		s = appendPadded(s, micros, 6)
	}
	return sqltext.AppendString(nil, string(s)), nil
}

// sendLongData handles COM_STMT_SEND_LONG_DATA. It has no answer: a
// problem is reported by the next execution.
func (c *conn) sendLongData(data []byte) {
	r := &reader{b: data}
	id, err1 := r.uint32("statement id")
	param, err2 := r.uint16("parameter")
	st := c.stmts[id]
	if err1 != nil || err2 != nil || st == nil {
		return
	}
	if int(param) >= st.tmpl.NumParams() {
		st.longErr = newError(erWrongArguments, "HY000", "long data for parameter %d of a statement with %d", param+1, st.tmpl.NumParams())
		return
	}
	chunk := r.rest()
	if st.longSize+len(chunk) > c.pc.maxPacket {
		st.longErr = newError(erNetPacketTooLarge, "08S01", "long data larger than 'max_allowed_packet' (%s bytes)", strconv.Itoa(c.pc.maxPacket))
		return
	}
	if st.long == nil {
		st.long = map[int][]byte{}
	}
	st.long[int(param)] = append(st.long[int(param)], chunk...)
	if st.long[int(param)] == nil {
		st.long[int(param)] = []byte{}
	}
	st.longSize += len(chunk)
}

// resetStmt answers COM_STMT_RESET.
func (c *conn) resetStmt(data []byte) error {
	r := &reader{b: data}
	id, err := r.uint32("statement id")
	if err != nil {
		return c.writeErr(toWireError(err))
	}
	st := c.stmts[id]
	if st == nil {
		return c.writeErr(unknownStmt(id, "mysqld_stmt_reset"))
	}
	st.long, st.longSize, st.longErr = nil, 0, nil
	return c.writeOK(0, defaultStatus)
}
