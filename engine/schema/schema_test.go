package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func names(s *Schema) string {
	var out []string
	for _, c := range s.Columns {
		out = append(out, c.Name)
	}
	return strings.Join(out, ",")
}

func TestBuild(t *testing.T) {
	ts := func(name string) ColumnDef { return ColumnDef{Name: name, Kind: Timestamp, NotNull: true} }
	for _, tc := range []struct {
		name     string
		def      TableDef
		want     string // column order
		keys     int
		tsid     int
		ts       int
		errMatch string
	}{
		{
			name: "default key with tags",
			def: TableDef{Columns: []ColumnDef{
				{Name: "name", Kind: String, IsTag: true}, {Name: "value", Kind: Double, NotNull: true}, ts("t"),
			}, TimestampKey: "t"},
			want: "tsid,t,name,value", keys: 2, tsid: 0, ts: 1,
		},
		{
			name: "inferred timestamp key, reorder",
			def:  TableDef{Columns: []ColumnDef{{Name: "a", Kind: Int64}, {Name: "b", Kind: Int32}, ts("t")}},
			want: "tsid,t,a,b", keys: 2, tsid: 0, ts: 1,
		},
		{
			name: "explicit pk with tsid",
			def: TableDef{Columns: []ColumnDef{{Name: "t1", Kind: String, IsTag: true}, {Name: "c1", Kind: Double}, ts("t")},
				PrimaryKey: []string{"t1", "tsid", "t"}},
			want: "t1,tsid,t,c1", keys: 3, tsid: 1, ts: 2,
		},
		{
			name: "explicit pk without tsid",
			def:  TableDef{Columns: []ColumnDef{{Name: "c1", Kind: Double}, {Name: "k", Kind: String}, ts("t")}, PrimaryKey: []string{"k", "t"}},
			want: "k,t,c1", keys: 2, tsid: -1, ts: 1,
		},
		{
			name: "inline timestamp key",
			def:  TableDef{Columns: []ColumnDef{{Name: "v", Kind: Double}, {Name: "t", Kind: Timestamp, TimestampKey: true}}},
			want: "tsid,t,v", keys: 2, tsid: 0, ts: 1,
		},
		{name: "no timestamp", def: TableDef{Columns: []ColumnDef{{Name: "v", Kind: Double}}}, errMatch: "Table must contain timestamp constraint"},
		{name: "two timestamps", def: TableDef{Columns: []ColumnDef{ts("a"), ts("b")}}, errMatch: "Table must contain timestamp constraint"},
		{name: "key not timestamp", def: TableDef{Columns: []ColumnDef{{Name: "v", Kind: Double}}, TimestampKey: "v"}, errMatch: "only one timestamp key"},
		{name: "tsid reserved", def: TableDef{Columns: []ColumnDef{{Name: "tsid", Kind: UInt64}, ts("t")}}, errMatch: "reserved"},
		{name: "duplicate column", def: TableDef{Columns: []ColumnDef{ts("t"), {Name: "t", Kind: Double}}}, errMatch: "duplicate column name t"},
		{name: "ts not in pk", def: TableDef{Columns: []ColumnDef{{Name: "k", Kind: String}, ts("t")}, PrimaryKey: []string{"k"}}, errMatch: "Timestamp not in primary key"},
		{name: "double key", def: TableDef{Columns: []ColumnDef{{Name: "d", Kind: Double}, ts("t")}, PrimaryKey: []string{"d", "t"}}, errMatch: "cannot be a key column"},
		{name: "timestamp tag", def: TableDef{Columns: []ColumnDef{{Name: "t", Kind: Timestamp, IsTag: true}}}, errMatch: "cannot be a tag"},
		{name: "dictionary double", def: TableDef{Columns: []ColumnDef{{Name: "d", Kind: Double, IsDictionary: true}, ts("t")}}, errMatch: "dictionary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Build(tc.def)
			if tc.errMatch != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.errMatch) {
					t.Fatalf("err = %v, want one containing %q", err, tc.errMatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(s); got != tc.want {
				t.Errorf("columns = %s, want %s", got, tc.want)
			}
			if s.NumKeys != tc.keys || s.TsidIndex != tc.tsid || s.TimestampIndex != tc.ts {
				t.Errorf("keys=%d tsid=%d ts=%d, want %d %d %d", s.NumKeys, s.TsidIndex, s.TimestampIndex, tc.keys, tc.tsid, tc.ts)
			}
			for i, c := range s.Columns {
				if c.ID != uint32(i+1) {
					t.Errorf("column %s id %d, want %d", c.Name, c.ID, i+1)
				}
			}
		})
	}
}

// TestTsidVectors checks the verified upstream values (reference §1.11).
func TestTsidVectors(t *testing.T) {
	demo, err := Build(TableDef{Columns: []ColumnDef{
		{Name: "name", Kind: String, IsTag: true}, {Name: "value", Kind: Double, NotNull: true},
		{Name: "t", Kind: Timestamp, NotNull: true},
	}, TimestampKey: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if id := demo.Columns[demo.Index("name")].ID; id != 3 {
		t.Fatalf("demo.name id = %d, want 3", id)
	}
	if got := tsidOf(t, demo, [][]string{{"horaedb"}}); got[0] != 1023872802579860359 {
		t.Errorf("demo tsid = %d, want 1023872802579860359", got[0])
	}

	h2o, err := Build(TableDef{Columns: []ColumnDef{
		{Name: "level_description", Kind: String, IsTag: true}, {Name: "location", Kind: String, IsTag: true},
		{Name: "water_level", Kind: Double}, {Name: "time", Kind: Timestamp, NotNull: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := tsidOf(t, h2o, [][]string{{"below 3 feet", "santa_monica"}, {"between 6 and 9 feet", "coyote_creek"}})
	if got[0] != 8247797837995683878 || got[1] != 4483051411356144610 {
		t.Errorf("h2o tsids = %v", got)
	}
}

// tsidOf builds a record in schema order where tag columns get the given
// string values (nulls elsewhere) and returns each row's tsid.
func tsidOf(t *testing.T, s *Schema, rows [][]string) []uint64 {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, s.ArrowSchema())
	defer b.Release()
	for _, row := range rows {
		tag := 0
		for i, c := range s.Columns {
			if c.IsTag {
				b.Field(i).(*array.StringBuilder).Append(row[tag])
				tag++
			} else {
				b.Field(i).AppendNull()
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	h := NewTsidHasher(s, rec)
	out := make([]uint64, len(rows))
	for i := range rows {
		out[i] = h.Tsid(i)
	}
	return out
}

func TestTsidNoTagsAndNulls(t *testing.T) {
	s, err := Build(TableDef{Columns: []ColumnDef{{Name: "v", Kind: Double}, {Name: "t", Kind: Timestamp}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tsidOf(t, s, [][]string{{}}); got[0] != 0 {
		t.Errorf("no tags tsid = %d", got[0])
	}
	// Null tags are skipped: a row with only null tags hashes to 0 too.
	s2, _ := Build(TableDef{Columns: []ColumnDef{{Name: "k", Kind: String, IsTag: true}, {Name: "t", Kind: Timestamp}}})
	b := array.NewRecordBuilder(memory.DefaultAllocator, s2.ArrowSchema())
	b.Field(0).AppendNull()
	b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(1))
	b.Field(2).AppendNull()
	rec := b.NewRecordBatch()
	if got := NewTsidHasher(s2, rec).Tsid(0); got != 0 {
		t.Errorf("null tag tsid = %d", got)
	}
}

func TestAddColumns(t *testing.T) {
	s, _ := Build(TableDef{Columns: []ColumnDef{{Name: "v", Kind: Double}, {Name: "t", Kind: Timestamp}}})
	s2, err := s.AddColumns([]Column{{Name: "x", Kind: String, Nullable: true}})
	if err != nil {
		t.Fatal(err)
	}
	if names(s2) != "tsid,t,v,x" || s2.Columns[3].ID != 4 || s2.Version != 2 || s2.Index("x") != 3 {
		t.Errorf("after add: %s v%d", s2, s2.Version)
	}
	if _, err := s.AddColumns([]Column{{Name: "v", Kind: String, Nullable: true}}); err == nil {
		t.Error("adding an existing column succeeded")
	}
	if _, err := s.AddColumns([]Column{{Name: "y", Kind: String}}); err == nil {
		t.Error("adding a NOT NULL column without default succeeded")
	}
}

func TestParseKind(t *testing.T) {
	for name, want := range map[string]Kind{"BIGINT": Int64, "int": Int32, "Real": Float, "uint8": UInt8, "VARBINARY": Varbinary} {
		if k, err := ParseKind(name); err != nil || k != want {
			t.Errorf("ParseKind(%s) = %v, %v", name, k, err)
		}
	}
	if _, err := ParseKind("decimal"); err == nil || !strings.Contains(err.Error(), "unsupported data type: decimal") {
		t.Errorf("decimal: %v", err)
	}
	for k := Null; k < numKinds; k++ {
		back, ok := KindOf(k.ArrowType())
		if !ok || back != k {
			t.Errorf("KindOf(ArrowType(%s)) = %s", k, back)
		}
	}
}
