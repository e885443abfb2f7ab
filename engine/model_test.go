package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
)

// TestModel runs random writes, flushes, restarts and range scans and
// compares every scan with a model of what the table must hold.
func TestModel(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		for _, mode := range []options.UpdateMode{options.Overwrite, options.Append} {
			t.Run(fmt.Sprintf("%s/seed%d", mode, seed), func(t *testing.T) {
				runModel(t, seed, mode)
			})
		}
	}
}

func runModel(t *testing.T, seed uint64, mode options.UpdateMode) {
	rng := rand.New(rand.NewPCG(seed, 99))
	n := newNode(t)
	n.create("m", mode)
	model := map[string][]float64{} // "host@t" -> values in write order
	val := 0.0
	for op := 0; op < 150; op++ {
		switch r := rng.IntN(20); {
		case r < 14: // a write batch
			var rows []row
			seen := map[string]bool{}
			for i := rng.IntN(20) + 1; i > 0; i-- {
				val++
				rw := row{fmt.Sprintf("h%d", rng.IntN(5)), val, int64(rng.IntN(30))}
				rows = append(rows, rw)
				k := fmt.Sprintf("%s@%d", rw.host, rw.t)
				if mode == options.Overwrite && seen[k] {
					// Within one batch the later row wins.
					model[k] = model[k][:len(model[k])-1]
				}
				seen[k] = true
				model[k] = append(model[k], rw.value)
			}
			write(t, n.table("m"), rows...)
		case r < 16:
			if err := n.table("m").Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		case r < 17:
			if _, failed := n.e.CompactAll(context.Background()); len(failed) > 0 {
				t.Fatalf("compaction failed: %v", failed)
			}
		case r < 18:
			n.reopen()
		default:
			lo := int64(rng.IntN(30))
			hi := lo + int64(rng.IntN(10))
			got := scan(t, n.table("m"), engine.ScanRequest{TimeRange: engine.TimeRange{Start: lo, End: hi}})
			if want := expect(model, mode, lo, hi); !slices.Equal(got, want) {
				t.Fatalf("op %d, range [%d,%d): got %v\nwant %v", op, lo, hi, got, want)
			}
		}
	}
	got := scan(t, n.table("m"), engine.ScanRequest{})
	if want := expect(model, mode, -1<<62, 1<<62); !slices.Equal(got, want) {
		t.Fatalf("final: got %v\nwant %v", got, want)
	}
}

func expect(model map[string][]float64, mode options.UpdateMode, lo, hi int64) []string {
	var out []string
	for k, vals := range model {
		var ts int64
		at := 0
		for i := range k {
			if k[i] == '@' {
				at = i
			}
		}
		fmt.Sscanf(k[at+1:], "%d", &ts)
		if ts < lo || ts >= hi {
			continue
		}
		if mode == options.Overwrite {
			out = append(out, fmt.Sprintf("%s=%g", k, vals[len(vals)-1]))
		} else {
			for _, v := range vals {
				out = append(out, fmt.Sprintf("%s=%g", k, v))
			}
		}
	}
	sort.Strings(out)
	return out
}
