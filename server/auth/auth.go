// Package auth holds the users of [server.auth] and checks credentials for
// every front end: HTTP and gRPC (Basic, in the "authorization" header or
// metadata), MySQL and PostgreSQL (their own handshakes, which need the
// stored password to verify a scrambled one).
//
// The users file (auth_type "file") has one "user,password" per line, as
// upstream's: blank lines and lines starting with # are ignored; spaces
// around the user and the password are kept, since they could be part of
// either, except a trailing carriage return.
package auth

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrDenied means the credentials are missing or wrong. Front ends answer
// with their protocol's authentication error (HTTP 401, ...).
var ErrDenied = errors.New("authentication failed")

// Users are the accounts allowed in. A nil *Users allows everyone: auth is
// off.
type Users struct {
	passwords map[string]string
}

// Load reads a users file.
func Load(path string) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: server.auth.source: %w", err)
	}
	u, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("auth: server.auth.source %s: %w", path, err)
	}
	return u, nil
}

// Parse reads the content of a users file.
func Parse(data []byte) (*Users, error) {
	u := &Users{passwords: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		user, pass, ok := strings.Cut(line, ",")
		if !ok || user == "" {
			return nil, fmt.Errorf("line %d: want user,password", n)
		}
		if _, dup := u.passwords[user]; dup {
			return nil, fmt.Errorf("line %d: user %q given twice", n, user)
		}
		u.passwords[user] = pass
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(u.passwords) == 0 {
		return nil, errors.New("no users")
	}
	return u, nil
}

// Enabled reports whether credentials are checked.
func (u *Users) Enabled() bool { return u != nil }

// Password returns a user's password, for handshakes that verify a
// scramble of it (MySQL, PostgreSQL md5).
func (u *Users) Password(user string) (string, bool) {
	if u == nil {
		return "", false
	}
	p, ok := u.passwords[user]
	return p, ok
}

// Check verifies a user name and password in constant time per password.
// With auth off it accepts anything.
func (u *Users) Check(user, password string) error {
	if u == nil {
		return nil
	}
	want, ok := u.passwords[user]
	if !ok {
		want = "\x00no such user" // compare anyway: no timing hint of which users exist
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 || !ok {
		return fmt.Errorf("%w for user %q", ErrDenied, user)
	}
	return nil
}

// CheckBasic verifies the value of an "authorization" header or metadata
// entry: "Basic base64(user:password)".
func (u *Users) CheckBasic(header string) error {
	if u == nil {
		return nil
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		if header == "" {
			return fmt.Errorf("%w: no credentials (send authorization: Basic base64(user:password))", ErrDenied)
		}
		return fmt.Errorf("%w: the authorization scheme must be Basic", ErrDenied)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return fmt.Errorf("%w: the Basic credentials are not base64", ErrDenied)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return fmt.Errorf("%w: the Basic credentials must be user:password", ErrDenied)
	}
	return u.Check(user, pass)
}
