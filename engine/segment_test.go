package engine

import (
	"testing"
	"time"

	"github.com/horaego/horaedb/internal/units"
)

func TestChooseSegment(t *testing.T) {
	points := func(step time.Duration, n int) map[int64]struct{} {
		m := map[int64]struct{}{}
		for i := 0; i < n; i++ {
			m[int64(i)*step.Milliseconds()] = struct{}{}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		ts   map[int64]struct{}
		want time.Duration
	}{
		{"one point", points(time.Second, 1), 2 * time.Hour},
		{"10s interval", points(10*time.Second, 500), 2 * time.Hour},  // 1000s -> 2h
		{"1m interval", points(time.Minute, 500), 2 * time.Hour},      // 100m -> 2h
		{"5m interval", points(5*time.Minute, 500), units.Day},        // 500m -> 1d
		{"1h interval", points(time.Hour, 100), 7 * units.Day},        // 100h -> 7d
		{"1d interval", points(units.Day, 50), 180 * units.Day},       // 100d -> 180d
		{"100d interval", points(100*units.Day, 5), 3600 * units.Day}, // beyond the list
	} {
		if got := chooseSegment(tc.ts); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, units.FormatDuration(got), units.FormatDuration(tc.want))
		}
	}
	if got := segmentStart(-1, time.Hour); got != -3_600_000 {
		t.Errorf("segmentStart(-1) = %d", got)
	}
}
