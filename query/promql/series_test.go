package promql

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFinish: samples in any number of ascending runs, with duplicates,
// come out ordered with one sample per timestamp.
func TestFinish(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		runs := 1 + n%40
		var s series
		want := map[int64]bool{}
		for range runs {
			ts := int64(r.IntN(50))
			for range r.IntN(20) {
				ts += int64(1 + r.IntN(5))
				s.samples = append(s.samples, fsample{ts, float64(ts)})
				want[ts] = true
			}
		}
		s.finish()
		var got []int64
		for i, x := range s.samples {
			if i > 0 && x.t <= s.samples[i-1].t {
				t.Fatalf("case %d: not ordered: %v", n, s.samples)
			}
			if x.f != float64(x.t) {
				t.Fatalf("case %d: sample %v lost its value", n, x)
			}
			got = append(got, x.t)
		}
		var keys []int64
		for k := range want {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(got, keys) {
			t.Fatalf("case %d: got %v, want %v", n, got, keys)
		}
	}
}
