package mysqlwire

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"strings"
)

// The connection phase
// (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html):
//
//	server  Initial Handshake v10 (seq 0):
//	          0x0a, server version NUL, connection id u32, scramble[0:8],
//	          0x00, capabilities low u16, charset u8, status u16,
//	          capabilities high u16, 21, 10 zero bytes, scramble[8:20] NUL,
//	          "mysql_native_password" NUL
//	client  HandshakeResponse41 (seq 1):
//	          capabilities u32, max packet u32, charset u8, 23 zero bytes,
//	          user NUL, auth response (length-encoded with
//	          PLUGIN_AUTH_LENENC_CLIENT_DATA, else a u8 length), [database
//	          NUL], [auth plugin NUL], [connection attributes]
//	server  (when the client answered with another plugin and auth is on)
//	        AuthSwitchRequest: 0xfe, "mysql_native_password" NUL,
//	          scramble NUL
//	client  the auth response for mysql_native_password
//	server  OK, or ERR 1045 (28000) for wrong credentials
//
// mysql_native_password: the client sends
// SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))), or nothing
// for an empty password. The server keeps passwords in clear text
// (server/auth), so it computes the same and compares.
//
// An SSLRequest (a client that sets CLIENT_SSL) is refused: the server
// does not offer TLS.

// handshakeResponse is what the client answers the initial handshake with.
type handshakeResponse struct {
	caps     uint32
	user     string
	auth     []byte
	database string
	plugin   string
}

// newScramble returns 20 random bytes, none of them NUL (some clients read
// the scramble as a NUL-terminated string).
func newScramble() ([]byte, error) {
	b := make([]byte, scrambleLength)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	for i := range b {
		b[i] = b[i]%126 + 1
	}
	return b, nil
}

func appendInitialHandshake(dst []byte, version string, connID uint32, scramble []byte) []byte {
	dst = append(dst, 10)
	dst = append(dst, version...)
	dst = append(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, connID)
	dst = append(dst, scramble[:8]...)
	dst = append(dst, 0)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(serverCapabilities&0xffff))
	dst = append(dst, charsetUTF8MB4General)
	dst = binary.LittleEndian.AppendUint16(dst, defaultStatus)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(serverCapabilities>>16))
	dst = append(dst, scrambleLength+1)
	dst = append(dst, make([]byte, 10)...)
	dst = append(dst, scramble[8:]...)
	dst = append(dst, 0)
	dst = append(dst, nativePassword...)
	return append(dst, 0)
}

// parseHandshakeResponse decodes a HandshakeResponse41.
func parseHandshakeResponse(b []byte) (*handshakeResponse, error) {
	r := &reader{b: b}
	caps, err := r.uint32("capability flags")
	if err != nil {
		return nil, err
	}
	h := &handshakeResponse{caps: caps}
	if caps&clientProtocol41 == 0 {
		return nil, fmt.Errorf("%w: the client does not speak protocol 4.1", errMalformed)
	}
	if caps&clientSSL != 0 && len(b) <= 32 {
		return h, nil // an SSLRequest
	}
	if _, err := r.bytes(4+1+23, "max packet size, charset and filler"); err != nil {
		return nil, err
	}
	h.user = r.nulString()
	switch {
	case caps&clientPluginAuthLenEncClientData != 0:
		h.auth, err = r.lenEncBytes("auth response")
	case caps&clientSecureConnection != 0:
		var n byte
		if n, err = r.byte("auth response length"); err == nil {
			h.auth, err = r.bytes(int(n), "auth response")
		}
	default:
		h.auth = []byte(r.nulString())
	}
	if err != nil {
		return nil, err
	}
	if caps&clientConnectWithDB != 0 && r.remaining() > 0 {
		h.database = r.nulString()
	}
	if caps&clientPluginAuth != 0 && r.remaining() > 0 {
		h.plugin = r.nulString()
	}
	// Connection attributes, if any, are not used.
	return h, nil
}

// nativeScramble computes the mysql_native_password response for
// password and scramble.
func nativeScramble(password string, scramble []byte) []byte {
	if password == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h := sha1.New()
	h.Write(scramble)
	h.Write(h2[:])
	out := h.Sum(nil)
	for i := range out {
		out[i] ^= h1[i]
	}
	return out
}

// checkNative verifies a mysql_native_password response in constant time.
func (c *conn) checkNative(user string, resp, scramble []byte) error {
	want, ok := c.srv.o.Users.Password(user)
	if !ok {
		want = "\x00no such user" // compute anyway: no timing hint of which users exist
	}
	expected := nativeScramble(want, scramble)
	if subtle.ConstantTimeCompare(expected, resp) != 1 || !ok {
		using := "YES"
		if len(resp) == 0 {
			using = "NO"
		}
		host, _, _ := strings.Cut(c.nc.RemoteAddr().String(), ":")
		return newError(erAccessDenied, "28000", "Access denied for user '%s'@'%s' (using password: %s)", user, host, using)
	}
	return nil
}

// handshake runs the connection phase. It returns a *wireError to send
// for a refusal, or another error when the connection broke.
func (c *conn) handshake() error {
	scramble, err := newScramble()
	if err != nil {
		return err
	}
	if err := c.pc.writePacket(appendInitialHandshake(nil, c.srv.version, c.id, scramble)); err != nil {
		return err
	}
	if err := c.pc.flush(); err != nil {
		return err
	}
	pkt, err := c.pc.readPacket()
	if err != nil {
		return err
	}
	h, err := parseHandshakeResponse(pkt)
	if err != nil {
		return err
	}
	if h.caps&clientSSL != 0 {
		return newError(erAccessDenied, "28000", "SSL is not supported by this server; connect without TLS")
	}
	c.caps = h.caps & serverCapabilities
	users := c.srv.o.Users
	if users.Enabled() {
		resp := h.auth
		if h.plugin != nativePassword && h.plugin != "" {
			// Ask for mysql_native_password, with the same scramble.
			sw := append([]byte{0xfe}, nativePassword...)
			sw = append(sw, 0)
			sw = append(sw, scramble...)
			sw = append(sw, 0)
			if err := c.pc.writePacket(sw); err != nil {
				return err
			}
			if err := c.pc.flush(); err != nil {
				return err
			}
			if resp, err = c.pc.readPacket(); err != nil {
				return err
			}
		}
		if err := c.checkNative(h.user, resp, scramble); err != nil {
			return err
		}
	}
	c.user = h.user
	if h.database != "" {
		c.useDatabase(h.database)
	}
	return nil
}
