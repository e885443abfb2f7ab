package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
)

func drainAll(t *testing.T, st engine.Stream) int {
	t.Helper()
	defer st.Close()
	n := 0
	for {
		rec, err := st.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n += int(rec.NumRows())
	}
}

func TestPruningFilters(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	o, _ := options.Default().Apply(map[string]string{"num_rows_per_row_group": "100"}, true)
	tb, err := n.e.CreateTable(ctx, engine.CreateTableRequest{Database: "public", Name: "p", Schema: demoSchema(t), Options: &o})
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	for h := 0; h < 10; h++ {
		for i := 0; i < 100; i++ {
			rows = append(rows, row{fmt.Sprintf("h%d", h), float64(i), int64(i)})
		}
	}
	write(t, tb, rows...)
	if err := tb.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if !tb.PushdownSafe("host") || !tb.PushdownSafe("t") || tb.PushdownSafe("value") {
		t.Fatal("OVERWRITE table: tags and keys are safe to push down, fields are not")
	}
	st, stats, err := tb.Scan(ctx, engine.ScanRequest{Columns: []string{"host"},
		Filters: []engine.Filter{{Column: "host", Op: engine.FilterEq, Values: []any{"h3"}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := drainAll(t, st)
	if stats.RowGroupsTotal != 10 || stats.RowGroups > 2 || got < 100 {
		t.Fatalf("host = 'h3': read %d of %d row groups, %d rows", stats.RowGroups, stats.RowGroupsTotal, got)
	}
	if _, _, err := tb.Scan(ctx, engine.ScanRequest{Filters: []engine.Filter{{Column: "value", Op: engine.FilterGt, Values: []any{1.0}}}}); err == nil {
		t.Fatal("a filter on a field of an OVERWRITE table was pushed down")
	}
	// A filter no row group can pass prunes them all.
	st, stats, err = tb.Scan(ctx, engine.ScanRequest{Filters: []engine.Filter{{Column: "host", Op: engine.FilterIn, Values: []any{"x", "zz"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := drainAll(t, st); got != 0 || stats.RowGroups != 0 {
		t.Fatalf("IN ('x','zz') read %d row groups and %d rows", stats.RowGroups, got)
	}
}

func TestScanPartitions(t *testing.T) {
	n := newNode(t)
	n.manualCompaction()
	ctx := context.Background()
	tb := n.create("parts", options.Append)
	for f := 0; f < 6; f++ {
		var rows []row
		for i := 0; i < 50; i++ {
			rows = append(rows, row{fmt.Sprintf("h%d", i%5), float64(i), int64(f*1000 + i)})
		}
		write(t, tb, rows...)
		if f < 5 {
			if err := tb.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	parts, _, err := tb.ScanPartitions(ctx, engine.ScanRequest{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 4 {
		t.Fatalf("%d partitions", len(parts))
	}
	var sizes []int
	total := 0
	for _, p := range parts {
		k := drainAll(t, p)
		sizes = append(sizes, k)
		total += k
	}
	sort.Ints(sizes)
	if total != 300 || sizes[0] == 0 {
		t.Fatalf("partitions hold %v rows (total %d), want 300 spread over all", sizes, total)
	}
}
