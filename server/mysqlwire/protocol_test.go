package mysqlwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/query/parser"
	"github.com/horaego/horaedb/server/auth"
	"github.com/horaego/horaedb/server/mysqlwire/sqltext"
)

// rawClient speaks the protocol byte by byte, to send what real clients
// never do.
type rawClient struct {
	t        *testing.T
	nc       net.Conn
	pc       *packetConn
	scramble []byte
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawClient{t: t, nc: nc, pc: &packetConn{r: bufio.NewReader(nc), w: bufio.NewWriter(nc), maxPacket: 1 << 30}}
	greeting := c.read()
	if greeting[0] != 10 {
		t.Fatalf("greeting starts with %d, want protocol 10", greeting[0])
	}
	r := &reader{b: greeting[1:]}
	version := r.nulString()
	if !strings.HasPrefix(version, "8.0.36-HoraeDB-") {
		t.Errorf("server version %q", version)
	}
	r.uint32("id")
	part1, _ := r.bytes(8, "scramble")
	r.bytes(1+2+1+2+2+1+10, "flags")
	part2, _ := r.bytes(12, "scramble")
	c.scramble = append(append([]byte(nil), part1...), part2...)
	r.byte("nul")
	if plugin := r.nulString(); plugin != nativePassword {
		t.Errorf("auth plugin %q", plugin)
	}
	return c
}

func (c *rawClient) write(payload []byte) {
	c.t.Helper()
	if err := c.pc.writePacket(payload); err != nil {
		c.t.Fatal(err)
	}
	if err := c.pc.flush(); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) read() []byte {
	c.t.Helper()
	b, err := c.pc.readPacket()
	if err != nil {
		c.t.Fatal(err)
	}
	return append([]byte(nil), b...)
}

// login sends a HandshakeResponse41 with plugin and auth data.
func (c *rawClient) login(user string, authData []byte, plugin string, caps uint32) {
	c.t.Helper()
	caps |= clientProtocol41 | clientSecureConnection | clientPluginAuth
	b := binary.LittleEndian.AppendUint32(nil, caps)
	b = binary.LittleEndian.AppendUint32(b, 1<<24)
	b = append(b, charsetUTF8MB4General)
	b = append(b, make([]byte, 23)...)
	b = append(append(b, user...), 0)
	b = append(append(b, byte(len(authData))), authData...)
	b = append(append(b, plugin...), 0)
	c.write(b)
}

// command sends a command and returns the first packet of the answer.
func (c *rawClient) command(payload []byte) []byte {
	c.t.Helper()
	c.pc.seq = 0
	c.write(payload)
	return c.read()
}

func expectErr(t *testing.T, pkt []byte, code uint16) {
	t.Helper()
	if len(pkt) < 9 || pkt[0] != 0xff {
		t.Fatalf("got %q, want ERR %d", pkt, code)
	}
	if got := binary.LittleEndian.Uint16(pkt[1:]); got != code {
		t.Fatalf("got ERR %d %q, want %d", got, pkt[9:], code)
	}
}

func expectOK(t *testing.T, pkt []byte) {
	t.Helper()
	if len(pkt) == 0 || pkt[0] != 0 {
		t.Fatalf("got %q, want OK", pkt)
	}
}

func TestAuthSwitch(t *testing.T) {
	users, _ := auth.Parse([]byte("root,pw\n"))
	_, addr := startServer(t, Options{Users: users})
	// A client that opens with caching_sha2_password is switched to
	// mysql_native_password, with the same scramble.
	c := dialRaw(t, addr)
	c.login("root", []byte("sha2-scramble-here-32-bytes-long"), cachingSHA2Password, 0)
	sw := c.read()
	if sw[0] != 0xfe || !bytes.HasPrefix(sw[1:], []byte(nativePassword+"\x00")) {
		t.Fatalf("want AuthSwitchRequest, got %q", sw)
	}
	if got := sw[1+len(nativePassword)+1 : len(sw)-1]; !bytes.Equal(got, c.scramble) {
		t.Errorf("switch scramble %q, want %q", got, c.scramble)
	}
	c.write(nativeScramble("pw", c.scramble))
	expectOK(t, c.read())
	expectOK(t, c.command([]byte{comPing}))

	// The same with a wrong password.
	c = dialRaw(t, addr)
	c.login("root", nil, cachingSHA2Password, 0)
	c.read()
	c.write(nativeScramble("bad", c.scramble))
	expectErr(t, c.read(), erAccessDenied)
	if _, err := c.pc.readPacket(); err == nil {
		t.Error("the connection stayed open after a failed login")
	}
}

func TestSSLRequestRefused(t *testing.T) {
	_, addr := startServer(t, Options{})
	c := dialRaw(t, addr)
	b := binary.LittleEndian.AppendUint32(nil, clientProtocol41|clientSSL)
	b = binary.LittleEndian.AppendUint32(b, 1<<24)
	b = append(b, charsetUTF8MB4General)
	c.write(append(b, make([]byte, 23)...))
	expectErr(t, c.read(), erAccessDenied)
}

func TestBadPackets(t *testing.T) {
	_, addr := startServer(t, Options{MaxPacketSize: 4096})
	login := func() *rawClient {
		c := dialRaw(t, addr)
		c.login("root", nil, nativePassword, 0)
		expectOK(t, c.read())
		return c
	}
	c := login()
	// Commands that fail leave the connection usable.
	for _, tc := range []struct {
		name string
		cmd  []byte
		code uint16
	}{
		{"unknown command", []byte{0x99}, erUnknownCommand},
		{"empty packet", nil, erMalformedPacket},
		{"execute of an unknown statement", append([]byte{comStmtExecute}, 9, 0, 0, 0, 0, 1, 0, 0, 0), erUnknownStmtHandler},
		{"execute cut short", []byte{comStmtExecute, 1}, erMalformedPacket},
		{"reset of an unknown statement", []byte{comStmtReset, 7, 0, 0, 0}, erUnknownStmtHandler},
		{"set option cut short", []byte{comSetOption}, erMalformedPacket},
		{"bad option", []byte{comSetOption, 9, 0}, erUnknownCommand},
		{"change user", []byte{comChangeUser, 'x', 0}, erNotSupportedYet},
		{"fetch", []byte{comStmtFetch, 1, 0, 0, 0, 1, 0, 0, 0}, erUnknownStmtHandler},
		{"empty query", []byte{comQuery, ' '}, erEmptyQuery},
		{"prepare with a syntax error", append([]byte{comStmtPrepare}, "SELEC ?"...), erParse},
	} {
		if p := c.command(tc.cmd); len(p) < 3 || binary.LittleEndian.Uint16(p[1:]) != tc.code {
			t.Fatalf("%s: got %q, want ERR %d", tc.name, p, tc.code)
		}
		expectOK(t, c.command([]byte{comPing}))
	}
	// Closing or feeding an unknown statement gets no answer at all.
	c.pc.seq = 0
	c.write([]byte{comStmtClose, 1, 2, 3, 4})
	c.pc.seq = 0
	c.write([]byte{comStmtSendLongData, 1, 2})
	expectOK(t, c.command([]byte{comPing}))

	// A prepared statement with parameters that do not decode.
	prep := c.command(append([]byte{comStmtPrepare}, "SELECT ?, ?"...))
	if prep[0] != 0 {
		t.Fatalf("prepare: %q", prep)
	}
	id := prep[1:5]
	for range 2 + 1 { // two parameter definitions and an EOF
		c.read()
	}
	exec := append([]byte{comStmtExecute}, id...)
	exec = append(exec, 0, 1, 0, 0, 0) // flags, iterations
	for _, tc := range []struct {
		name   string
		params []byte
	}{
		{"no types ever sent", []byte{0, 0}},
		{"values cut short", []byte{0, 1, typeLongLong, 0, typeLongLong, 0, 1, 2}},
		{"unknown type", []byte{0, 1, 0x42, 0, 0x42, 0}},
		{"bad string length", []byte{0, 1, typeString, 0, typeString, 0, 0xfe, 1}},
		{"bad date", []byte{0, 1, typeDate, 0, typeDate, 0, 4, 0xe8, 0x07, 13, 1, 4, 0xe8, 0x07, 1, 1}},
		{"bad decimal", []byte{0, 1, typeNewDecimal, 0, typeNewDecimal, 0, 3, '1', '-', '1', 1, '1'}},
	} {
		expectErr(t, c.command(append(append([]byte(nil), exec...), tc.params...)), erWrongArguments)
	}
	// Types sent once are kept for the next execution.
	res := c.command(append(append([]byte(nil), exec...), 0, 1, typeTiny, 0, typeString, 0, 7, 1, 'x'))
	if res[0] != 2 { // two columns
		t.Fatalf("execute: %q", res)
	}
	for eofs := 0; eofs < 2; { // after the columns, after the rows
		if p := c.read(); p[0] == 0xfe && len(p) < 9 {
			eofs++
		}
	}
	expectOK(t, c.command([]byte{comPing}))

	// COM_FIELD_LIST answers an empty list; COM_INIT_DB and
	// COM_SET_OPTION are accepted.
	if p := c.command(append([]byte{comFieldList}, "t\x00"...)); p[0] != 0xfe {
		t.Errorf("field list: %q", p)
	}
	expectOK(t, c.command(append([]byte{comInitDB}, "other"...)))
	if p := c.command([]byte{comSetOption, 0, 0}); p[0] != 0xfe {
		t.Errorf("set option: %q", p)
	}

	// A packet over max_allowed_packet: error 1153, then the connection
	// closes without reading the rest.
	c.pc.seq = 0
	c.pc.w.Write([]byte{0xff, 0xff, 0x00, 0})
	c.pc.w.Write(append([]byte{comQuery}, bytes.Repeat([]byte("x"), 5000)...))
	c.pc.flush()
	c.pc.seq = 1
	expectErr(t, c.read(), erNetPacketTooLarge)
	if _, err := c.pc.readPacket(); !errors.Is(err, io.EOF) {
		t.Errorf("after an oversized packet: %v, want EOF", err)
	}

	// A wrong sequence id: a malformed packet, and the connection closes.
	c = login()
	c.pc.seq = 5
	c.write([]byte{comPing})
	c.pc.seq = 0 // the server answers with the sequence it expected
	expectErr(t, c.read(), erMalformedPacket)

	// A handshake response cut short.
	c = dialRaw(t, addr)
	c.write([]byte{0x00, 0x02, 0, 0, 1})
	expectErr(t, c.read(), erMalformedPacket)
	c = dialRaw(t, addr)
	c.write([]byte{1, 2})
	expectErr(t, c.read(), erMalformedPacket)

	// A client that hangs up mid-packet does not bother the server.
	c = login()
	c.pc.w.Write([]byte{10, 0, 0, 0, comQuery})
	c.pc.flush()
	c.nc.Close()
	c = login()
	expectOK(t, c.command([]byte{comPing}))
}

func TestMaxConnections(t *testing.T) {
	_, addr := startServer(t, Options{MaxConnections: 1})
	c := dialRaw(t, addr)
	c.login("root", nil, nativePassword, 0)
	expectOK(t, c.read())
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	pc := &packetConn{r: bufio.NewReader(nc), w: bufio.NewWriter(nc), maxPacket: 1 << 20}
	p, err := pc.readPacket()
	if err != nil {
		t.Fatal(err)
	}
	expectErr(t, p, erConCount)
}

// --- fuzz targets of the decoders ---

func FuzzReadPacket(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, comPing})
	f.Add([]byte{0xff, 0xff, 0xff, 0, 'a', 0, 0, 0, 1})
	f.Add([]byte{5, 0, 0, 0, 'a'})
	f.Add([]byte{0, 0, 0, 7})
	f.Fuzz(func(t *testing.T, stream []byte) {
		pc := &packetConn{r: bufio.NewReader(bytes.NewReader(stream)), maxPacket: 1024}
		for range 8 {
			p, err := pc.readPacket()
			if err != nil {
				return
			}
			if len(p) > 1024 {
				t.Fatalf("a packet of %d bytes passed a limit of 1024", len(p))
			}
		}
	})
}

func FuzzHandshakeResponse(f *testing.F) {
	good := binary.LittleEndian.AppendUint32(nil, clientProtocol41|clientSecureConnection|clientPluginAuth|clientConnectWithDB|clientConnectAttrs)
	good = append(good, make([]byte, 4+1+23)...)
	good = append(good, "root\x00\x14"...)
	good = append(good, bytes.Repeat([]byte{1}, 20)...)
	good = append(good, "db\x00mysql_native_password\x00\x03a\x01b"...)
	f.Add(good)
	f.Add(binary.LittleEndian.AppendUint32(nil, clientProtocol41|clientPluginAuthLenEncClientData))
	f.Add([]byte{0, 2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHandshakeResponse(b)
		if err == nil && h == nil {
			t.Fatal("nil response without an error")
		}
		if err != nil && !errors.Is(err, errMalformed) {
			t.Fatalf("error %v does not wrap errMalformed", err)
		}
	})
}

// FuzzExecuteParams decodes fuzzed COM_STMT_EXECUTE parameters: decoding
// never panics, and every literal it produces is one literal expression
// of the dialect.
func FuzzExecuteParams(f *testing.F) {
	f.Add(uint8(2), []byte{0, 1, 0, 0, 0, 0, 1, typeLongLong, 0x80, typeVarString, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 'a', '\'', 'b'})
	f.Add(uint8(1), []byte{0, 1, 0, 0, 0, 0, 1, typeDatetime, 0, 11, 0xe8, 0x07, 2, 29, 23, 59, 59, 1, 0, 0, 0})
	f.Add(uint8(1), []byte{0, 1, 0, 0, 0, 0, 1, typeTime, 0, 12, 1, 1, 0, 0, 0, 2, 3, 4, 5, 0, 0, 0})
	f.Add(uint8(1), []byte{0, 1, 0, 0, 0, 0, 1, typeDouble, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
	f.Add(uint8(1), []byte{0, 1, 0, 0, 0, 0, 1, typeNewDecimal, 0, 5, '-', '1', '.', '5', '0'})
	f.Add(uint8(3), []byte{0, 1, 0, 0, 0, 5, 1, typeTiny, 0, typeNull, 0, typeFloat, 0, 0xff})
	c := &conn{loc: time.UTC, pc: &packetConn{maxPacket: 1 << 20}}
	f.Fuzz(func(t *testing.T, n uint8, data []byte) {
		n = n%4 + 1
		tmpl, err := sqltext.NewTemplate("SELECT "+strings.TrimSuffix(strings.Repeat("?, ", int(n)), ", "), sqltext.QuestionMark)
		if err != nil {
			t.Fatal(err)
		}
		lits, werr := c.bindParams(&stmt{tmpl: tmpl}, &reader{b: data})
		if werr != nil {
			return
		}
		for _, lit := range lits {
			stmt, err := parser.Parse("SELECT " + string(lit))
			if err != nil {
				t.Fatalf("literal %q does not parse: %v", lit, err)
			}
			if items := stmt.(*parser.Query).Body.(*parser.Select).Items; len(items) != 1 {
				t.Fatalf("literal %q is %d expressions", lit, len(items))
			}
		}
	})
}

// FuzzCompat feeds statements to the compatibility layer: it never
// panics, and finding out whether it answers a statement changes nothing.
func FuzzCompat(f *testing.F) {
	for _, s := range []string{"SELECT @@version_comment LIMIT 1", "SHOW VARIABLES LIKE 'x%'", "SET time_zone = '+01:00'",
		"SET @@session.a = (1, 2), b = 3", "USE `x`", "SELECT TIMEDIFF(NOW(), UTC_TIMESTAMP())", "SHOW COUNT(*) WARNINGS",
		"SHOW COLLATION WHERE Charset = 'utf8mb4'", "SELECT @@a AS 'b', VERSION() c FROM DUAL"} {
		f.Add(s)
	}
	srv := &Server{o: Options{TimeZone: time.UTC, MaxPacketSize: 1 << 20}, version: "v"}
	f.Fuzz(func(t *testing.T, sql string) {
		c := &conn{srv: srv, nc: fakeAddrConn{}, db: "public", loc: time.UTC, zone: "UTC"}
		a, ok := c.compat(sql)
		if c.db != "public" || c.loc != time.UTC {
			t.Fatal("compat changed the session before answering")
		}
		if ok {
			if res, err := a(); err == nil {
				res.Release()
			}
		}
	})
}

// fakeAddrConn is a net.Conn with addresses only.
type fakeAddrConn struct{ net.Conn }

func (fakeAddrConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

func TestLikeMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"max%", "max_allowed_packet", true},
		{"%packet", "max_allowed_packet", true},
		{"max\\_allowed%", "max_allowed_packet", true},
		{"max\\_allowed%", "maxxallowed_packet", false},
		{"_ax%", "max", true},
		{"%a%a%", "aa", true},
		{"%a%a%", "a", false},
		{"", "", true},
		{"x", "", false},
	} {
		if got := likeMatch(tc.pat, tc.s); got != tc.want {
			t.Errorf("likeMatch(%q, %q) = %v", tc.pat, tc.s, got)
		}
	}
}
