package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/horaego/horaedb/server/config"
)

// TestDebugRoutes: PUT /debug/log_level changes what the logger writes;
// the profile routes answer pprof profiles (gzipped protobuf) and refuse
// bad durations; /debug/pprof/ is there.
func TestDebugRoutes(t *testing.T) {
	level := new(slog.LevelVar)
	level.Set(slog.LevelWarn)
	ln, gln := listen(t), listen(t)
	s, err := New(config.Default(), Options{DataDir: t.TempDir(), Listener: ln, GRPCListener: gln,
		MySQLListener: listen(t), PostgreSQLListener: listen(t), LogLevel: level,
		Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.HTTPAddr().String()

	if code, body := put(t, base+"/debug/log_level/debug"); code != 200 || body != `"debug"` {
		t.Fatalf("PUT /debug/log_level/debug: %d %s", code, body)
	}
	if level.Level() != slog.LevelDebug {
		t.Errorf("level %v after PUT debug", level.Level())
	}
	if code, body := put(t, base+"/debug/log_level/loud"); code != 400 || !strings.Contains(body, "want trace, debug") {
		t.Errorf("PUT /debug/log_level/loud: %d %s", code, body)
	}
	for _, path := range []string{"/debug/profile/cpu/1", "/debug/profile/heap/1"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
			continue
		}
		if _, err := gzip.NewReader(bytes.NewReader(b)); err != nil {
			t.Errorf("GET %s: not a pprof profile (gzip): %v", path, err)
		}
	}
	for _, path := range []string{"/debug/profile/cpu/0", "/debug/profile/cpu/x", "/debug/profile/heap/301"} {
		if code, body := get(t, base+path); code != 400 || !strings.Contains(body, "from 1 to 300") {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	if code, body := get(t, base+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("GET /debug/pprof/: %d", code)
	}
	if code, body := get(t, base+"/debug/shards"); code != 400 || !strings.Contains(body, "only supported in cluster mode") {
		t.Errorf("GET /debug/shards standalone: %d %s", code, body)
	}
}
