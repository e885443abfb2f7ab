package etcdutil_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/horaego/horaedb/meta/internal/etcdutil"
	"github.com/horaego/horaedb/meta/metatest"
)

func TestStartSingleMember(t *testing.T) {
	cfgs, err := metatest.Configs(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m, err := etcdutil.Start(context.Background(), &cfgs[0], etcdutil.Options{Logger: slog.New(slog.DiscardHandler), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	t.Logf("ready after %s", time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := m.Client.Put(ctx, "/k", "v"); err != nil {
		t.Fatal(err)
	}
	resp, err := m.Client.Get(ctx, "/k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("get: %v %v", resp, err)
	}
	if m.ID == 0 || len(m.ClientURLs) != 1 {
		t.Errorf("member %d urls %v", m.ID, m.ClientURLs)
	}
}
