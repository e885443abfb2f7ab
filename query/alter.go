package query

import (
	"context"
	"fmt"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query/parser"
)

// alterAddColumn runs ALTER TABLE t ADD COLUMN ...: the new columns go at
// the end; they may be tags; a NOT NULL one needs a DEFAULT.
func (sc *stmtCtx) alterAddColumn(ctx context.Context, s *parser.AlterTableAddColumn) (*Result, error) {
	t, err := sc.table(s.Table)
	if err != nil {
		return nil, err
	}
	var cols []schema.Column
	for _, c := range s.Columns {
		if c.PrimaryKey || c.TimestampKey {
			return nil, fmt.Errorf("%w: ADD COLUMN %s: a key column cannot be added", ErrInvalid, c.Name.Name)
		}
		cd, err := columnDef(c)
		if err != nil {
			return nil, err
		}
		col := schema.Column{Name: cd.Name, Kind: cd.Kind, IsTag: cd.IsTag, IsDictionary: cd.IsDictionary,
			Nullable: !cd.NotNull, Default: cd.Default, Comment: cd.Comment}
		cols = append(cols, col)
	}
	// Defaults may refer to existing columns and to earlier new ones.
	probe, err := t.Schema().AddColumns(cols)
	if err != nil {
		return nil, err
	}
	if err := sc.checkDefaults(probe); err != nil {
		return nil, err
	}
	if err := t.AddColumns(ctx, cols); err != nil {
		return nil, err
	}
	return &Result{}, nil
}

// alterModifySetting runs ALTER TABLE t MODIFY SETTING k='v', ....
func (sc *stmtCtx) alterModifySetting(ctx context.Context, s *parser.AlterTableModifySetting) (*Result, error) {
	t, err := sc.table(s.Table)
	if err != nil {
		return nil, err
	}
	if err := t.AlterOptions(ctx, optionMap(s.Options)); err != nil {
		return nil, err
	}
	return &Result{}, nil
}

func optionMap(opts []parser.TableOption) map[string]string {
	kv := map[string]string{}
	for _, o := range opts {
		if o.Value.Kind != parser.OptionNull {
			kv[o.Key] = o.Value.Text
		}
	}
	return kv
}
