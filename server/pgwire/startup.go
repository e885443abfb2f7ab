package pgwire

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/horaego/horaedb/query"
)

// The startup phase
// (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP):
//
//	client  SSLRequest (code 80877103) or GSSENCRequest (80877104)
//	server  'N': no encryption; the client goes on in clear text
//	client  CancelRequest (80877102, process id, secret key): the server
//	        cancels that connection's running statement and hangs up
//	client  StartupMessage (code 196608 = 3.0): name NUL value NUL pairs
//	        (user, database, application_name, ...), then NUL
//	server  NegotiateProtocolVersion ('v') when the client asked for 3.x,
//	        x > 0, or sent _pq_. options
//	server  with auth on: AuthenticationMD5Password ('R', 5, salt[4]) or
//	        AuthenticationCleartextPassword ('R', 3); the client answers
//	        PasswordMessage ('p', "md5" + hex(md5(hex(md5(password + user))
//	        + salt)) or the password, NUL)
//	server  AuthenticationOk ('R', 0), ParameterStatus ('S', name, value)
//	        for each setting below, BackendKeyData ('K', process id,
//	        secret key), ReadyForQuery ('Z', 'I')
//
// A wrong password gets a FATAL ErrorResponse 28P01 and the connection is
// closed.

const (
	codeCancelRequest = 80877102
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
)

// serverVersion is the PostgreSQL version the server says it is; psql and
// drivers adapt their catalog queries to it.
const serverVersion = "14.0"

// startup runs the startup phase. done is set when the connection only
// carried a CancelRequest.
func (c *conn) startup() (done bool, err error) {
	for tries := 0; ; tries++ {
		body, err := c.in.readStartup()
		if err != nil {
			return false, err
		}
		code := binary.BigEndian.Uint32(body)
		switch {
		case (code == codeSSLRequest || code == codeGSSENCRequest) && tries < 4:
			if err := c.out.w.WriteByte('N'); err != nil {
				return false, err
			}
			if err := c.out.flush(); err != nil {
				return false, err
			}
			continue
		case code == codeCancelRequest:
			if len(body) != 12 {
				return true, nil
			}
			c.srv.cancelRequest(binary.BigEndian.Uint32(body[4:]), binary.BigEndian.Uint32(body[8:]))
			return true, nil
		case code>>16 == 3:
			return false, c.startupParams(code&0xffff, body[4:])
		}
		return false, fatal(codeFeatureNotSupported, "unsupported frontend protocol %d.%d: server supports 3.0", code>>16, code&0xffff)
	}
}

// startupParams reads the parameters of a StartupMessage and
// authenticates the user.
func (c *conn) startupParams(minor uint32, body []byte) error {
	f := &fields{b: body}
	var unknown []string
	for f.err == nil && f.off < len(f.b) && f.b[f.off] != 0 {
		name := f.cstring("parameter name")
		value := f.cstring("parameter value")
		switch {
		case name == "user":
			c.user = value
		case name == "database":
			c.database = value
		case name == "application_name":
			c.appName = value
		case strings.HasPrefix(name, "_pq_."):
			unknown = append(unknown, name)
		}
	}
	if f.err != nil {
		return fatal(codeProtocolViolation, "invalid startup packet: %v", f.err)
	}
	if c.user == "" {
		return fatal(codeInvalidAuthSpec, "no PostgreSQL user name specified in startup packet")
	}
	c.db = schemaOf(c.database, c.user)
	if minor > 0 || len(unknown) > 0 {
		b := c.out.start('v')
		b = appendInt32(b, 0) // the newest minor version we support
		b = appendInt32(b, int32(len(unknown)))
		for _, u := range unknown {
			b = appendCString(b, u)
		}
		if err := c.out.send(b); err != nil {
			return err
		}
	}
	if err := c.authenticate(); err != nil {
		return err
	}
	b := c.out.start('R')
	if err := c.out.send(appendInt32(b, 0)); err != nil {
		return err
	}
	for _, s := range c.reportedSettings() {
		b := c.out.start('S')
		b = appendCString(b, s[0])
		if err := c.out.send(appendCString(b, s[1])); err != nil {
			return err
		}
	}
	b = c.out.start('K')
	b = appendInt32(b, int32(c.pid))
	return c.out.send(appendInt32(b, int32(c.secret)))
}

// schemaOf maps the database of a StartupMessage to a schema: none, the
// user's name (libpq's default when no database is given), "horaedb" (the
// catalog) and "postgres" mean the default schema "public";
// "catalog-schema" is split on the first '-' as MySQL's USE does;
// anything else is the schema.
func schemaOf(database, user string) string {
	if _, schema, ok := strings.Cut(database, "-"); ok {
		database = schema
	}
	switch database {
	case "", user, "horaedb", "postgres":
		return query.DefaultDatabase
	}
	return database
}

// authenticate asks for and checks the password when auth is on.
func (c *conn) authenticate() error {
	users := c.srv.o.Users
	if !users.Enabled() {
		return nil
	}
	denied := fatal(codeInvalidPassword, "password authentication failed for user %q", c.user)
	if c.srv.o.AuthMethod == AuthPassword {
		b := c.out.start('R')
		if err := c.out.send(appendInt32(b, 3)); err != nil {
			return err
		}
		pass, err := c.readPassword()
		if err != nil {
			return err
		}
		if users.Check(c.user, pass) != nil {
			return denied
		}
		return nil
	}
	var salt [4]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return err
	}
	b := c.out.start('R')
	b = appendInt32(b, 5)
	if err := c.out.send(append(b, salt[:]...)); err != nil {
		return err
	}
	resp, err := c.readPassword()
	if err != nil {
		return err
	}
	want, ok := users.Password(c.user)
	if !ok {
		want = "\x00no such user" // compute anyway: no timing hint of which users exist
	}
	if subtle.ConstantTimeCompare([]byte(md5Password(want, c.user, salt[:])), []byte(resp)) != 1 || !ok {
		return denied
	}
	return nil
}

// md5Password is what a client answers an md5 challenge with.
func md5Password(password, user string, salt []byte) string {
	inner := md5.Sum([]byte(password + user))
	h := md5.New()
	h.Write([]byte(hex.EncodeToString(inner[:])))
	h.Write(salt)
	return "md5" + hex.EncodeToString(h.Sum(nil))
}

// readPassword reads a PasswordMessage.
func (c *conn) readPassword() (string, error) {
	if err := c.out.flush(); err != nil {
		return "", err
	}
	typ, body, err := c.in.readMessage()
	if err != nil {
		return "", err
	}
	if typ != 'p' {
		return "", fatal(codeProtocolViolation, "expected a password response, got message type %q", typ)
	}
	f := &fields{b: body}
	pass := f.cstring("password")
	if f.err != nil {
		return "", fatal(codeProtocolViolation, "invalid password packet: %v", f.err)
	}
	return pass, nil
}

// settings are the run-time parameters SHOW reads, by lowercase name.
func (c *conn) settings() map[string]string {
	m := map[string]string{}
	for _, s := range c.reportedSettings() {
		m[strings.ToLower(s[0])] = s[1]
	}
	for name, v := range map[string]string{
		"search_path":                   c.db,
		"transaction_isolation":         "read committed",
		"default_transaction_isolation": "read committed",
		"transaction_read_only":         "off",
		"max_identifier_length":         "63",
		"server_version_num":            "140000",
		"lc_collate":                    "C",
		"lc_ctype":                      "C",
		"extra_float_digits":            "1",
		"statement_timeout":             "0",
		"max_connections":               "100",
	} {
		m[name] = v
	}
	return m
}

// reportedSettings are the ParameterStatus messages sent after startup.
func (c *conn) reportedSettings() [][2]string {
	return [][2]string{
		{"application_name", c.appName},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"default_transaction_read_only", "off"},
		{"in_hot_standby", "off"},
		{"integer_datetimes", "on"},
		{"IntervalStyle", "postgres"},
		{"is_superuser", "on"},
		{"server_encoding", "UTF8"},
		{"server_version", serverVersion},
		{"session_authorization", c.user},
		{"standard_conforming_strings", "on"},
		{"TimeZone", "UTC"},
	}
}
