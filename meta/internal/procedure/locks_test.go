package procedure

import (
	"context"
	"testing"
	"time"
)

func TestLockTableOrder(t *testing.T) {
	l := newLockTable()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l.add(1, []string{"shard/1", "shard/2"})
	l.add(2, []string{"shard/2"})
	l.add(3, []string{"shard/3"})
	if err := l.wait(ctx, 1, []string{"shard/1", "shard/2"}); err != nil {
		t.Fatal(err)
	}
	if err := l.wait(ctx, 3, []string{"shard/3"}); err != nil {
		t.Fatal("an unrelated key must not wait")
	}
	short, c2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer c2()
	if err := l.wait(short, 2, []string{"shard/2"}); err == nil {
		t.Fatal("2 got shard/2 while 1 holds it")
	}
	if busy := l.shards(); !busy[1] || !busy[2] || !busy[3] || len(busy) != 3 {
		t.Errorf("busy %v", busy)
	}
	done := make(chan error, 1)
	go func() { done <- l.wait(ctx, 2, []string{"shard/2"}) }()
	l.release(1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	l.release(2)
	l.release(3)
	if busy := l.shards(); len(busy) != 0 {
		t.Errorf("busy after release: %v", busy)
	}
}
