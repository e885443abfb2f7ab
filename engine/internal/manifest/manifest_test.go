package manifest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/horaego/horaedb/engine/internal/sst"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
)

func newState(t *testing.T) State {
	s, err := schema.Build(schema.TableDef{Columns: []schema.ColumnDef{
		{Name: "host", Kind: schema.String, IsTag: true}, {Name: "t", Kind: schema.Timestamp, NotNull: true}}})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := options.Default().Apply(map[string]string{"update_mode": "APPEND", "ttl": "30d"}, true)
	return State{Table: TableMeta{ID: 42, Name: "cpu", Database: "public", ShardID: 3}, Schema: s, Options: o}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	for _, every := range []int{1, 3, 100} {
		t.Run(fmt.Sprint("snapshot every ", every), func(t *testing.T) {
			b := objstore.NewMemory()
			m, err := Create(ctx, b, newState(t), every)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 10; i++ {
				id := m.AllocFileID()
				e := Edit{AddFiles: []sst.Meta{{ID: id, Rows: int64(i)}}, FlushedSeq: uint64(i * 10)}
				if i%4 == 0 {
					e.RemoveFiles = []uint64{id - 1}
				}
				if err := m.Apply(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			s2, _ := m.State().Schema.AddColumns([]schema.Column{{Name: "x", Kind: schema.Double, Nullable: true}})
			o2 := m.State().Options
			o2.TTL = 2 * o2.TTL
			if err := m.Apply(ctx, Edit{Schema: s2, Options: &o2}); err != nil {
				t.Fatal(err)
			}
			want := m.State()
			got, err := Load(ctx, b, 42, every)
			if err != nil {
				t.Fatal(err)
			}
			gs := got.State()
			if fmt.Sprint(gs.Files) != fmt.Sprint(want.Files) || gs.FlushedSeq != 100 || gs.NextFileID != 11 ||
				gs.Table != want.Table || gs.Options != want.Options || gs.Schema.String() != s2.String() || gs.Schema.Index("x") != 3 {
				t.Fatalf("loaded %+v\nwant %+v", gs, want)
			}
			if len(gs.Files) != 8 { // 10 added, 2 removed
				t.Errorf("%d files, want 8", len(gs.Files))
			}
			objs, _ := b.List(ctx, Prefix(42))
			if len(objs) > every+1 {
				t.Errorf("%d objects stored; old edits were not cleaned up", len(objs))
			}
			if err := Delete(ctx, b, 42); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(ctx, b, 42, every); !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("load after delete: %v", err)
			}
		})
	}
}

func TestGapIsCorrupt(t *testing.T) {
	ctx := context.Background()
	b := objstore.NewMemory()
	m, err := Create(ctx, b, newState(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := m.Apply(ctx, Edit{FlushedSeq: uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx, editKey(42, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, b, 42, 100); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("load with a missing edit: %v", err)
	}
}
