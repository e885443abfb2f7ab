package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query/internal/expr"
)

// The write protocols (the gRPC storage API, InfluxDB line protocol,
// Prometheus remote write, OpenTSDB) deliver rows of tags, fields and a
// timestamp for tables that may not exist yet and columns that may be new.
// Executor.Write turns them into table writes: it creates missing tables,
// adds missing columns, checks every value against its column, and only
// then writes, so a bad value leaves nothing of the request behind.

// Value is one written value. Kind says which field holds it: I for
// Int8..Int64 and Timestamp (milliseconds), U for UInt8..UInt64, F for
// Double and Float, B for Boolean, S for String, Bytes for Varbinary.
type Value struct {
	Kind  schema.Kind
	I     int64
	U     uint64
	F     float64
	B     bool
	S     string
	Bytes []byte
}

// Cell is a value for column Index of WriteTable.Tags or .Fields.
type Cell struct {
	Index uint32
	Value Value
}

// WriteRow is one row: its timestamp and the cells it has; columns
// without a cell are null.
type WriteRow struct {
	Timestamp int64 // milliseconds
	Tags      []Cell
	Fields    []Cell
}

// WriteTable holds the rows for one table.
type WriteTable struct {
	Table string
	// Tags and Fields name the columns the rows' cells refer to.
	Tags, Fields []string
	Rows         []WriteRow
}

// WriteOptions tune how a write creates tables.
type WriteOptions struct {
	// TimestampColumn names the timestamp column of a table the write
	// creates (server.default_schema_config.default_timestamp_column_name);
	// default "timestamp".
	TimestampColumn string
}

// Write writes rows to tables, creating missing tables (tsid, the
// timestamp column, then the tags as TAG columns and the fields, in the
// order given, typed by their first value) and adding missing columns.
// Every table's rows are converted before anything is written, so a value
// that does not fit its column fails the request whole (ErrInvalid); a
// table is written all or nothing. It returns the rows written, which on a
// server error after some tables were written is the count of those.
func (x *Executor) Write(ctx context.Context, sess Session, tables []WriteTable, o WriteOptions) (int64, error) {
	if sess.Database == "" {
		sess.Database = DefaultDatabase
	}
	if o.TimestampColumn == "" {
		o.TimestampColumn = "timestamp"
	}
	for i := range tables {
		if err := x.checkWrite(tables[i].Table); err != nil {
			return 0, err
		}
	}
	sc := &stmtCtx{x: x, sess: sess, ec: &expr.Ctx{Mem: x.o.Mem, Now: x.o.Now(), TimeZone: x.o.TimeZone,
		Budget: &expr.Budget{Limit: x.o.MemoryLimit}}}
	type pending struct {
		t   *engine.Table
		rec arrow.RecordBatch
	}
	var work []pending
	release := func() {
		for _, p := range work {
			p.rec.Release()
		}
	}
	for i := range tables {
		wt := &tables[i]
		if len(wt.Rows) == 0 {
			continue
		}
		t, err := sc.writeTarget(ctx, wt, o)
		if err != nil {
			release()
			return 0, err
		}
		rec, err := sc.writeRecord(t, wt)
		if err != nil {
			release()
			return 0, err
		}
		work = append(work, pending{t, rec})
	}
	defer release()
	var written int64
	for _, p := range work {
		n, err := p.t.Write(ctx, p.rec)
		if err != nil {
			return written, err
		}
		written += int64(n)
	}
	return written, nil
}

// writeTarget returns the table of wt, created or extended so that it has
// a column for every tag and field that has a value.
func (sc *stmtCtx) writeTarget(ctx context.Context, wt *WriteTable, o WriteOptions) (*engine.Table, error) {
	if err := checkWriteColumns(wt); err != nil {
		return nil, err
	}
	kinds := valueKinds(wt)
	// Other writers may be creating the table or adding the same columns:
	// their work is as good as ours, so look again, for a while.
	deadline := time.Now().Add(10 * time.Second)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("table %s: gave up creating it or adding columns after %d attempts", wt.Table, attempt)
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(min(attempt, 10)) * time.Millisecond):
			}
		}
		t, err := sc.x.o.Catalog.Table(sc.sess.Database, wt.Table)
		if errors.Is(err, engine.ErrTableNotFound) {
			err = sc.createWriteTable(ctx, wt, kinds, o)
			if err != nil && (!errors.Is(err, engine.ErrTableExists) || errors.Is(err, ErrTableElsewhere)) {
				return nil, err
			}
			continue // ours, or another writer's: resolve it
		}
		if err != nil {
			return nil, err
		}
		var add []schema.Column
		sch := t.Schema()
		for i, name := range wt.Tags {
			if k, ok := kinds.tags[i]; ok && sch.Index(name) < 0 {
				add = append(add, schema.Column{Name: name, Kind: k, IsTag: true, Nullable: true})
			}
		}
		for i, name := range wt.Fields {
			if k, ok := kinds.fields[i]; ok && sch.Index(name) < 0 {
				add = append(add, schema.Column{Name: name, Kind: k, Nullable: true})
			}
		}
		if len(add) == 0 {
			return t, nil
		}
		if err := t.AddColumns(ctx, add); err != nil {
			if errors.Is(err, schema.ErrInvalid) && anyColumnNow(t, add) {
				continue // another writer added some of them meanwhile
			}
			return nil, fmt.Errorf("table %s: add columns: %w", wt.Table, err)
		}
	}
}

func anyColumnNow(t *engine.Table, add []schema.Column) bool {
	for _, c := range add {
		if t.Schema().Index(c.Name) >= 0 {
			return true
		}
	}
	return false
}

// checkWriteColumns rejects reserved, empty and repeated column names.
func checkWriteColumns(wt *WriteTable) error {
	if wt.Table == "" {
		return fmt.Errorf("%w: empty table name", ErrInvalid)
	}
	seen := map[string]bool{}
	for _, list := range [][]string{wt.Tags, wt.Fields} {
		for _, name := range list {
			switch {
			case name == "":
				return fmt.Errorf("%w: table %s: empty column name", ErrInvalid, wt.Table)
			case name == schema.TsidColumn:
				return fmt.Errorf("%w: table %s: column name %s is reserved", ErrInvalid, wt.Table, name)
			case seen[name]:
				return fmt.Errorf("%w: table %s: column %s given twice", ErrInvalid, wt.Table, name)
			}
			seen[name] = true
		}
	}
	return nil
}

// writeKinds are the kinds of the first value of each tag and field.
type writeKinds struct {
	tags, fields map[int]schema.Kind
}

func valueKinds(wt *WriteTable) writeKinds {
	k := writeKinds{tags: map[int]schema.Kind{}, fields: map[int]schema.Kind{}}
	for _, r := range wt.Rows {
		for _, c := range r.Tags {
			if _, ok := k.tags[int(c.Index)]; !ok && int(c.Index) < len(wt.Tags) {
				k.tags[int(c.Index)] = c.Value.Kind
			}
		}
		for _, c := range r.Fields {
			if _, ok := k.fields[int(c.Index)]; !ok && int(c.Index) < len(wt.Fields) {
				k.fields[int(c.Index)] = c.Value.Kind
			}
		}
		if len(k.tags) == len(wt.Tags) && len(k.fields) == len(wt.Fields) {
			break
		}
	}
	return k
}

// createWriteTable creates the table of a write with the default options.
func (sc *stmtCtx) createWriteTable(ctx context.Context, wt *WriteTable, kinds writeKinds, o WriteOptions) error {
	def := schema.TableDef{Columns: []schema.ColumnDef{{Name: o.TimestampColumn, Kind: schema.Timestamp, NotNull: true}},
		TimestampKey: o.TimestampColumn}
	for i, name := range wt.Tags {
		if k, ok := kinds.tags[i]; ok {
			def.Columns = append(def.Columns, schema.ColumnDef{Name: name, Kind: k, IsTag: true})
		}
	}
	for i, name := range wt.Fields {
		if k, ok := kinds.fields[i]; ok {
			if name == o.TimestampColumn {
				return fmt.Errorf("%w: table %s: field %s has the name of the timestamp column", ErrInvalid, wt.Table, name)
			}
			def.Columns = append(def.Columns, schema.ColumnDef{Name: name, Kind: k})
		}
	}
	sch, err := schema.Build(def)
	if err != nil {
		return fmt.Errorf("table %s: %w", wt.Table, err)
	}
	return sc.x.o.Catalog.CreateTable(ctx, CreateTableRequest{Database: sc.sess.Database, Name: wt.Table,
		Schema: sch, Options: *sc.x.o.TableDefaults})
}

// writeRecord converts the rows of wt into a record of t's columns:
// the timestamp, every column a cell names, the rest null or defaulted.
func (sc *stmtCtx) writeRecord(t *engine.Table, wt *WriteTable) (arrow.RecordBatch, error) {
	sch := t.Schema()
	n := len(wt.Rows)
	columns := func(names []string) ([]int, error) {
		cols := make([]int, len(names))
		for i, name := range names {
			cols[i] = sch.Index(name)
			if cols[i] == sch.TimestampIndex {
				return nil, fmt.Errorf("%w: table %s: %s is the timestamp column; the row's timestamp goes there",
					ErrInvalid, wt.Table, name)
			}
		}
		return cols, nil
	}
	tagCol, err := columns(wt.Tags)
	if err != nil {
		return nil, err
	}
	fieldCol, err := columns(wt.Fields)
	if err != nil {
		return nil, err
	}
	// One builder per column of the table that the write touches.
	builders := map[int]array.Builder{}
	builder := func(col int) array.Builder {
		b, ok := builders[col]
		if !ok {
			b = array.NewBuilder(sc.ec.Mem, sch.Columns[col].Kind.ArrowType())
			b.Reserve(n)
			builders[col] = b
		}
		return b
	}
	defer func() {
		for _, b := range builders {
			b.Release()
		}
	}()
	ts := builder(sch.TimestampIndex).(*array.TimestampBuilder)
	for r := range wt.Rows {
		row := &wt.Rows[r]
		ts.UnsafeAppend(arrow.Timestamp(row.Timestamp))
		for _, list := range []struct {
			cells []Cell
			cols  []int
			names []string
		}{{row.Tags, tagCol, wt.Tags}, {row.Fields, fieldCol, wt.Fields}} {
			for _, c := range list.cells {
				if int(c.Index) >= len(list.cols) {
					return nil, fmt.Errorf("%w: table %s: row %d refers to column %d of %d", ErrInvalid, wt.Table, r, c.Index, len(list.cols))
				}
				col := list.cols[c.Index]
				if col < 0 { // listed but never valued when the table was made: cannot happen for a valued cell
					return nil, fmt.Errorf("%w: table %s has no column %s", ErrInvalid, wt.Table, list.names[c.Index])
				}
				b := builder(col)
				if b.Len() > r {
					return nil, fmt.Errorf("%w: table %s: row %d gives column %s twice", ErrInvalid, wt.Table, r, list.names[c.Index])
				}
				for b.Len() < r {
					b.AppendNull()
				}
				if err := appendWriteValue(b, sch.Columns[col].Kind, c.Value); err != nil {
					return nil, fmt.Errorf("%w: table %s, column %s: %v", ErrInvalid, wt.Table, sch.Columns[col].Name, err)
				}
			}
		}
	}
	var fields []arrow.Field
	var cols []arrow.Array
	var target []int
	for col, b := range builders {
		for b.Len() < n {
			b.AppendNull()
		}
		c := sch.Columns[col]
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.Kind.ArrowType(), Nullable: col != sch.TimestampIndex})
		cols = append(cols, b.NewArray())
		target = append(target, col)
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	releaseArrays(cols)
	full, err := sc.fillDefaults(rec, sch, target)
	rec.Release()
	return full, err
}

// appendWriteValue appends v to a builder of a column of kind k: the same kind,
// or an integer that fits an integer column, or a float into a double.
func appendWriteValue(b array.Builder, k schema.Kind, v Value) error {
	mismatch := func() error {
		return fmt.Errorf("a %s column cannot hold a value of type %s", k, v.Kind)
	}
	signed := func() (int64, bool) {
		switch v.Kind {
		case schema.Int8, schema.Int16, schema.Int32, schema.Int64:
			return v.I, true
		case schema.UInt8, schema.UInt16, schema.UInt32, schema.UInt64:
			return int64(v.U), v.U <= math.MaxInt64
		}
		return 0, false
	}
	unsigned := func() (uint64, bool) {
		switch v.Kind {
		case schema.UInt8, schema.UInt16, schema.UInt32, schema.UInt64:
			return v.U, true
		case schema.Int8, schema.Int16, schema.Int32, schema.Int64:
			return uint64(v.I), v.I >= 0
		}
		return 0, false
	}
	outOfRange := func(x any) error { return fmt.Errorf("%v is out of range for a %s column", x, k) }
	switch k {
	case schema.Timestamp:
		if v.Kind != schema.Timestamp {
			return mismatch()
		}
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.I))
	case schema.Double:
		if v.Kind != schema.Double && v.Kind != schema.Float {
			return mismatch()
		}
		b.(*array.Float64Builder).Append(v.F)
	case schema.Float:
		if v.Kind != schema.Float {
			return mismatch()
		}
		b.(*array.Float32Builder).Append(float32(v.F))
	case schema.String:
		if v.Kind != schema.String {
			return mismatch()
		}
		b.(*array.StringBuilder).Append(v.S)
	case schema.Varbinary:
		if v.Kind != schema.Varbinary {
			return mismatch()
		}
		b.(*array.BinaryBuilder).Append(v.Bytes)
	case schema.Boolean:
		if v.Kind != schema.Boolean {
			return mismatch()
		}
		b.(*array.BooleanBuilder).Append(v.B)
	case schema.Int64, schema.Int32, schema.Int16, schema.Int8:
		x, ok := signed()
		if !ok {
			if v.Kind >= schema.UInt64 && v.Kind <= schema.UInt8 {
				return outOfRange(v.U)
			}
			return mismatch()
		}
		switch k {
		case schema.Int64:
			b.(*array.Int64Builder).Append(x)
		case schema.Int32:
			if x < math.MinInt32 || x > math.MaxInt32 {
				return outOfRange(x)
			}
			b.(*array.Int32Builder).Append(int32(x))
		case schema.Int16:
			if x < math.MinInt16 || x > math.MaxInt16 {
				return outOfRange(x)
			}
			b.(*array.Int16Builder).Append(int16(x))
		default:
			if x < math.MinInt8 || x > math.MaxInt8 {
				return outOfRange(x)
			}
			b.(*array.Int8Builder).Append(int8(x))
		}
	case schema.UInt64, schema.UInt32, schema.UInt16, schema.UInt8:
		x, ok := unsigned()
		if !ok {
			if v.Kind >= schema.Int64 && v.Kind <= schema.Int8 {
				return outOfRange(v.I)
			}
			return mismatch()
		}
		switch k {
		case schema.UInt64:
			b.(*array.Uint64Builder).Append(x)
		case schema.UInt32:
			if x > math.MaxUint32 {
				return outOfRange(x)
			}
			b.(*array.Uint32Builder).Append(uint32(x))
		case schema.UInt16:
			if x > math.MaxUint16 {
				return outOfRange(x)
			}
			b.(*array.Uint16Builder).Append(uint16(x))
		default:
			if x > math.MaxUint8 {
				return outOfRange(x)
			}
			b.(*array.Uint8Builder).Append(uint8(x))
		}
	default:
		return mismatch()
	}
	return nil
}
