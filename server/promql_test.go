package server

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/server/config"
)

// TestPromQLServed: the Prometheus query API is served on the HTTP port,
// behind [server.auth], over the node's tables.
func TestPromQLServed(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(users, []byte("alice,s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Server.Auth.Enable = true
	cfg.Server.Auth.Source = users
	_, base := startServerWith(t, cfg, t.TempDir())
	do := func(method, path, body string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if method == "POST" && !strings.HasPrefix(path, "/sql") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if auth {
			req.SetBasicAuth("alice", "s3cret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ts := time.Now().Add(-time.Minute).UnixMilli()
	for _, sql := range []string{
		"CREATE TABLE up (`timestamp` timestamp NOT NULL, job string TAG, value double, TIMESTAMP KEY(`timestamp`))",
		"INSERT INTO up (`timestamp`, job, value) VALUES (" + strconv.FormatInt(ts, 10) + ", 'api', 1)",
	} {
		if code, body := do("POST", "/sql", `{"query":"`+strings.ReplaceAll(sql, `"`, `\"`)+`"}`, true); code != 200 {
			t.Fatalf("%s: %d %s", sql, code, body)
		}
	}
	q := url.Values{"query": {`up{job="api"}`}, "time": {strconv.FormatInt(ts/1000+1, 10)}}.Encode()
	if code, _ := do("GET", "/api/v1/query?"+q, "", false); code != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", code)
	}
	code, body := do("POST", "/api/v1/query", q, true)
	if code != 200 || !strings.Contains(body, `"metric":{"__name__":"up","job":"api"}`) || !strings.Contains(body, `"1"]`) {
		t.Fatalf("query: %d %s", code, body)
	}
	code, body = do("GET", "/api/v1/label/__name__/values", "", true)
	if code != 200 || body != `{"status":"success","data":["up"]}` {
		t.Fatalf("label values: %d %s", code, body)
	}
	code, body = do("GET", "/api/v1/query?query=sum(", "", true)
	if code != 400 || !strings.Contains(body, `"errorType":"bad_data"`) {
		t.Fatalf("bad query: %d %s", code, body)
	}
}
