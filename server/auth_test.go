package server

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/server/config"
)

// TestAuthEveryFrontEnd starts a node with [server.auth] enabled and checks
// that each front end (HTTP, gRPC, MySQL, PostgreSQL) refuses missing and
// wrong credentials in its protocol's way and serves right ones.
func TestAuthEveryFrontEnd(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(users, []byte("alice,s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Server.Auth.Enable = true
	cfg.Server.Auth.Source = users
	s, base := startServerWith(t, cfg, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("HTTP", func(t *testing.T) {
		for _, c := range []struct {
			user, pass string
			want       int
		}{{"", "", 401}, {"alice", "wrong", 401}, {"bob", "s3cret", 401}, {"alice", "s3cret", 200}} {
			req, _ := http.NewRequestWithContext(ctx, "POST", base+"/sql", strings.NewReader(`{"query":"SHOW DATABASES"}`))
			if c.user != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s/%s: %d, want %d", c.user, c.pass, resp.StatusCode, c.want)
			}
		}
	})

	t.Run("gRPC", func(t *testing.T) {
		cc, err := grpc.NewClient(s.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		client := storagepb.NewStorageServiceClient(cc)
		basic := func(user, pass string) context.Context {
			return metadata.AppendToOutgoingContext(ctx, "authorization",
				"Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			want uint32
		}{{"none", ctx, 401}, {"wrong", basic("alice", "wrong"), 401}, {"right", basic("alice", "s3cret"), 200}} {
			resp, err := client.SqlQuery(c.ctx, &storagepb.SqlQueryRequest{Sql: "SHOW DATABASES"})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := resp.GetHeader().GetCode(); got != c.want {
				t.Errorf("%s: code %d (%s), want %d", c.name, got, resp.GetHeader().GetError(), c.want)
			}
		}
	})

	t.Run("MySQL", func(t *testing.T) {
		open := func(pass string) *sql.DB {
			cfg := mysql.NewConfig()
			cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "alice", pass, "tcp", s.MySQLAddr().String()
			c, err := mysql.NewConnector(cfg)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(c)
			t.Cleanup(func() { db.Close() })
			return db
		}
		err := open("wrong").PingContext(ctx)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1045 {
			t.Errorf("wrong password: %v, want error 1045", err)
		}
		var one int
		if err := open("s3cret").QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Errorf("right password: %d %v", one, err)
		}
	})

	t.Run("PostgreSQL", func(t *testing.T) {
		url := "postgres://alice:%s@" + s.PostgreSQLAddr().String() + "/public?sslmode=disable"
		_, err := pgx.Connect(ctx, strings.Replace(url, "%s", "wrong", 1))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" {
			t.Errorf("wrong password: %v, want SQLSTATE 28P01", err)
		}
		conn, err := pgx.Connect(ctx, strings.Replace(url, "%s", "s3cret", 1))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Errorf("right password: %d %v", one, err)
		}
	})
}

// TestAuthForwardedWireQueries: with [server.auth] on in a static cluster,
// a MySQL or PostgreSQL query through the node that does not own its table
// is forwarded with a token vouching for the user (the wire protocols'
// scrambled passwords cannot be passed on), and the owner accepts it; an
// HTTP query is forwarded with its Basic credentials.
func TestAuthForwardedWireQueries(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(users, []byte("alice,s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lns := []net.Listener{listen(t), listen(t)}
	cfg := staticConfig([]int{lns[0].Addr().(*net.TCPAddr).Port, lns[1].Addr().(*net.TCPAddr).Port})
	cfg.Server.Auth.Enable = true
	cfg.Server.Auth.Source = users
	var nodes []*clusterNode
	for _, ln := range lns {
		n := &clusterNode{t: t, cfg: cfg, dir: t.TempDir()}
		n.start(ln)
		t.Cleanup(func() { _ = n.s.Close() })
		nodes = append(nodes, n)
	}
	a := nodes[0]
	onB := tableOn("b", 1, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", a.url+"/sql", strings.NewReader(fmt.Sprintf(
		`CREATE TABLE %s (v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`, onB)))
	req.SetBasicAuth("alice", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("CREATE through a (HTTP, forwarded with Basic): %d", resp.StatusCode)
	}

	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr = "alice", "s3cret", "tcp", a.s.MySQLAddr().String()
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (v, t) VALUES (1.5, 1000)", onB)); err != nil {
		t.Fatalf("INSERT over MySQL through a: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+onB).Scan(&n); err != nil || n != 1 {
		t.Errorf("SELECT over MySQL through a: %d %v", n, err)
	}

	pg, err := pgx.Connect(ctx, "postgres://alice:s3cret@"+a.s.PostgreSQLAddr().String()+"/public?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	if err := pg.QueryRow(ctx, "SELECT count(*) FROM "+onB).Scan(&n); err != nil || n != 1 {
		t.Errorf("SELECT over PostgreSQL through a: %d %v", n, err)
	}
	if !hasTable(nodes[1], "public", onB) || hasTable(a, "public", onB) {
		t.Errorf("%s should live on b only", onB)
	}
}
