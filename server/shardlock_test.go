package server

import (
	"context"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestWithMetaShardLockLost: a WithMeta node holds its shards' locks in
// HoraeMeta's etcd; when one is deleted, writes and reads of the shard's
// tables fail at once with 503 (nothing applied), until HoraeMeta opens
// the shard again and the node takes the lock back.
func TestWithMetaShardLockLost(t *testing.T) {
	metaAddr := startMetaForTest(t, 1, 1)
	n := startClusterNode(t, metaAddr)
	waitFor(t, 30*time.Second, "the shard open", func() bool { return len(n.s.Member().ShardVersions()) == 1 })
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{metaAddr}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	const key = "/horaedb/defaultCluster/shards/0"
	r, err := cli.Get(ctx, key)
	if err != nil || len(r.Kvs) != 1 || string(r.Kvs[0].Value) != n.endpoint() {
		t.Fatalf("lock key %s: %v %v, want the node's name", key, r, err)
	}
	waitFor(t, 30*time.Second, "CREATE TABLE to succeed", func() bool {
		code, _ := n.sql(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`)
		return code == 200
	})
	if code, body := n.sql(`INSERT INTO cpu (t, host, v) VALUES (1000, 'a', 1)`); code != 200 {
		t.Fatalf("INSERT: %d %s", code, body)
	}
	if _, err := cli.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	var code int
	var body string
	waitFor(t, 5*time.Second, "writes to be refused", func() bool {
		code, body = n.sql(`INSERT INTO cpu (t, host, v) VALUES (2000, 'b', 2)`)
		return code != 200
	})
	if code != 503 || !strings.Contains(body, "lock") {
		t.Errorf("INSERT after the lock was lost: %d %s, want 503 naming the lock", code, body)
	}
	waitFor(t, 30*time.Second, "the node to serve the shard again", func() bool {
		code, _ = n.sql(`INSERT INTO cpu (t, host, v) VALUES (3000, 'c', 3)`)
		return code == 200
	})
	if code, body := n.sql(`SELECT host FROM cpu WHERE t <> 2000 ORDER BY t`); code != 200 || body != `{"rows":[{"host":"a"},{"host":"c"}]}` {
		t.Errorf("SELECT after the shard came back: %d %s", code, body)
	}
}
