package grpcsvc

import (
	"sync"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := NewLimiter(10, 3, clock)
	for i := range 3 {
		if !l.Allow() {
			t.Fatalf("burst request %d refused", i)
		}
	}
	if l.Allow() {
		t.Fatal("a request beyond the burst was admitted")
	}
	mu.Lock()
	now = now.Add(250 * time.Millisecond) // 2.5 tokens
	mu.Unlock()
	admitted := 0
	for range 3 {
		if l.Allow() {
			admitted++
		}
	}
	if admitted != 2 {
		t.Errorf("refill at 10/s over 250ms admitted %d, want 2", admitted)
	}
}
