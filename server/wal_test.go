package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/horaego/horaedb/server/config"
	"github.com/horaego/horaedb/wal/table/mariadbtest"
)

// walRoundTrip writes through a server on cfg, restarts it and reads back,
// and checks that GET /debug/wal_stats describes the backend.
func walRoundTrip(t *testing.T, cfg config.Config, backend string) {
	dir := t.TempDir()
	s, url := startServerWith(t, cfg, dir)
	now := time.Now().UnixMilli() // recent: within the tables' TTL
	for _, stmt := range []string{
		`CREATE TABLE w (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t))`,
		fmt.Sprintf(`INSERT INTO w (host, v, t) VALUES ('a', 1, %d), ('b', 2, %d)`, now-2000, now-1000),
	} {
		if code, body := post(t, url+"/sql", stmt); code != 200 {
			t.Fatalf("%s: %d %s", stmt, code, body)
		}
	}
	code, body := get(t, url+"/debug/wal_stats")
	if code != 200 || !strings.Contains(body, "backend: "+backend) || !strings.Contains(body, "shard 0:") {
		t.Fatalf("GET /debug/wal_stats: %d\n%s", code, body)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, url = startServerWith(t, cfg, dir)
	code, body = post(t, url+"/sql", `SELECT host, v FROM w ORDER BY host`)
	if code != 200 || body != `{"rows":[{"host":"a","v":1.0},{"host":"b","v":2.0}]}` {
		t.Fatalf("after a restart: %d %s", code, body)
	}
}

func TestServerKafkaWAL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := config.Default()
	cfg.Analytic.WAL = config.DefaultWAL(config.WALKafka)
	// The deployment guide's spelling.
	cfg.Analytic.WAL.Kafka.Kafka.Client.BoostBroker = c.ListenAddrs()[0]
	walRoundTrip(t, cfg, "kafka")
}

func TestServerTableWAL(t *testing.T) {
	srv, err := mariadbtest.Start(t.TempDir(), 0)
	if errors.Is(err, mariadbtest.ErrNotFound) {
		t.Skipf("SKIPPING the table-store WAL server test: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := config.Default()
	cfg.Analytic.WAL = config.DefaultWAL(config.WALTable)
	cfg.Analytic.WAL.Table.DSN = srv.DSN("horaedb")
	walRoundTrip(t, cfg, "table")

	cfg = config.Default()
	cfg.Analytic.WAL = config.DefaultWAL(config.WALObkv)
	cfg.Analytic.WAL.Obkv.Obkv.FullUserName = "root"
	cfg.Analytic.WAL.Obkv.Obkv.ParamURL = "mysql://" + srv.Addr() + "/horaedb_obkv"
	walRoundTrip(t, cfg, "table")
}

func TestServerLocalWALStats(t *testing.T) {
	walRoundTrip(t, config.Default(), "local")
}
