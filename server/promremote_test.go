package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/server/config"
)

// promPost posts a snappy-compressed message to a Prometheus remote
// endpoint as Prometheus does, with Basic credentials when user is set.
func promPost(t *testing.T, url string, m interface{ Marshal() ([]byte, error) }, user, pass string) (int, []byte, http.Header) {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(snappy.Encode(nil, b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Header
}

// TestPromRemoteServed checks the wiring of Prometheus remote write and
// read: a write to /prom/v1/write is visible over SQL and through remote
// read at /prom/v1/read and /api/v1/read, /api/v1/write works too, and
// both are counted at /metrics.
func TestPromRemoteServed(t *testing.T) {
	_, url := startServer(t, t.TempDir())
	now := time.Now().UnixMilli()
	write := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "prom_up"}, {Name: "job", Value: "node"}, {Name: "instance", Value: "a:9100"}},
			Samples: []prompb.Sample{{Timestamp: now - 1000, Value: 1}, {Timestamp: now, Value: 0}}},
	}}
	if code, body, _ := promPost(t, url+"/prom/v1/write", write, "", ""); code != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("write: %d %s", code, body)
	}
	write.Timeseries[0].Labels[2].Value = "b:9100"
	if code, body, _ := promPost(t, url+"/api/v1/write", write, "", ""); code != http.StatusNoContent {
		t.Fatalf("write to /api/v1/write: %d %s", code, body)
	}
	if code, body := post(t, url+"/sql", "SELECT instance, job, value, timestamp FROM prom_up ORDER BY instance, timestamp"); code != 200 ||
		body != fmt.Sprintf(`{"rows":[{"instance":"a:9100","job":"node","value":1.0,"timestamp":%d},{"instance":"a:9100","job":"node","value":0.0,"timestamp":%d},`+
			`{"instance":"b:9100","job":"node","value":1.0,"timestamp":%d},{"instance":"b:9100","job":"node","value":0.0,"timestamp":%d}]}`,
			now-1000, now, now-1000, now) {
		t.Errorf("SQL: %d %s", code, body)
	}

	read := &prompb.ReadRequest{Queries: []*prompb.Query{
		{StartTimestampMs: now - 1000, EndTimestampMs: now, Matchers: []*prompb.LabelMatcher{
			{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "prom_up"},
			{Type: prompb.LabelMatcher_EQ, Name: "instance", Value: "a:9100"}}},
		{StartTimestampMs: now, EndTimestampMs: now, Matchers: []*prompb.LabelMatcher{
			{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "prom_up"},
			{Type: prompb.LabelMatcher_RE, Name: "instance", Value: "b:.*"}}},
		{StartTimestampMs: 0, EndTimestampMs: now, Matchers: []*prompb.LabelMatcher{
			{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "no_such_metric"}}},
	}}
	want := []string{
		fmt.Sprintf("__name__=prom_up,instance=a:9100,job=node: %d=1 %d=0", now-1000, now),
		fmt.Sprintf("__name__=prom_up,instance=b:9100,job=node: %d=0", now),
		"",
	}
	for _, path := range []string{"/prom/v1/read", "/api/v1/read"} {
		code, body, header := promPost(t, url+path, read, "", "")
		if code != 200 || header.Get("Content-Type") != "application/x-protobuf" || header.Get("Content-Encoding") != "snappy" {
			t.Fatalf("%s: %d %v %s", path, code, header, body)
		}
		raw, err := snappy.Decode(nil, body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var resp prompb.ReadResponse
		if err := resp.Unmarshal(raw); err != nil || len(resp.Results) != len(read.Queries) {
			t.Fatalf("%s: %v, %d results", path, err, len(resp.Results))
		}
		for i, res := range resp.Results {
			var lines []string
			for _, s := range res.Timeseries {
				var b strings.Builder
				for j, l := range s.Labels {
					if j > 0 {
						b.WriteString(",")
					}
					b.WriteString(l.Name + "=" + l.Value)
				}
				b.WriteString(":")
				for _, p := range s.Samples {
					fmt.Fprintf(&b, " %d=%g", p.Timestamp, p.Value)
				}
				lines = append(lines, b.String())
			}
			if got := strings.Join(lines, "\n"); got != want[i] {
				t.Errorf("%s query %d: got %q, want %q", path, i, got, want[i])
			}
		}
	}

	if code, body, _ := promPost(t, url+"/prom/v1/write", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "job", Value: "x"}}, Samples: []prompb.Sample{{Timestamp: now, Value: 1}}}}}, "", ""); code != 400 ||
		!strings.Contains(string(body), "no __name__ label") {
		t.Errorf("a series without a name: %d %s", code, body)
	}
	_, metrics := get(t, url+"/metrics")
	for _, line := range []string{
		`horaedb_prom_remote_write_samples_total 4`,
		`horaedb_prom_remote_read_samples_total 6`,
		`horaedb_prom_remote_requests_total{api="write",code="400"} 1`,
		`horaedb_http_requests_total{code="204",route="POST /prom/v1/write"} 1`,
		`horaedb_http_requests_total{code="200",route="POST /api/v1/read"} 1`,
	} {
		if !strings.Contains(metrics, line) {
			t.Errorf("GET /metrics lacks %s", line)
		}
	}
}

// TestPromRemoteAuthAndTimestampColumn checks that the remote endpoints
// ask for [server.auth] credentials and that writes name the timestamp
// column after server.default_schema_config.
func TestPromRemoteAuthAndTimestampColumn(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(users, []byte("alice,s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Server.Auth.Enable = true
	cfg.Server.Auth.Source = users
	cfg.Server.DefaultSchemaConfig.DefaultTimestampColumnName = "t"
	_, url := startServerWith(t, cfg, t.TempDir())
	now := time.Now().UnixMilli()
	write := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "m"}}, Samples: []prompb.Sample{{Timestamp: now, Value: 2}}}}}
	for _, path := range []string{"/prom/v1/write", "/api/v1/write", "/prom/v1/read", "/api/v1/read"} {
		if code, body, _ := promPost(t, url+path, write, "", ""); code != 401 {
			t.Errorf("%s without credentials: %d %s", path, code, body)
		}
	}
	if code, body, _ := promPost(t, url+"/prom/v1/write", write, "alice", "s3cret"); code != 204 {
		t.Fatalf("write: %d %s", code, body)
	}
	req, _ := http.NewRequest("POST", url+"/sql", strings.NewReader("SELECT t, value FROM m"))
	req.SetBasicAuth("alice", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := fmt.Sprintf(`{"rows":[{"t":%d,"value":2.0}]}`, now); resp.StatusCode != 200 || string(body) != want {
		t.Errorf("SQL: %d %s, want %s", resp.StatusCode, body, want)
	}
}
