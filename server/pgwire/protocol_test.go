package pgwire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// rawClient speaks the protocol byte by byte, to send what real clients
// never do.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *rawClient) send(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// startup sends a StartupMessage with the given code and parameters.
func startupPacket(code uint32, params ...string) []byte {
	body := binary.BigEndian.AppendUint32(nil, code)
	for _, p := range params {
		body = append(append(body, p...), 0)
	}
	body = append(body, 0)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body)+4)), body...)
}

func msg(typ byte, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	out := append([]byte{typ}, binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))...)
	return append(out, body...)
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func i16(v int16) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }

func i32(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// read reads one backend message.
func (c *rawClient) read() (byte, []byte) {
	c.t.Helper()
	var hdr [5]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		c.t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[1:])-4)
	if _, err := io.ReadFull(c.r, body); err != nil {
		c.t.Fatal(err)
	}
	return hdr[0], body
}

// readUntil reads messages up to one of type typ and returns the types
// read, in order, and the last body.
func (c *rawClient) readUntil(typ byte) (string, []byte) {
	c.t.Helper()
	var seen []byte
	for {
		t, body := c.read()
		seen = append(seen, t)
		if t == typ {
			return string(seen), body
		}
	}
}

// errorCode returns the SQLSTATE of an ErrorResponse body.
func errorCode(body []byte) string {
	for i := 0; i < len(body) && body[i] != 0; {
		j := bytes.IndexByte(body[i+1:], 0)
		if j < 0 {
			break
		}
		if body[i] == 'C' {
			return string(body[i+1 : i+1+j])
		}
		i += j + 2
	}
	return ""
}

func (c *rawClient) login() {
	c.t.Helper()
	c.send(startupPacket(196608, "user", "root", "database", "public"))
	if seen, _ := c.readUntil('Z'); !strings.HasPrefix(seen, "R") || !strings.Contains(seen, "K") {
		c.t.Fatalf("startup answered %q", seen)
	}
}

func TestStartupRequests(t *testing.T) {
	_, addr := startServer(t, Options{})
	// SSLRequest and GSSENCRequest are answered 'N', then startup goes on.
	c := dialRaw(t, addr)
	c.send(binary.BigEndian.AppendUint32(i32(8), codeGSSENCRequest))
	c.send(binary.BigEndian.AppendUint32(i32(8), codeSSLRequest))
	b := make([]byte, 2)
	if _, err := io.ReadFull(c.r, b); err != nil || string(b) != "NN" {
		t.Fatalf("encryption requests answered %q %v", b, err)
	}
	c.login()
	// A newer minor version is negotiated down.
	c = dialRaw(t, addr)
	c.send(startupPacket(196608+2, "user", "root", "_pq_.something", "x"))
	if seen, body := c.readUntil('Z'); seen[0] != 'v' {
		t.Fatalf("protocol 3.2 answered %q %q", seen, body)
	}
	// Bad startups get a FATAL error.
	for _, tc := range []struct {
		name string
		pkt  []byte
		code string
	}{
		{"protocol 2", startupPacket(131072, "user", "root"), codeFeatureNotSupported},
		{"no user", startupPacket(196608, "database", "x"), codeInvalidAuthSpec},
		{"unterminated", append(binary.BigEndian.AppendUint32(nil, 13), 0, 3, 0, 0, 'u', 's', 'e', 'r', 'x'), codeProtocolViolation},
		{"too long", binary.BigEndian.AppendUint32(nil, 1<<20), codeProtocolViolation},
	} {
		c := dialRaw(t, addr)
		c.send(tc.pkt)
		typ, body := c.read()
		if typ != 'E' || errorCode(body) != tc.code {
			t.Errorf("%s: %q %q, want error %s", tc.name, typ, body, tc.code)
		}
	}
}

func TestBadMessages(t *testing.T) {
	_, addr := startServer(t, Options{MaxMessageSize: 1024})
	c := dialRaw(t, addr)
	c.login()

	// Extended-protocol errors: an ErrorResponse, then everything up to
	// Sync is skipped, then ReadyForQuery.
	for _, tc := range []struct {
		name string
		msgs []byte
		code string
	}{
		{"syntax error at Parse", msg('P', cstr(""), cstr("SELEC $1"), i16(0)), codeSyntaxError},
		{"two statements", msg('P', cstr(""), cstr("SELECT 1; SELECT 2"), i16(0)), codeSyntaxError},
		{"$0", msg('P', cstr(""), cstr("SELECT $0"), i16(0)), codeUndefinedParameter},
		{"unknown statement", msg('B', cstr(""), cstr("nope"), i16(0), i16(0), i16(0)), codeInvalidStmtName},
		{"unknown portal", msg('E', cstr("nope"), i32(0)), codeInvalidCursorName},
		{"bad describe", msg('D', []byte{'X'}, cstr("")), codeProtocolViolation},
		{"cut short", msg('B', cstr("")), codeProtocolViolation},
		{"wrong parameter count", bytes.Join([][]byte{
			msg('P', cstr("s1"), cstr("SELECT $1"), i16(0)),
			msg('B', cstr(""), cstr("s1"), i16(0), i16(0), i16(0)),
		}, nil), codeProtocolViolation},
		{"bad binary int", bytes.Join([][]byte{
			msg('P', cstr("s2"), cstr("SELECT $1"), i16(1), i32(oidInt8)),
			msg('B', cstr(""), cstr("s2"), i16(1), i16(1), i16(1), i32(3), []byte{1, 2, 3}, i16(0)),
		}, nil), codeInvalidBinary},
		{"bad text int", bytes.Join([][]byte{
			msg('P', cstr("s3"), cstr("SELECT $1"), i16(1), i32(oidInt4)),
			msg('B', cstr(""), cstr("s3"), i16(0), i16(1), i32(3), []byte("1x2"), i16(0)),
		}, nil), codeInvalidText},
		{"duplicate statement", msg('P', cstr("s1"), cstr("SELECT 1"), i16(0)), codeDuplicatePrepared},
		{"function call", msg('F', i32(1)), codeFeatureNotSupported},
		{"unknown table at execute", bytes.Join([][]byte{
			msg('P', cstr(""), cstr("SELECT * FROM nope"), i16(0)),
			msg('B', cstr(""), cstr(""), i16(0), i16(0), i16(0)),
			msg('E', cstr(""), i32(0)),
		}, nil), codeUndefinedTable},
	} {
		c.send(tc.msgs)
		// This Parse would succeed, but follows the error: skipped.
		c.send(msg('P', cstr("skipped"), cstr("SELECT 1"), i16(0)))
		c.send(msg('S'))
		var seen []byte
		code := ""
		for {
			typ, body := c.read()
			seen = append(seen, typ)
			if typ == 'E' && code == "" {
				code = errorCode(body)
			}
			if typ == 'Z' {
				break
			}
		}
		if !bytes.HasSuffix(seen, []byte("EZ")) || code != tc.code {
			t.Errorf("%s: got %q with error %s, want an error %s and ReadyForQuery", tc.name, seen, code, tc.code)
		}
	}
	// The skipped Parse did not create its statement.
	c.send(msg('D', []byte{'S'}, cstr("skipped")))
	c.send(msg('S'))
	if _, body := c.read(); errorCode(body) != codeInvalidStmtName {
		t.Errorf("a Parse after an error was not skipped: %q", body)
	}
	c.readUntil('Z')

	// A simple query after all that still works.
	c.send(msg('Q', cstr("SELECT 41 + 1")))
	if seen, _ := c.readUntil('Z'); seen != "TDCZ" {
		t.Errorf("SELECT after errors: %q", seen)
	}
	// An empty query.
	c.send(msg('Q', cstr(" ; ")))
	if seen, _ := c.readUntil('Z'); seen != "IZ" {
		t.Errorf("empty query: %q", seen)
	}
	// Execute with a row limit: the one row fills the limit and the portal
	// completes, as we know no rows remain (PostgreSQL itself would
	// suspend and complete on the next Execute); a second Execute of the
	// finished portal completes with no rows.
	c.send(bytes.Join([][]byte{
		msg('P', cstr(""), cstr("SHOW DATABASES"), i16(0)),
		msg('B', cstr("p"), cstr(""), i16(0), i16(0), i16(1), i16(1)),
		msg('D', []byte{'P'}, cstr("p")),
		msg('E', cstr("p"), i32(1)),
		msg('E', cstr("p"), i32(1)),
		msg('C', []byte{'P'}, cstr("p")),
		msg('S'),
	}, nil))
	if seen, _ := c.readUntil('Z'); seen != "12TDCC3Z" {
		t.Errorf("portal with a row limit: %q", seen)
	}

	// A message over the limit: a FATAL error, and the connection closes.
	c.send(msg('Q', cstr(strings.Repeat("x", 2000))))
	typ, body := c.read()
	if typ != 'E' || errorCode(body) != codeProtocolViolation {
		t.Errorf("oversized message: %q %q", typ, body)
	}
	if _, err := c.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after an oversized message: %v, want EOF", err)
	}
	// An unknown message type: the same.
	c = dialRaw(t, addr)
	c.login()
	c.send(msg('y'))
	if typ, body := c.read(); typ != 'E' || errorCode(body) != codeProtocolViolation {
		t.Errorf("unknown message: %q %q", typ, body)
	}
	// A client that hangs up mid-message does not bother the server.
	c = dialRaw(t, addr)
	c.login()
	c.send([]byte{'Q', 0, 0, 0, 100, 'S'})
	c.nc.Close()
	c = dialRaw(t, addr)
	c.login()
}

func TestMaxConnections(t *testing.T) {
	_, addr := startServer(t, Options{MaxConnections: 1})
	c := dialRaw(t, addr)
	c.login()
	c2 := dialRaw(t, addr)
	c2.send(startupPacket(196608, "user", "root"))
	if typ, body := c2.read(); typ != 'E' || errorCode(body) != codeTooManyConnections {
		t.Errorf("second connection: %q %q", typ, body)
	}
}

// --- fuzz targets of the decoders ---

func FuzzReadMessage(f *testing.F) {
	f.Add(msg('Q', cstr("SELECT 1")))
	f.Add([]byte{'Q', 0, 0, 0, 3})
	f.Add([]byte{'Q', 0xff, 0xff, 0xff, 0xff})
	f.Add(startupPacket(196608, "user", "x"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		m := &msgReader{r: bufio.NewReader(bytes.NewReader(stream)), max: 512}
		if body, err := m.readStartup(); err == nil && len(body) > maxStartupPacket {
			t.Fatalf("a startup packet of %d bytes", len(body))
		}
		m = &msgReader{r: bufio.NewReader(bytes.NewReader(stream)), max: 512}
		for range 8 {
			_, body, err := m.readMessage()
			if err != nil {
				return
			}
			if len(body) > 512 {
				t.Fatalf("a message of %d bytes passed a limit of 512", len(body))
			}
		}
	})
}

var discard = slog.New(slog.DiscardHandler)

// noExecutor fails every statement.
type noExecutor struct{}

func (noExecutor) Execute(context.Context, query.Session, string) (*query.Result, error) {
	return nil, errors.New("no executor here")
}

// fakeConn is a net.Conn with addresses only.
type fakeConn struct{ net.Conn }

func (fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// newTestConn returns a conn that writes to nowhere, for decoders.
func newTestConn() *conn {
	m, _ := newMetrics(nil)
	s := &Server{o: Options{Executor: noExecutor{}, Version: "v", MaxMessageSize: 1 << 20}, log: discard, m: m}
	c := s.newConn(fakeConn{})
	c.out.w = bufio.NewWriter(io.Discard)
	return c
}

func FuzzStartupParams(f *testing.F) {
	f.Add(uint32(0), []byte("user\x00root\x00database\x00db\x00\x00"))
	f.Add(uint32(2), []byte("user\x00x\x00_pq_.a\x00b\x00\x00"))
	f.Add(uint32(0), []byte("user\x00"))
	f.Fuzz(func(t *testing.T, minor uint32, body []byte) {
		c := newTestConn()
		err := c.startupParams(minor%4, body)
		var pe *pgError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("startup error %T %v, want *pgError", err, err)
		}
	})
}

// FuzzExtendedMessages feeds fuzzed Parse, Bind, Describe, Execute and
// Close bodies to a connection: they never panic, and their errors are
// protocol or statement errors.
func FuzzExtendedMessages(f *testing.F) {
	f.Add(byte('P'), msg('P', cstr("s"), cstr("SELECT $1, $2"), i16(1), i32(oidInt8))[5:])
	f.Add(byte('B'), msg('B', cstr("p"), cstr("s"), i16(1), i16(1), i16(2), i32(8), make([]byte, 8), i32(-1), i16(1), i16(1))[5:])
	f.Add(byte('B'), msg('B', cstr("p"), cstr("s"), i16(0), i16(2), i32(1), []byte("1"), i32(2), []byte("ab"), i16(0))[5:])
	f.Add(byte('D'), msg('D', []byte{'S'}, cstr("s"))[5:])
	f.Add(byte('E'), msg('E', cstr("p"), i32(1))[5:])
	f.Add(byte('C'), msg('C', []byte{'P'}, cstr("p"))[5:])
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		c := newTestConn()
		ctx := t.Context()
		if err := c.parse(ctx, msg('P', cstr("s"), cstr("SELECT $1, $2"), i16(1), i32(oidInt8))[5:]); err != nil {
			t.Fatal(err)
		}
		var err error
		switch typ % 5 {
		case 0:
			err = c.parse(ctx, body)
		case 1:
			err = c.bind(body)
		case 2:
			err = c.describe(ctx, body)
		case 3:
			err = c.execute(ctx, body)
		case 4:
			err = c.closeMessage(body)
		}
		var pe *pgError
		if err != nil && !errors.As(err, &pe) && !errors.Is(err, errProtocol) {
			t.Fatalf("error %T %v", err, err)
		}
	})
}

// FuzzDecodeParam decodes fuzzed parameter values of every type in both
// formats: decoding never panics, and a value that decodes is one literal
// expression of the dialect.
func FuzzDecodeParam(f *testing.F) {
	oids := []uint32{oidUnspecified, oidBool, oidBytea, oidInt8, oidInt2, oidInt4, oidText, oidOID, oidFloat4, oidFloat8,
		oidVarchar, oidDate, oidTime, oidTimestamp, oidTimestamptz, oidNumeric, oidUUID, oidJSONB, oidJSON, 9999}
	f.Add(uint8(3), false, []byte("-42"))
	f.Add(uint8(2), false, []byte(`\x00ff`))
	f.Add(uint8(2), false, []byte(`a\\b\001`))
	f.Add(uint8(14), false, []byte("2024-01-02 03:04:05.123+05:30"))
	f.Add(uint8(15), true, []byte{0, 2, 0, 1, 0x40, 0, 0, 2, 0, 12, 13, 0x80})
	f.Add(uint8(13), true, []byte{0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(uint8(9), true, binary.BigEndian.AppendUint64(nil, math.Float64bits(math.Inf(-1))))
	f.Add(uint8(0), false, []byte("it's \\ "))
	f.Fuzz(func(t *testing.T, which uint8, binaryFormat bool, v []byte) {
		format := int16(0)
		if binaryFormat {
			format = 1
		}
		lit, err := decodeParam(oids[int(which)%len(oids)], format, v)
		if err != nil {
			if !errors.Is(err, errParam) {
				t.Fatalf("error %v does not wrap errParam", err)
			}
			return
		}
		stmt, err := parser.Parse("SELECT " + string(lit))
		if err != nil {
			t.Fatalf("literal %q does not parse: %v", lit, err)
		}
		if items := stmt.(*parser.Query).Body.(*parser.Select).Items; len(items) != 1 {
			t.Fatalf("literal %q is %d expressions", lit, len(items))
		}
	})
}

// FuzzTranslate checks the translation of PostgreSQL's lexical rules:
// whatever the content of a string quoted the way psql and pgx quote
// (standard-conforming: ' doubled, nothing else), it stays one string
// literal with that content; the same for "identifiers". And no input
// makes it panic.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{"it's", `back\slash\`, "\\'; DROP TABLE t; --", "$$", "a\x00b", "`", "\""} {
		f.Add(s, "SELECT 1 FROM t")
	}
	f.Add("x", "SELECT E'\\x41\\101\\u0041', $tag$body$tag$, $1::int8, \"Col\" /* /* nested */ */ FROM \"t\"")
	f.Fuzz(func(t *testing.T, value, sql string) {
		_ = translate(sql)
		quoted := "'" + strings.ReplaceAll(value, "'", "''") + "'"
		out := translate("SELECT " + quoted + " = s")
		stmt, err := parser.Parse(out)
		if err != nil {
			t.Fatalf("%q translated to %q, which does not parse: %v", quoted, out, err)
		}
		eq, ok := stmt.(*parser.Query).Body.(*parser.Select).Items[0].Expr.(*parser.BinaryExpr)
		if !ok {
			t.Fatalf("%q translated to %q, which is not a comparison", quoted, out)
		}
		if lit, ok := eq.Left.(*parser.StringLit); !ok || lit.Value != value {
			t.Fatalf("%q translated to %q: the string is %#v", quoted, out, eq.Left)
		}
		if value == "" || strings.ContainsRune(value, 0) {
			return
		}
		ident := "\"" + strings.ReplaceAll(value, "\"", "\"\"") + "\""
		out = translate("SELECT " + ident + " FROM t")
		toks := sqltext.Tokenize(out, sqltext.NoPlaceholders)
		if len(toks) != 4 || toks[1].Kind != sqltext.QuotedIdent || toks[1].Value != value {
			t.Fatalf("%q translated to %q: %+v", ident, out, toks)
		}
	})
}

func TestTranslate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 'a\b'`, `SELECT 'a\\b'`},
		{`SELECT 'it''s'`, `SELECT 'it''s'`},
		{`SELECT E'it\'s\n'`, "SELECT 'it''s\n'"},
		{`SELECT "Col", "a""b" FROM "T"`, "SELECT `Col`, `a\"b` FROM `T`"},
		{"SELECT $$a'b$$, $x$c$x$", `SELECT 'a''b', 'c'`},
		{"SELECT $1::int8, $2 :: float8, 1::double precision, x::timestamp with time zone", "SELECT $1::bigint, $2 :: double, 1::double, x::timestamp"},
		{"SELECT 1 /* a /* b */ c */ + 2", "SELECT 1   + 2"},
		{"SELECT 1 -- it's\n", "SELECT 1 -- it's\n"},
		{"SELECT e, be'x'", "SELECT e, be'x'"},
		{"SELECT x'0A'", "SELECT x'0A'"},
	} {
		if got := translate(tc.in); got != tc.want {
			t.Errorf("translate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNumericBinary(t *testing.T) {
	for _, v := range []uint64{0, 1, 9999, 10000, 12345678, 100000000, math.MaxUint64} {
		b := appendNumericUint(nil, v)
		s, err := decodeNumeric(b)
		if err != nil || s != strings.TrimSpace(strings.TrimLeft(uintString(v), "")) {
			t.Errorf("%d: round trip gives %q %v", v, s, err)
		}
	}
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{[]byte{0, 2, 0, 0, 0x40, 0, 0, 3, 0, 12, 0x0d, 0xac}, "-12.350"},
		{[]byte{0, 1, 0xff, 0xff, 0, 0, 0, 6, 0x04, 0xd2}, "0.123400"},
		{[]byte{0, 0, 0, 0, 0xc0, 0, 0, 0}, "NaN"},
	} {
		if s, err := decodeNumeric(tc.b); err != nil || s != tc.want {
			t.Errorf("decodeNumeric(%x) = %q %v, want %q", tc.b, s, err, tc.want)
		}
	}
}

func uintString(v uint64) string {
	var b []byte
	if v == 0 {
		return "0"
	}
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}
