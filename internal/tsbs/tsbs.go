// Package tsbs generates data shaped like the Time Series Benchmark
// Suite's devops "cpu" table, for benchmarks: hosts with TSBS's ten tags,
// and per host ten fields, each a random walk clamped to [0, 100] with
// normally distributed steps, emitted as whole numbers as TSBS writes them
// ("usage_user=58i"). Deterministic for a seed.
package tsbs

import (
	"math/rand/v2"
	"strconv"
)

// Tags are the tag keys of a TSBS devops host, in TSBS's order.
var Tags = []string{"hostname", "region", "datacenter", "rack", "os", "arch", "team", "service", "service_version", "service_environment"}

// Fields are the fields of TSBS's cpu measurement.
var Fields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// Interval is TSBS's default sampling interval, in milliseconds.
const Interval = 10_000

// Generator holds the hosts and the state of their random walks.
type Generator struct {
	// HostTags[h] are the values of Tags for host h.
	HostTags [][]string
	walk     [][]float64
	out      [][]float64
	rng      *rand.Rand
}

// New returns a generator of n hosts.
func New(n int, seed uint64) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(seed, 1))}
	regions := []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}
	oses := []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}
	for h := 0; h < n; h++ {
		r := regions[g.rng.IntN(len(regions))]
		g.HostTags = append(g.HostTags, []string{"host_" + strconv.Itoa(h), r, r + string(rune('a'+g.rng.IntN(3))),
			strconv.Itoa(g.rng.IntN(100)), oses[g.rng.IntN(3)], []string{"x86", "x64"}[g.rng.IntN(2)],
			[]string{"SF", "NYC", "LON", "CHI"}[g.rng.IntN(4)], strconv.Itoa(g.rng.IntN(20)),
			strconv.Itoa(g.rng.IntN(2)), []string{"production", "staging", "test"}[g.rng.IntN(3)]})
		w := make([]float64, len(Fields))
		for i := range w {
			w[i] = g.rng.Float64() * 100
		}
		g.walk = append(g.walk, w)
		g.out = append(g.out, make([]float64, len(Fields)))
	}
	return g
}

// Step advances host h's fields by one interval and returns their values
// (whole numbers; the slice is reused by the next Step of h).
func (g *Generator) Step(h int) []float64 {
	for i, v := range g.walk[h] {
		v = min(max(v+g.rng.NormFloat64(), 0), 100)
		g.walk[h][i] = v
		g.out[h][i] = float64(int64(v))
	}
	return g.out[h]
}
