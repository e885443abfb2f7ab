package table

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/horaego/horaedb/wal"
)

func TestObkvDSN(t *testing.T) {
	cs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"Code":200,"Message":"successful","Success":true,"Data":{"ObRegion":"ob","RsList":[`+
			`{"address":"10.0.0.2:2882","role":"FOLLOWER","sql_port":2881},`+
			`{"address":"10.0.0.1:2882","role":"LEADER","sql_port":2881}]}}`)
	}))
	defer cs.Close()
	for _, tc := range []struct {
		param                  string
		wantUser, wantAddr, db string
		wantErr                error
	}{
		{param: "mysql://obproxy:2883/horaedb", wantUser: "u@t#c", wantAddr: "obproxy:2883", db: "horaedb"},
		{param: "127.0.0.1:3306/wal", wantUser: "u@t#c", wantAddr: "127.0.0.1:3306", db: "wal"},
		{param: cs.URL + "/services?Action=ObRootServiceInfo&database=horaedb", wantUser: "u@t", wantAddr: "10.0.0.1:2881", db: "horaedb"},
		{param: "127.0.0.1:3306", wantErr: wal.ErrInvalid},
		{param: "mysql:///db", wantErr: wal.ErrInvalid},
		{param: cs.URL + "/services?Action=ObRootServiceInfo", wantErr: wal.ErrInvalid},
	} {
		t.Run(tc.param, func(t *testing.T) {
			dsn, err := ObkvDSN(t.Context(), cs.Client(), "u@t#c", "pw", tc.param)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ObkvDSN: %q %v, want %v", dsn, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := mysql.ParseDSN(dsn)
			if err != nil {
				t.Fatalf("%q: %v", dsn, err)
			}
			if cfg.User != tc.wantUser || cfg.Passwd != "pw" || cfg.Addr != tc.wantAddr || cfg.DBName != tc.db {
				t.Fatalf("DSN %q: user %q addr %q db %q", dsn, cfg.User, cfg.Addr, cfg.DBName)
			}
		})
	}
}

// TestObkvDSNOpens opens the WAL on a DSN made from Obkv settings that
// name the test database through a config server.
func TestObkvDSNOpens(t *testing.T) {
	s := needDB(t)
	cs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"Code":200,"Data":{"RsList":[{"address":"127.0.0.1:2882","role":"LEADER","sql_port":%d}]}}`, s.Port)
	}))
	defer cs.Close()
	dsn, err := ObkvDSN(t.Context(), cs.Client(), "root@sys#cluster", "", cs.URL+"/?database=obkv_wal")
	if err != nil {
		t.Fatal(err)
	}
	l := openLogT(t, openT(t, testOptions(dsn)), 7)
	appendT(t, l, entry(1, "via obkv settings"))
	expectRecords(t, "read", readAll(t, l, 1), "1:1:via obkv settings")
}
