package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/cluster"
	"github.com/horaego/horaedb/proto/metapb"
)

const lockPrefix = "/horaedb/" + clusterName + "/shards"

// etcdClient connects to the etcd embedded in the meta service at addr.
func etcdClient(t *testing.T, addr string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{addr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

func lockOptions(cli *clientv3.Client) cluster.LockOptions {
	return cluster.LockOptions{Client: cli, Prefix: lockPrefix, TTL: 3 * time.Second, CheckInterval: 100 * time.Millisecond}
}

func lockKey(shard uint32) string { return fmt.Sprintf("%s/%d", lockPrefix, shard) }

// lockHolder returns the value and lease of a shard's lock key ("" if
// none).
func lockHolder(t *testing.T, cli *clientv3.Client, shard uint32) (string, clientv3.LeaseID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := cli.Get(ctx, lockKey(shard))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) == 0 {
		return "", 0
	}
	return string(r.Kvs[0].Value), clientv3.LeaseID(r.Kvs[0].Lease)
}

// TestShardLocks: a node holds the etcd lock of every shard it serves; a
// second node cannot open a shard while it is held; when the lock is lost
// (key deleted, lease revoked) the owner refuses the shard's tables at
// once, meta opens the shard again and the node takes the lock back with
// its rows; Close releases the locks, and then the second node can open
// the shard.
func TestShardLocks(t *testing.T) {
	metaAddr := startMeta(t, 1, 2)
	cli := etcdClient(t, metaAddr)
	a := startNodeWith(t, &node{metaAddr: metaAddr, locks: lockOptions(cli)})
	waitFor(t, "2 shards open", func() bool { return len(a.m.ShardVersions()) == 2 })
	for id := range a.m.ShardVersions() {
		if v, lease := lockHolder(t, cli, id); v != a.endpoint || lease == 0 || !a.m.HoldsLock(id) {
			t.Fatalf("lock of shard %d: %q lease %x, want %q with a lease", id, v, lease, a.endpoint)
		}
	}
	a.createTable(`CREATE TABLE cpu (host string TAG, v double, t timestamp NOT NULL, TIMESTAMP KEY(t)) WITH (enable_ttl='false')`)
	tbl, err := a.e.Table("public", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	shard := tbl.ShardID()
	ts := int64(1000)
	written := 0
	insert := func() error {
		ts++
		_, err := a.sql(fmt.Sprintf(`INSERT INTO cpu (t, host, v) VALUES (%d, 'a', 1)`, ts))
		if err == nil {
			written++
		}
		return err
	}
	if err := insert(); err != nil {
		t.Fatal(err)
	}

	// A second node (not heartbeating) told to open the shard: refused,
	// retryably, naming the holder.
	b := startNodeWith(t, &node{metaAddr: metaAddr, locks: lockOptions(etcdClient(t, metaAddr)), noStart: true})
	ctx := context.Background()
	openOnB := func() error {
		_, err := b.m.OpenShard(ctx, &metapb.OpenShardRequest{Header: &metapb.EventHeader{MetaEpoch: a.m.MetaEpoch()},
			Shard: &metapb.ShardInfo{Id: shard, Version: a.m.ShardVersions()[shard]}})
		return err
	}
	if err := openOnB(); status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), a.endpoint) {
		t.Fatalf("open on a second node while the lock is held: %v, want Unavailable naming %s", err, a.endpoint)
	}
	if len(b.m.ShardVersions()) != 0 {
		t.Fatalf("the second node serves %v", b.m.ShardVersions())
	}

	// Lose the lock two ways; each time the shard's tables are refused
	// within a deadline, then meta opens the shard again and the node
	// serves it with a fresh lock.
	for _, lose := range []struct {
		name string
		do   func(lease clientv3.LeaseID) error
	}{
		{"key deleted", func(clientv3.LeaseID) error { _, err := cli.Delete(ctx, lockKey(shard)); return err }},
		{"lease revoked", func(l clientv3.LeaseID) error { _, err := cli.Revoke(ctx, l); return err }},
	} {
		_, lease := lockHolder(t, cli, shard)
		if err := lose.do(lease); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := insert()
			if err != nil {
				if !errors.Is(err, cluster.ErrShardLockLost) {
					t.Errorf("%s: write refused with %v, want ErrShardLockLost", lose.name, err)
				}
				if _, serr := a.sql(`SELECT * FROM cpu`); serr == nil {
					t.Errorf("%s: a write is refused (%v) but a read is served", lose.name, err)
				}
				t.Logf("%s: write refused: %v", lose.name, err)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: writes still accepted after 5s", lose.name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		waitFor(t, lose.name+": the node to serve the shard again", func() bool {
			v, l := lockHolder(t, cli, shard)
			return v == a.endpoint && l != lease && insert() == nil
		})
		if got := a.count("cpu"); got != int64(written) {
			t.Fatalf("%s: %d rows, %d writes acknowledged", lose.name, got, written)
		}
	}
	if err := a.m.Serving(shard); err != nil {
		t.Fatal(err)
	}

	// A refused write says why, and is retryable.
	_, lease := lockHolder(t, cli, shard)
	if _, err := cli.Revoke(ctx, lease); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fence", func() bool { return errors.Is(insert(), cluster.ErrShardLockLost) })

	// Close releases the locks: the second node can open the shard.
	a.crash()
	for id := range uint32(2) {
		if v, _ := lockHolder(t, cli, id); v == a.endpoint {
			t.Errorf("lock of shard %d still held by the closed node", id)
		}
	}
	if err := openOnB(); err != nil {
		t.Fatalf("open on the second node after the owner closed: %v", err)
	}
	if v, _ := lockHolder(t, cli, shard); v != b.endpoint {
		t.Errorf("lock of shard %d: %q, want %q", shard, v, b.endpoint)
	}
}
