package mysqlwire

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/server/auth"
)

// mysqlCLI returns the path of the mariadb (or mysql) command-line client.
// Without it the test is skipped, loudly, unless
// HORAEDB_TEST_REQUIRE_SERVICES is set (CI installs Debian's
// mariadb-client), when it fails.
func mysqlCLI(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"mariadb", "mysql"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "THE MARIADB/MYSQL CLIENT IS NOT INSTALLED (apt-get install mariadb-client): the CLI test did not run"
	if os.Getenv("HORAEDB_TEST_REQUIRE_SERVICES") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// cli runs the client against addr with args and stdin, and returns its
// output; err is the exit error.
func cli(t *testing.T, bin, addr, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// --no-defaults first: no option file of the machine applies.
	all := append([]string{"--no-defaults", "--protocol=TCP", "-h", host, "-P", port, "--batch"}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func TestMariaDBCLI(t *testing.T) {
	bin := mysqlCLI(t)
	_, addr := startServer(t, Options{Version: "test"})
	run := func(args ...string) string {
		t.Helper()
		out, errOut, err := cli(t, bin, addr, "", append([]string{"-u", "root"}, args...)...)
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", bin, args, err, errOut)
		}
		return out
	}
	if got := run("-e", "SELECT @@version_comment"); got != "@@version_comment\nHoraeDB test\n" {
		t.Errorf("version comment: %q", got)
	}
	// Several statements in one -e: the client splits them.
	got := run("-e", `CREATE TABLE cli (ts timestamp NOT NULL, host string TAG, v double, b boolean, bin varbinary,
		TIMESTAMP KEY(ts)) ENGINE=Analytic WITH (enable_ttl='false');
		INSERT INTO cli (ts, host, v, b, bin) VALUES (1700000000000, 'a', 1.5, true, 'xy'), (1700000001000, 'b', NULL, false, NULL);
		SELECT ts, host, v, b, bin FROM cli ORDER BY ts`)
	want := "ts\thost\tv\tb\tbin\n" +
		"2023-11-14 22:13:20.000\ta\t1.5\t1\txy\n" +
		"2023-11-14 22:13:21.000\tb\tNULL\t0\tNULL\n"
	if got != want {
		t.Errorf("select:\ngot  %q\nwant %q", got, want)
	}
	// Statements on stdin, and -N (no column names).
	out, errOut, err := cli(t, bin, addr, "SELECT 1;\nSELECT DATABASE();\nUSE other;\nSELECT DATABASE();\n", "-u", "root", "-N")
	if err != nil || out != "1\npublic\nother\n" {
		t.Errorf("stdin: %q, %v\n%s", out, err, errOut)
	}
	// -D picks the database.
	if got := run("-D", "horaedb-other", "-N", "-e", "SELECT DATABASE()"); got != "other\n" {
		t.Errorf("-D: %q", got)
	}
	// An error: exit status 1 and MySQL's error line.
	_, errOut, err = cli(t, bin, addr, "", "-u", "root", "-e", "SELECT * FROM nope")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(errOut, "ERROR 1146 (42S02)") || !strings.Contains(errOut, "Table not found, table:nope") {
		t.Errorf("unknown table: %v %q", err, errOut)
	}
	_, errOut, _ = cli(t, bin, addr, "", "-u", "root", "-e", "SELEC 1")
	if !strings.Contains(errOut, "ERROR 1064 (42000)") {
		t.Errorf("syntax error: %q", errOut)
	}
	// With --force the client goes on after an error, on the same
	// connection.
	out, _, _ = cli(t, bin, addr, "SELECT * FROM nope;\nSELECT 'after';\n", "-u", "root", "-N", "--force")
	if out != "after\n" {
		t.Errorf("after an error: %q", out)
	}
	if got := run("-N", "-e", "SHOW VARIABLES LIKE 'version_comment'"); got != "version_comment\tHoraeDB test\n" {
		t.Errorf("SHOW VARIABLES: %q", got)
	}
	if got := run("-N", "-e", "SHOW TABLES"); got != "cli\n" {
		t.Errorf("SHOW TABLES: %q", got)
	}
}

func TestMariaDBCLIAuth(t *testing.T) {
	bin := mysqlCLI(t)
	users, err := auth.Parse([]byte("root,s3cret\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, Options{Users: users})
	out, errOut, err := cli(t, bin, addr, "", "-u", "root", "-ps3cret", "-N", "-e", "SELECT 'in'")
	if err != nil || out != "in\n" {
		t.Errorf("right password: %q %v %s", out, err, errOut)
	}
	for _, args := range [][]string{{"-u", "root", "-pwrong"}, {"-u", "root"}, {"-u", "other", "-ps3cret"}} {
		_, errOut, err := cli(t, bin, addr, "", append(args, "-e", "SELECT 1")...)
		if err == nil || !strings.Contains(errOut, "ERROR 1045 (28000)") {
			t.Errorf("%q: %v %q", args, err, errOut)
		}
	}
}
