package auth

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAndCheck(t *testing.T) {
	u, err := Parse([]byte("# users\nroot,secret\r\n\nreader, with space \nempty,\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, pass string
		ok         bool
	}{
		{"root", "secret", true},
		{"reader", " with space ", true},
		{"empty", "", true},
		{"root", "Secret", false},
		{"root", "", false},
		{"nobody", "secret", false},
		{"nobody", "\x00no such user", false},
	} {
		err := u.Check(tc.user, tc.pass)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrDenied)) {
			t.Errorf("Check(%q, %q) = %v, want ok %v", tc.user, tc.pass, err, tc.ok)
		}
	}
	if p, ok := u.Password("root"); !ok || p != "secret" {
		t.Errorf("Password(root) = %q %v", p, ok)
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"", "# nothing\n", "nocomma\n", ",pass\n", "a,1\na,2\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.csv")); err == nil || !strings.Contains(err.Error(), "server.auth.source") {
		t.Errorf("Load of a missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(p, []byte("root,secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if u, err := Load(p); err != nil || u.Check("root", "secret") != nil {
		t.Errorf("Load: %v", err)
	}
}

func TestCheckBasic(t *testing.T) {
	u, _ := Parse([]byte("root,s:e:cret\n"))
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{basic("root:s:e:cret"), true},
		{"basic " + base64.StdEncoding.EncodeToString([]byte("root:s:e:cret")), true},
		{basic("root:wrong"), false},
		{basic("rootonly"), false},
		{"Bearer abc", false},
		{"Basic !!!", false},
		{"", false},
	} {
		if err := u.CheckBasic(tc.header); (err == nil) != tc.ok {
			t.Errorf("CheckBasic(%q) = %v, want ok %v", tc.header, err, tc.ok)
		}
	}
	var off *Users
	if off.Enabled() || off.CheckBasic("") != nil || off.Check("x", "y") != nil {
		t.Error("a nil Users must allow everything")
	}
}

func FuzzCheckBasic(f *testing.F) {
	u, _ := Parse([]byte("root,secret\n"))
	f.Add("Basic cm9vdDpzZWNyZXQ=")
	f.Add("Basic ")
	f.Add(u.ForwardToken("root", time.Now()))
	f.Add("Forwarded cm9vdDoxOjI=")
	f.Fuzz(func(t *testing.T, h string) {
		if err := u.CheckBasic(h); err != nil && !errors.Is(err, ErrDenied) {
			t.Fatalf("error %v does not wrap ErrDenied", err)
		}
	})
}

// TestForwardToken: a token vouches for a user to a node with the same
// users file, for a minute; altered, expired, from another users file or
// for an unknown user it is refused.
func TestForwardToken(t *testing.T) {
	u, err := Parse([]byte("alice,secret\nbob:x,pw\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	for _, user := range []string{"alice", "bob:x"} {
		tok := u.ForwardToken(user, now)
		if !strings.HasPrefix(tok, "Forwarded ") {
			t.Fatalf("token %q", tok)
		}
		if err := u.checkForwarded(strings.TrimPrefix(tok, "Forwarded "), now.Add(30*time.Second)); err != nil {
			t.Errorf("%s's token refused: %v", user, err)
		}
	}
	if err := u.CheckBasic(u.ForwardToken("alice", time.Now())); err != nil {
		t.Errorf("CheckBasic of a fresh token: %v", err)
	}
	tok := strings.TrimPrefix(u.ForwardToken("alice", now), "Forwarded ")
	other, _ := Parse([]byte("alice,other\nbob:x,pw\n"))
	raw, _ := base64.StdEncoding.DecodeString(tok)
	forged := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), "alice", "bob:x", 1)))
	for _, tc := range []struct {
		name  string
		users *Users
		token string
		at    time.Time
		want  string
	}{
		{"expired", u, tok, now.Add(2 * time.Minute), "expired"},
		{"from too far ahead", u, tok, now.Add(-5 * time.Minute), "expired"},
		{"another users file", other, tok, now, "does not verify"},
		{"another user named", u, forged, now, "does not verify"},
		{"not base64", u, "!!", now, "not base64"},
		{"malformed", u, base64.StdEncoding.EncodeToString([]byte("alice")), now, "malformed"},
	} {
		err := tc.users.checkForwarded(tc.token, tc.at)
		if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrDenied with %q", tc.name, err, tc.want)
		}
	}
	gone, _ := Parse([]byte("carol,pw\n"))
	gone.key = u.key // the same key, but alice is not a user here
	if err := gone.checkForwarded(tok, now); !errors.Is(err, ErrDenied) {
		t.Errorf("a token of an unknown user: %v", err)
	}
	if (*Users)(nil).ForwardToken("alice", now) != "" {
		t.Error("auth off: a token")
	}
}
