package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOpenTSDBRoundTrip puts data points through a running server's
// OpenTSDB API and queries them back, also through SQL.
func TestOpenTSDBRoundTrip(t *testing.T) {
	_, base := startServer(t, t.TempDir())
	// Recent points (older ones are past the default TTL): t0 on a minute
	// boundary an hour ago, in seconds.
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute).Unix()
	put := fmt.Sprintf(`[{"metric":"sys.cpu.user","timestamp":%d,"value":10,"tags":{"host":"web01","dc":"eu"}},
		{"metric":"sys.cpu.user","timestamp":%d,"value":"30","tags":{"host":"web01","dc":"eu"}},
		{"metric":"sys.cpu.user","timestamp":%d,"value":5,"tags":{"host":"web02","dc":"eu"}}]`, t0, (t0+60)*1000, t0)
	resp, err := http.Post(base+"/opentsdb/api/put?summary", "application/json", strings.NewReader(put))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("put: %d", resp.StatusCode)
	}
	if code, body := post(t, base+"/opentsdb/api/put", `{"metric":"sys.cpu.user","timestamp":1,"value":1,"tags":{"host":"x"}}`); code != 400 ||
		!strings.Contains(body, "point at index 0: invalid timestamp 1") {
		t.Fatalf("bad put: %d %s", code, body)
	}
	code, body := post(t, base+"/opentsdb/api/query", fmt.Sprintf(`{"start":%d,"end":%d,
		"queries":[{"metric":"sys.cpu.user","aggregator":"sum","downsample":"1m-avg","tags":{"dc":"eu"}}]}`, t0, t0+100))
	// Bucket t0: 10 + 5; bucket t0+60: web01's 30 (web02 has ended).
	want := fmt.Sprintf(`[{"metric":"sys.cpu.user","tags":{"dc":"eu"},"aggregateTags":["host"],"aggregatedTags":["host"],"dps":{"%d":15.0,"%d":30.0}}]`+"\n", t0, t0+60)
	if code != 200 || body != want {
		t.Fatalf("query: %d %s\nwant %s", code, body, want)
	}
	code, body = post(t, base+"/opentsdb/api/query", `{"start":"1h-ago","queries":[{"metric":"nope","aggregator":"sum"}]}`)
	if code != 400 || !strings.Contains(body, "No such name for 'metrics': 'nope'") {
		t.Fatalf("unknown metric: %d %s", code, body)
	}
	code, body = post(t, base+"/sql", "SELECT host, value FROM `sys.cpu.user` WHERE host = 'web02'")
	if code != 200 || !strings.Contains(body, `{"host":"web02","value":5.0}`) {
		t.Fatalf("sql: %d %s", code, body)
	}
	if code, body = get(t, base+"/opentsdb/api/suggest?type=metrics&q=sys"); code != 200 || strings.TrimSpace(body) != `["sys.cpu.user"]` {
		t.Fatalf("suggest: %d %s", code, body)
	}
}
