package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/horaego/horaedb/meta/metatest"
	"github.com/horaego/horaedb/proto/metapb"
)

func newStorage(t *testing.T, page int) *Storage {
	t.Helper()
	m, err := metatest.Etcd(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return New(m.Client, "/horaedb", Options{CallTimeout: 5 * time.Second, PageSize: page, MinPageSize: 1})
}

// TestKeyLayout pins the etcd layout of meta/docs/etcd-layout.md.
func TestKeyLayout(t *testing.T) {
	k := Keys{Root: "/horaedb"}
	for _, tc := range []struct{ got, want string }{
		{k.Election(), "/horaedb/v1/election/"},
		{k.ClusterIDs(), "/horaedb/v1/ids/cluster"},
		{k.ClusterName("defaultCluster"), "/horaedb/v1/cluster_names/defaultCluster"},
		{k.ClusterInfo(1), "/horaedb/v1/clusters/00000000000000000001/info"},
		{k.ClusterView(1), "/horaedb/v1/clusters/00000000000000000001/view"},
		{k.Shard(1, 7), "/horaedb/v1/clusters/00000000000000000001/shards/00000000000000000007"},
		{k.IDs(1, IDTable), "/horaedb/v1/clusters/00000000000000000001/ids/table"},
		{k.Schema(1, 2), "/horaedb/v1/clusters/00000000000000000001/schemas/00000000000000000002"},
		{k.SchemaName(1, "public"), "/horaedb/v1/clusters/00000000000000000001/schema_names/public"},
		{k.Table(1, 42), "/horaedb/v1/clusters/00000000000000000001/tables/00000000000000000042"},
		{k.TableName(1, 2, "cpu"), "/horaedb/v1/clusters/00000000000000000001/table_names/00000000000000000002/cpu"},
		{k.Node(1, "10.0.0.1:8831"), "/horaedb/v1/clusters/00000000000000000001/nodes/10.0.0.1:8831"},
		{k.Procedure(1, 9), "/horaedb/v1/clusters/00000000000000000001/procedures/00000000000000000009"},
		{k.ShardLock("defaultCluster", 3), "/horaedb/defaultCluster/shards/00000000000000000003"},
	} {
		if tc.got != tc.want {
			t.Errorf("key %q, want %q", tc.got, tc.want)
		}
	}
	if kind, rest := k.Kind(1, k.Table(1, 42)); kind != "tables" || rest != "00000000000000000042" {
		t.Errorf("kind %q rest %q", kind, rest)
	}
}

// TestIDsNeverReused: allocators of successive terms (and concurrent
// ones) never hand out an id twice, and ids increase.
func TestIDsNeverReused(t *testing.T) {
	s := newStorage(t, 100)
	ctx := context.Background()
	key := s.Keys().IDs(1, IDTable)
	seen := map[uint64]bool{}
	var mu sync.Mutex
	var last uint64
	for term := range 3 {
		a := NewIDAlloc(s, key, 5, Guard{})
		for range 7 {
			id, err := a.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] || id <= last {
				t.Fatalf("term %d: id %d after %d (seen %v)", term, id, last, seen[id])
			}
			seen[id], last = true, id
		}
	}
	// Two allocators racing on the same counter.
	var wg sync.WaitGroup
	for range 2 {
		a := NewIDAlloc(s, key, 3, Guard{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids, err := a.NextN(ctx, 20)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				if seen[id] {
					t.Errorf("id %d handed out twice", id)
				}
				seen[id] = true
			}
		}()
	}
	wg.Wait()
	if first := NewIDAlloc(s, s.Keys().IDs(2, IDSchema), 20, Guard{}); true {
		id, err := first.Next(ctx)
		if err != nil || id != 1 {
			t.Errorf("first id of a new counter = %d, %v; want 1", id, err)
		}
	}
}

// TestGuard: a guarded write commits only while the guard's key exists at
// its creation revision.
func TestGuard(t *testing.T) {
	s := newStorage(t, 100)
	ctx := context.Background()
	resp, err := s.Client().Put(ctx, "/horaedb/v1/election/a", "x")
	if err != nil {
		t.Fatal(err)
	}
	g := Guard{Key: "/horaedb/v1/election/a", Rev: resp.Header.Revision}
	if _, err := s.Commit(ctx, g, nil, PutString("/k", "1")); err != nil {
		t.Fatal(err)
	}
	_, err = s.Commit(ctx, g, []clientv3.Cmp{clientv3.Compare(clientv3.Value("/k"), "=", "2")}, PutString("/k", "3"))
	if !errors.Is(err, ErrConflict) {
		t.Errorf("failed condition: %v, want ErrConflict", err)
	}
	if _, err := s.Client().Delete(ctx, g.Key); err != nil {
		t.Fatal(err)
	}
	// Recreated by another term: a different revision.
	if _, err := s.Client().Put(ctx, g.Key, "y"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, g, nil, PutString("/k", "4")); !errors.Is(err, ErrNotLeader) {
		t.Errorf("stale guard: %v, want ErrNotLeader", err)
	}
	v, _, _, _ := s.Get(ctx, "/k")
	if string(v) != "1" {
		t.Errorf("/k = %q, want 1", v)
	}
}

// TestScanPages reads every key under a prefix in pages, and not beyond.
func TestScanPages(t *testing.T) {
	s := newStorage(t, 3)
	ctx := context.Background()
	var want []string
	for i := range 10 {
		k := fmt.Sprintf("/p/%02d", i)
		want = append(want, k)
		if _, err := s.Commit(ctx, Guard{}, nil, Put(k, &metapb.ShardView{ShardId: uint32(i)})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Client().Put(ctx, "/p0", "outside"); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.Scan(ctx, "/p/", func(key string, v []byte, _ int64) error {
		var sv metapb.ShardView
		if err := Unmarshal(key, v, &sv); err != nil {
			return err
		}
		got = append(got, key)
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("scan = %v, %v", got, err)
	}
	if err := Unmarshal("/bad", []byte{0xff, 0xff}, &metapb.ShardView{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt value: %v", err)
	}
}
