package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
	"github.com/horaego/horaedb/wal/local"
)

// node is an engine over a WAL directory and an object store directory
// that survive reopening.
type node struct {
	t      *testing.T
	dir    string
	manual bool // no automatic compaction
	tune   func(*engine.Options)
	e      *engine.Engine
	w      *local.WAL
	b      objstore.Bucket
}

func newNode(t *testing.T) *node { return newNodeWith(t, nil) }

// newNodeWith opens a node whose engine options tune changes.
func newNodeWith(t *testing.T, tune func(*engine.Options)) *node {
	n := &node{t: t, dir: t.TempDir(), tune: tune}
	n.open()
	t.Cleanup(func() { n.close() })
	return n
}

func (n *node) open() {
	n.t.Helper()
	w, err := local.Open(filepath.Join(n.dir, "wal"), local.Options{})
	if err != nil {
		n.t.Fatal(err)
	}
	b, err := objstore.OpenLocal(filepath.Join(n.dir, "store"))
	if err != nil {
		n.t.Fatal(err)
	}
	o := engine.Options{Now: epochClock, WAL: w, Store: b, SnapshotEvery: 3, Logger: slog.New(slog.DiscardHandler),
		DisableAutoCompaction: n.manual}
	if n.tune != nil {
		n.tune(&o)
	}
	e, err := engine.Open(o)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := e.OpenShard(context.Background(), 0); err != nil {
		n.t.Fatal(err)
	}
	n.e, n.w, n.b = e, w, b
}

func (n *node) close() {
	if n.e == nil {
		return
	}
	n.e.Close()
	n.w.Close()
	n.b.Close()
	n.e = nil
}

// manualCompaction reopens the node without automatic compaction.
func (n *node) manualCompaction() {
	n.manual = true
	n.reopen()
}

func (n *node) reopen() {
	n.close()
	n.open()
}

func demoSchema(t testing.TB) *schema.Schema {
	s, err := schema.Build(schema.TableDef{Columns: []schema.ColumnDef{
		{Name: "host", Kind: schema.String, IsTag: true},
		{Name: "value", Kind: schema.Double},
		{Name: "t", Kind: schema.Timestamp, NotNull: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (n *node) create(name string, mode options.UpdateMode) *engine.Table {
	n.t.Helper()
	o, err := options.Default().Apply(map[string]string{"update_mode": string(mode)}, true)
	if err != nil {
		n.t.Fatal(err)
	}
	tb, err := n.e.CreateTable(context.Background(), engine.CreateTableRequest{Database: "public", Name: name, Schema: demoSchema(n.t), Options: &o})
	if err != nil {
		n.t.Fatal(err)
	}
	return tb
}

func (n *node) table(name string) *engine.Table {
	n.t.Helper()
	tb, err := n.e.Table("public", name)
	if err != nil {
		n.t.Fatal(err)
	}
	return tb
}

type row struct {
	host  string
	value float64
	t     int64
}

var inputSchema = arrow.NewSchema([]arrow.Field{
	{Name: "host", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "t", Type: schema.TimestampType},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

func record(rows ...row) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, inputSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.host)
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(r.t))
		b.Field(2).(*array.Float64Builder).Append(r.value)
	}
	return b.NewRecordBatch()
}

func write(t *testing.T, tb *engine.Table, rows ...row) {
	t.Helper()
	if _, err := tb.Write(context.Background(), record(rows...)); err != nil {
		t.Fatal(err)
	}
}

// scan returns the table's rows as sorted "host@t=value" strings.
func scan(t *testing.T, tb *engine.Table, req engine.ScanRequest) []string {
	t.Helper()
	if req.Columns == nil {
		req.Columns = []string{"host", "t", "value"}
	}
	st, _, err := tb.Scan(context.Background(), req)
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
		h := rec.Column(0).(*array.String)
		ts := rec.Column(1).(*array.Timestamp)
		v := rec.Column(2).(*array.Float64)
		for i := 0; i < int(rec.NumRows()); i++ {
			out = append(out, fmt.Sprintf("%s@%d=%g", h.Value(i), ts.Value(i), v.Value(i)))
		}
		rec.Release()
	}
	sort.Strings(out)
	return out
}

func TestWriteScanFlushRecover(t *testing.T) {
	for _, mode := range []options.UpdateMode{options.Overwrite, options.Append} {
		t.Run(string(mode), func(t *testing.T) {
			n := newNode(t)
			tb := n.create("cpu", mode)
			write(t, tb, row{"a", 1, 1000}, row{"b", 2, 1000}, row{"a", 3, 2000})
			write(t, tb, row{"a", 10, 1000}) // same key as the first row
			want := []string{"a@1000=10", "a@2000=3", "b@1000=2"}
			if mode == options.Append {
				want = []string{"a@1000=1", "a@1000=10", "a@2000=3", "b@1000=2"}
			}
			check := func(stage string) {
				t.Helper()
				if got := scan(t, n.table("cpu"), engine.ScanRequest{}); !slices.Equal(got, want) {
					t.Fatalf("%s: got %v, want %v", stage, got, want)
				}
			}
			check("memtable")
			if err := tb.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			check("after flush")
			write(t, n.table("cpu"), row{"b", 20, 1000})
			if mode == options.Overwrite {
				want = []string{"a@1000=10", "a@2000=3", "b@1000=20"}
			} else {
				want = append(want, "b@1000=20")
				sort.Strings(want)
			}
			check("memtable over SST")
			n.reopen()
			check("after restart")
			if st := n.table("cpu").Stats(); st.SSTs != 1 || st.MemtableRows != 1 {
				t.Errorf("after restart: %+v", st)
			}
			if err := n.table("cpu").Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			n.reopen()
			check("after second flush and restart")
			if st := n.table("cpu").Stats(); st.SSTs != 2 || st.MemtableRows != 0 {
				t.Errorf("after flush and restart: %+v", st)
			}
		})
	}
}

func TestTimeRangeAndProjection(t *testing.T) {
	n := newNode(t)
	tb := n.create("cpu", options.Overwrite)
	for i := 0; i < 100; i++ {
		write(t, tb, row{fmt.Sprintf("h%d", i%3), float64(i), int64(i) * 1000})
		if i == 50 {
			if err := tb.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := scan(t, tb, engine.ScanRequest{TimeRange: engine.TimeRange{Start: 40_000, End: 60_000}})
	if len(got) != 20 {
		t.Fatalf("range scan returned %d rows: %v", len(got), got)
	}
	st, stats, err := tb.Scan(context.Background(), engine.ScanRequest{Columns: []string{"value"}, TimeRange: engine.TimeRange{Start: 70_000, End: 80_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, err := st.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rec.NumCols() != 1 || rec.Schema().Field(0).Name != "value" || rec.NumRows() != 10 {
		t.Fatalf("projected record: %v", rec)
	}
	if stats.SSTs != 0 || stats.SSTsPruned != 1 {
		t.Errorf("the SST holding [0, 50s] was not pruned: %+v", stats)
	}
}

func TestInvalidWrites(t *testing.T) {
	n := newNode(t)
	tb := n.create("cpu", options.Overwrite)
	mk := func(fields []arrow.Field, build func(b *array.RecordBuilder)) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
		defer b.Release()
		build(b)
		return b.NewRecordBatch()
	}
	ts := arrow.Field{Name: "t", Type: schema.TimestampType}
	for _, tc := range []struct {
		name string
		rec  arrow.RecordBatch
		msg  string
	}{
		{"unknown column", mk([]arrow.Field{ts, {Name: "nope", Type: arrow.PrimitiveTypes.Int64}}, func(b *array.RecordBuilder) {
			b.Field(0).(*array.TimestampBuilder).Append(1)
			b.Field(1).(*array.Int64Builder).Append(1)
		}), "unknown column nope"},
		{"wrong type", mk([]arrow.Field{ts, {Name: "value", Type: arrow.BinaryTypes.String}}, func(b *array.RecordBuilder) {
			b.Field(0).(*array.TimestampBuilder).Append(1)
			b.Field(1).(*array.StringBuilder).Append("x")
		}), "column value has type double"},
		{"missing timestamp", mk([]arrow.Field{{Name: "value", Type: arrow.PrimitiveTypes.Float64}}, func(b *array.RecordBuilder) {
			b.Field(0).(*array.Float64Builder).Append(1)
		}), "missing timestamp column t"},
		{"null timestamp", mk([]arrow.Field{{Name: "t", Type: schema.TimestampType, Nullable: true}}, func(b *array.RecordBuilder) {
			b.Field(0).(*array.TimestampBuilder).Append(1)
			b.Field(0).AppendNull()
		}), "column t cannot be null"},
		{"tsid", mk([]arrow.Field{ts, {Name: "tsid", Type: arrow.PrimitiveTypes.Uint64}}, func(b *array.RecordBuilder) {
			b.Field(0).(*array.TimestampBuilder).Append(1)
			b.Field(1).(*array.Uint64Builder).Append(1)
		}), "tsid is computed by the server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tb.Write(context.Background(), tc.rec)
			if !errors.Is(err, engine.ErrInvalidWrite) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrInvalidWrite with %q", err, tc.msg)
			}
		})
	}
	if got := scan(t, tb, engine.ScanRequest{}); len(got) != 0 {
		t.Fatalf("invalid writes left rows: %v", got)
	}
	n.reopen()
	if got := scan(t, n.table("cpu"), engine.ScanRequest{}); len(got) != 0 {
		t.Fatalf("invalid writes left rows after restart: %v", got)
	}
}

func TestDDL(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	tb := n.create("cpu", options.Overwrite)
	write(t, tb, row{"a", 1, 1})
	if _, err := n.e.CreateTable(ctx, engine.CreateTableRequest{Database: "public", Name: "cpu", Schema: demoSchema(t)}); !errors.Is(err, engine.ErrTableExists) {
		t.Fatalf("create twice: %v", err)
	}
	if err := n.e.DropTable(ctx, "public", "cpu"); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Write(ctx, record(row{"a", 1, 2})); !errors.Is(err, engine.ErrTableNotFound) {
		t.Fatalf("write after drop: %v", err)
	}
	if err := n.e.DropTable(ctx, "public", "cpu"); !errors.Is(err, engine.ErrTableNotFound) {
		t.Fatalf("drop twice: %v", err)
	}
	tb2 := n.create("cpu", options.Overwrite)
	if tb2.ID() == tb.ID() {
		t.Fatal("table id reused")
	}
	if got := scan(t, tb2, engine.ScanRequest{}); len(got) != 0 {
		t.Fatalf("re-created table has old rows: %v", got)
	}
	n.reopen()
	if got := scan(t, n.table("cpu"), engine.ScanRequest{}); len(got) != 0 {
		t.Fatalf("after restart the dropped table's rows came back: %v", got)
	}
	if objs, _ := n.b.List(ctx, fmt.Sprintf("tables/%020d/", tb.ID())); len(objs) != 0 {
		t.Errorf("dropped table left %d objects", len(objs))
	}
}

func TestConcurrentWritesAndFlushes(t *testing.T) {
	n := newNode(t)
	tb := n.create("cpu", options.Overwrite)
	const writers, perWriter = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	stop := make(chan struct{})
	go func() { // flush continually while writing
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
				if err := tb.Flush(context.Background()); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				if _, err := tb.Write(context.Background(), record(row{fmt.Sprintf("w%d", w), float64(i), int64(i)})); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if got := scan(t, tb, engine.ScanRequest{}); len(got) != writers*perWriter {
		t.Fatalf("%d rows, want %d", len(got), writers*perWriter)
	}
	n.reopen()
	if got := scan(t, n.table("cpu"), engine.ScanRequest{}); len(got) != writers*perWriter {
		t.Fatalf("after restart %d rows, want %d", len(got), writers*perWriter)
	}
}

func TestSegmentedFlush(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	o, _ := options.Default().Apply(map[string]string{"segment_duration": "2h"}, true)
	tb, err := n.e.CreateTable(ctx, engine.CreateTableRequest{Database: "public", Name: "seg", Schema: demoSchema(t), Options: &o})
	if err != nil {
		t.Fatal(err)
	}
	h := int64(3_600_000)
	write(t, tb, row{"a", 1, 0}, row{"a", 2, 2 * h}, row{"b", 3, 2*h + 1}, row{"a", 4, 5 * h})
	if err := tb.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := tb.Stats(); st.SSTs != 3 || st.SSTRows != 4 {
		t.Fatalf("%d SSTs with %d rows, want 3 (one per 2h segment) with 4", st.SSTs, st.SSTRows)
	}
	if got := scan(t, tb, engine.ScanRequest{}); len(got) != 4 {
		t.Fatalf("rows %v", got)
	}
	// A table without segment_duration samples one at its first flush.
	tb2 := n.create("sampled", options.Overwrite)
	var rows []row
	for i := 0; i < 300; i++ {
		rows = append(rows, row{"a", float64(i), int64(i) * 10_000})
	}
	write(t, tb2, rows...)
	if err := tb2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if seg := n.table("sampled").Options().SegmentDuration; seg != 2*time.Hour {
		t.Fatalf("sampled segment %v, want 2h", seg)
	}
	n.reopen()
	if seg := n.table("sampled").Options().SegmentDuration; seg != 2*time.Hour {
		t.Fatalf("after restart the sampled segment is %v", seg)
	}
}

// epochClock pins the engine's clock to 1970, so the tests' small
// timestamps are never older than a table's TTL.
func epochClock() time.Time { return time.UnixMilli(0) }
