package pgwire

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/server/auth"
)

// psqlCLI returns the path of psql. Without it the test is skipped,
// loudly, unless HORAEDB_TEST_REQUIRE_SERVICES is set (CI installs
// Debian's postgresql-client), when it fails.
func psqlCLI(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	msg := "PSQL IS NOT INSTALLED (apt-get install postgresql-client): the psql test did not run"
	if os.Getenv("HORAEDB_TEST_REQUIRE_SERVICES") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// psql runs psql against addr as user with password (PGPASSWORD) and
// stdin; err is the exit error.
func psql(t *testing.T, bin, addr, user, password, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// -X: no ~/.psqlrc; -w: never prompt for a password.
	all := append([]string{"-X", "-w", "-h", host, "-p", port, "-U", user}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10", "PGSSLMODE=prefer", "PGAPPNAME=horaedb-test")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func TestPsql(t *testing.T) {
	bin := psqlCLI(t)
	_, addr := startServer(t, Options{Version: "test"})
	run := func(args ...string) string {
		t.Helper()
		out, errOut, err := psql(t, bin, addr, "root", "", "", args...)
		if err != nil {
			t.Fatalf("psql %q: %v\n%s", args, err, errOut)
		}
		return out
	}
	// -A -t: unaligned, rows only.
	if got := run("-A", "-t", "-c", "SELECT 1 AS one"); got != "1\n" {
		t.Errorf("SELECT 1: %q", got)
	}
	if got := run("-A", "-t", "-c", "SELECT version()"); got != "PostgreSQL 14.0 (HoraeDB test)\n" {
		t.Errorf("version(): %q", got)
	}
	// A table, written and read; the statements of one -c run in turn.
	got := run("-A", "-c", `CREATE TABLE cli (ts timestamp NOT NULL, host string TAG, v double, b boolean, bin varbinary,
		TIMESTAMP KEY(ts)) ENGINE=Analytic WITH (enable_ttl='false');
		INSERT INTO cli (ts, host, v, b, bin) VALUES (1700000000000, 'a', 1.5, true, 'xy'), (1700000001250, 'b', NULL, false, NULL);
		SELECT ts, host, v, b, bin FROM cli ORDER BY ts`)
	want := "CREATE TABLE\nINSERT 0 2\n" +
		"ts|host|v|b|bin\n" +
		"2023-11-14 22:13:20+00|a|1.5|t|\\x7879\n" +
		"2023-11-14 22:13:21.25+00|b||f|\n" +
		"(2 rows)\n"
	if got != want {
		t.Errorf("table:\ngot  %q\nwant %q", got, want)
	}
	// PostgreSQL's quoting: "identifiers" and standard strings.
	if got := run("-A", "-t", "-c", `SELECT "host", 'back\slash', E'new\nline' FROM "cli" WHERE host = 'a'`); got != "a|back\\slash|new\nline\n" {
		t.Errorf("quoting: %q", got)
	}
	// \dt lists the tables; \dn the schema; \d of a table is not supported
	// (psql says it found nothing); \l lists nothing.
	if got := run("-c", `\dt`); !strings.Contains(got, "public | cli  | table | root") {
		t.Errorf(`\dt: %q`, got)
	}
	if got := run("-c", `\dt cl*`); !strings.Contains(got, "| cli  |") {
		t.Errorf(`\dt cl*: %q`, got)
	}
	if got := run("-c", `\dt nomatch`); strings.Contains(got, "cli") {
		t.Errorf(`\dt nomatch: %q`, got)
	}
	if got := run("-c", `\dn`); !strings.Contains(got, "public | root") {
		t.Errorf(`\dn: %q`, got)
	}
	for _, cmd := range []string{`\l`, `\d cli`, `\conninfo`} {
		if _, errOut, err := psql(t, bin, addr, "root", "", "", "-c", cmd); err != nil && cmd != `\d cli` {
			t.Errorf("%s: %v %s", cmd, err, errOut)
		}
	}
	// SHOW of the settings and of our statements.
	if got := run("-A", "-t", "-c", "SHOW TimeZone"); got != "UTC\n" {
		t.Errorf("SHOW TimeZone: %q", got)
	}
	if got := run("-A", "-t", "-c", "SHOW TABLES"); got != "cli\n" {
		t.Errorf("SHOW TABLES: %q", got)
	}
	// Errors: psql prints them and exits 1.
	_, errOut, err := psql(t, bin, addr, "root", "", "", "-c", "SELECT * FROM nope")
	if err == nil || !strings.Contains(errOut, "ERROR:  Table not found, table:nope") {
		t.Errorf("unknown table: %v %q", err, errOut)
	}
	// A script on stdin goes on after an error, on the same connection.
	out, errOut, _ := psql(t, bin, addr, "root", "", "SELECT * FROM nope;\nSELEC 1;\nSELECT 'after';\n", "-A", "-t")
	if out != "after\n" || !strings.Contains(errOut, "syntax error") {
		t.Errorf("script: %q %q", out, errOut)
	}
	// Transactions are accepted; psql prints the command tags of BEGIN and
	// COMMIT even with -t.
	if got := run("-A", "-t", "-c", "BEGIN", "-c", "SELECT 2", "-c", "COMMIT"); got != "BEGIN\n2\nCOMMIT\n" {
		t.Errorf("transaction: %q", got)
	}
	// The database selects the schema.
	if got := run("-A", "-t", "-d", "horaedb-other", "-c", "SELECT current_database()"); got != "other\n" {
		t.Errorf("current_database(): %q", got)
	}
}

func TestPsqlAuth(t *testing.T) {
	bin := psqlCLI(t)
	users, err := auth.Parse([]byte("root,s3cret\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []AuthMethod{AuthMD5, AuthPassword} {
		_, addr := startServer(t, Options{Users: users, AuthMethod: method})
		out, errOut, err := psql(t, bin, addr, "root", "s3cret", "", "-A", "-t", "-c", "SELECT 'in'")
		if err != nil || out != "in\n" {
			t.Errorf("%s, right password: %q %v %s", method, out, err, errOut)
		}
		_, errOut, err = psql(t, bin, addr, "root", "wrong", "", "-c", "SELECT 1")
		if err == nil || !strings.Contains(errOut, `password authentication failed for user "root"`) {
			t.Errorf("%s, wrong password: %v %q", method, err, errOut)
		}
	}
}
