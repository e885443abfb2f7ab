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
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrDenied means the credentials are missing or wrong. Front ends answer
// with their protocol's authentication error (HTTP 401, ...).
var ErrDenied = errors.New("authentication failed")

// Users are the accounts allowed in. A nil *Users allows everyone: auth is
// off.
type Users struct {
	passwords map[string]string
	// key signs forwarded tokens: a digest of every user and password, so
	// only a node with the same users file accepts a token.
	key []byte
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
	names := make([]string, 0, len(u.passwords))
	for name := range u.passwords {
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	h.Write([]byte("horaedb forwarded token v1\x00"))
	for _, name := range names {
		h.Write([]byte(name + "\x00" + u.passwords[name] + "\x00"))
	}
	u.key = h.Sum(nil)
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
// entry: "Basic base64(user:password)", or a token of ForwardToken.
func (u *Users) CheckBasic(header string) error {
	if u == nil {
		return nil
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	if ok && scheme == forwardedScheme {
		return u.checkForwarded(strings.TrimSpace(cred), time.Now())
	}
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

// Forwarded tokens. A node that forwards a statement to the table's owner
// passes the caller's credentials on. An HTTP or gRPC caller's Basic
// credentials go as they came; a MySQL or PostgreSQL caller proved its
// password with a scramble that cannot be replayed, so the node vouches
// for the user instead: "Forwarded base64(user:expiry:mac)", where expiry
// is a Unix time a minute ahead and mac an HMAC-SHA256 of user and expiry
// under a key derived from the users file. Every node of a cluster has the
// same users file, so the owner checks the token with its own key; a node
// with another file, or a token that expired or was altered, is refused.
const (
	forwardedScheme = "Forwarded"
	forwardedTTL    = time.Minute
)

// ForwardToken returns the authorization value vouching for user, who
// authenticated on this node, valid for a minute from now. "" with auth
// off.
func (u *Users) ForwardToken(user string, now time.Time) string {
	if u == nil {
		return ""
	}
	expiry := strconv.FormatInt(now.Add(forwardedTTL).Unix(), 10)
	raw := user + ":" + expiry + ":" + base64.RawStdEncoding.EncodeToString(u.mac(user, expiry))
	return forwardedScheme + " " + base64.StdEncoding.EncodeToString([]byte(raw))
}

func (u *Users) mac(user, expiry string) []byte {
	m := hmac.New(sha256.New, u.key)
	m.Write([]byte(user + "\x00" + expiry))
	return m.Sum(nil)
}

func (u *Users) checkForwarded(token string, now time.Time) error {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return fmt.Errorf("%w: the forwarded token is not base64", ErrDenied)
	}
	// user may contain ':'; expiry and mac do not.
	s := string(raw)
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return fmt.Errorf("%w: malformed forwarded token", ErrDenied)
	}
	head, sum := s[:i], s[i+1:]
	j := strings.LastIndexByte(head, ':')
	if j < 0 {
		return fmt.Errorf("%w: malformed forwarded token", ErrDenied)
	}
	user, expiry := head[:j], head[j+1:]
	got, err := base64.RawStdEncoding.DecodeString(sum)
	if err != nil || !hmac.Equal(got, u.mac(user, expiry)) {
		return fmt.Errorf("%w: the forwarded token of user %q does not verify (do all nodes have the same users file?)", ErrDenied, user)
	}
	exp, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || now.Unix() > exp || exp > now.Add(2*forwardedTTL).Unix() {
		return fmt.Errorf("%w: the forwarded token of user %q has expired (are the nodes' clocks in step?)", ErrDenied, user)
	}
	if _, ok := u.passwords[user]; !ok {
		return fmt.Errorf("%w for user %q", ErrDenied, user)
	}
	return nil
}
