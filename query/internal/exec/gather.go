package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// Gather runs its inputs concurrently, one goroutine each, and yields their
// batches as they come, in no particular order. Close stops the goroutines
// and waits for them.
type Gather struct {
	Ins []Operator

	started bool
	ch      chan gathered
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	live    int
}

type gathered struct {
	rec arrow.RecordBatch
	err error // io.EOF when an input is done
}

// Schema implements Operator.
func (g *Gather) Schema() *arrow.Schema { return g.Ins[0].Schema() }

func (g *Gather) start(ctx context.Context) {
	g.started = true
	ctx, g.cancel = context.WithCancel(ctx)
	g.ch = make(chan gathered, len(g.Ins))
	g.live = len(g.Ins)
	for _, in := range g.Ins {
		g.wg.Add(1)
		go func(in Operator) {
			defer g.wg.Done()
			for {
				rec, err := in.Next(ctx)
				select {
				case g.ch <- gathered{rec, err}:
				case <-ctx.Done():
					if rec != nil {
						rec.Release()
					}
					return
				}
				if err != nil {
					return
				}
			}
		}(in)
	}
}

// Next implements Operator.
func (g *Gather) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !g.started {
		g.start(ctx)
	}
	for g.live > 0 {
		select {
		case r := <-g.ch:
			if errors.Is(r.err, io.EOF) {
				g.live--
				continue
			}
			if r.err != nil {
				g.live = 0
				return nil, r.err
			}
			return r.rec, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, io.EOF
}

// Close implements Operator.
func (g *Gather) Close() {
	if g.started {
		g.cancel()
		g.wg.Wait()
		for len(g.ch) > 0 {
			if r := <-g.ch; r.rec != nil {
				r.rec.Release()
			}
		}
	}
	for _, in := range g.Ins {
		in.Close()
	}
}

func (g *Gather) Describe() string        { return fmt.Sprintf("Gather: partitions=%d", len(g.Ins)) }
func (g *Gather) Inputs() []Operator      { return g.Ins }
func (g *Gather) SetInputs(in []Operator) { g.Ins = in }
