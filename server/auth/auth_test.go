package auth

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	f.Fuzz(func(t *testing.T, h string) {
		if err := u.CheckBasic(h); err != nil && !errors.Is(err, ErrDenied) {
			t.Fatalf("error %v does not wrap ErrDenied", err)
		}
	})
}
