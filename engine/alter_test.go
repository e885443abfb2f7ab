package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
)

// TestAddColumns writes rows before and after ALTER TABLE ADD COLUMN, with
// flushes and restarts in between, and checks old rows read NULL.
func TestAddColumns(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	tb := n.create("cpu", options.Overwrite)
	write(t, tb, row{"a", 1, 1000})
	if err := tb.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	write(t, tb, row{"b", 2, 2000}) // in the memtable at ALTER time
	if err := tb.AddColumns(ctx, []schema.Column{{Name: "dc", Kind: schema.String, Nullable: true}}); err != nil {
		t.Fatal(err)
	}
	if err := tb.AddColumns(ctx, []schema.Column{{Name: "dc", Kind: schema.String, Nullable: true}}); err == nil {
		t.Fatal("adding a column twice succeeded")
	}
	// A write with the new column.
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
		{Name: "host", Type: arrow.BinaryTypes.String}, {Name: "t", Type: schema.TimestampType},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64}, {Name: "dc", Type: arrow.BinaryTypes.String}}, nil))
	b.Field(0).(*array.StringBuilder).Append("c")
	b.Field(1).(*array.TimestampBuilder).Append(3000)
	b.Field(2).(*array.Float64Builder).Append(3)
	b.Field(3).(*array.StringBuilder).Append("eu")
	if _, err := tb.Write(ctx, b.NewRecordBatch()); err != nil {
		t.Fatal(err)
	}
	want := []string{"a@1000 dc=NULL", "b@2000 dc=NULL", "c@3000 dc=eu"}
	check := func(stage string) {
		t.Helper()
		if got := scanDC(t, n.table("cpu")); !slices.Equal(got, want) {
			t.Fatalf("%s: %v, want %v", stage, got, want)
		}
	}
	check("after alter")
	n.reopen() // replays the WAL: one entry from before the ALTER, one after
	check("after restart")
	if err := n.table("cpu").Flush(ctx); err != nil {
		t.Fatal(err)
	}
	n.reopen()
	check("after flush and restart")
	if v := n.table("cpu").Schema().Version; v != 2 {
		t.Errorf("schema version %d, want 2", v)
	}
}

func scanDC(t *testing.T, tb *engine.Table) []string {
	t.Helper()
	st, _, err := tb.Scan(context.Background(), engine.ScanRequest{Columns: []string{"host", "t", "dc"}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []string
	for {
		rec, err := st.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			dc := "NULL"
			if c := rec.Column(2); c.IsValid(i) {
				dc = c.(*array.String).Value(i)
			}
			out = append(out, fmt.Sprintf("%s@%d dc=%s", rec.Column(0).(*array.String).Value(i), rec.Column(1).(*array.Timestamp).Value(i), dc))
		}
	}
	sort.Strings(out)
	return out
}

func TestAlterOptions(t *testing.T) {
	n := newNode(t)
	tb := n.create("cpu", options.Overwrite)
	if err := tb.AlterOptions(context.Background(), map[string]string{"ttl": "10d", "update_mode": "APPEND", "write_buffer_size": "1MB"}); err != nil {
		t.Fatal(err)
	}
	check := func() {
		o := n.table("cpu").Options()
		if o.TTL.Hours() != 240 || o.UpdateMode != options.Overwrite || o.WriteBufferSize != 1<<20 {
			t.Fatalf("options %+v", o)
		}
	}
	check()
	n.reopen()
	check()
	if err := tb.AlterOptions(context.Background(), map[string]string{"compression": "gzip"}); !errors.Is(err, options.ErrInvalid) {
		t.Fatalf("bad option: %v", err)
	}
}
