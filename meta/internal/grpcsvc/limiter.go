package grpcsvc

import (
	"sync"
	"time"
)

// Limiter is a token bucket: Rate tokens per second, at most Burst saved.
type Limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu struct {
		sync.Mutex
		tokens float64
		last   time.Time
	}
}

// NewLimiter returns a full bucket.
func NewLimiter(rate, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{rate: float64(rate), burst: float64(burst), now: now}
	l.mu.tokens, l.mu.last = l.burst, now()
	return l
}

// Allow takes a token if there is one.
func (l *Limiter) Allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.mu.tokens = min(l.burst, l.mu.tokens+now.Sub(l.mu.last).Seconds()*l.rate)
	l.mu.last = now
	if l.mu.tokens < 1 {
		return false
	}
	l.mu.tokens--
	return true
}
