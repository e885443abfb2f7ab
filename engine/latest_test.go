package engine_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
)

// latest renders LatestRows as sorted "host@t=value".
func latest(t *testing.T, tb *engine.Table) []string {
	t.Helper()
	rec, err := tb.LatestRows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	s := tb.Schema()
	h := rec.Column(s.Index("host")).(*array.String)
	ts := rec.Column(s.Index("t")).(*array.Timestamp)
	v := rec.Column(s.Index("value")).(*array.Float64)
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		out = append(out, fmt.Sprintf("%s@%d=%g", h.Value(i), ts.Value(i), v.Value(i)))
	}
	sort.Strings(out)
	return out
}

func TestLatestRows(t *testing.T) {
	for _, mode := range []options.UpdateMode{options.Overwrite, options.Append} {
		t.Run(string(mode), func(t *testing.T) {
			n := newNode(t)
			tb := n.create("cpu", mode)
			write(t, tb, row{"a", 1, 1000}, row{"a", 2, 3000}, row{"b", 5, 2000})
			if err := tb.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			write(t, tb, row{"a", 3, 2500}) // older than a's newest: not the latest
			// The first call scans SSTs and memtables.
			if got, want := fmt.Sprint(latest(t, tb)), "[a@3000=2 b@2000=5]"; got != want {
				t.Fatalf("latest: %s, want %s", got, want)
			}
			// Writes keep the cache current.
			write(t, tb, row{"b", 6, 4000}, row{"c", 7, 100}, row{"b", 8, 3500})
			if got, want := fmt.Sprint(latest(t, tb)), "[a@3000=2 b@4000=6 c@100=7]"; got != want {
				t.Fatalf("after writes: %s, want %s", got, want)
			}
			// After a restart it is built again from storage.
			n.reopen()
			if got, want := fmt.Sprint(latest(t, n.table("cpu"))), "[a@3000=2 b@4000=6 c@100=7]"; got != want {
				t.Fatalf("after reopening: %s, want %s", got, want)
			}
		})
	}
}
