package query

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query/parser"
)

func (sc *stmtCtx) createTable(ctx context.Context, s *parser.CreateTable) (*Result, error) {
	name := s.Name.Table().Name
	if name == "" {
		return nil, fmt.Errorf("%w: empty table name", ErrInvalid)
	}
	if s.PartitionBy != nil {
		return nil, fmt.Errorf("%w: partitioned tables need cluster mode", ErrUnsupported)
	}
	if eng := s.Engine.Name; eng != "" && !strings.EqualFold(eng, "Analytic") {
		return nil, fmt.Errorf("%w: table engine %s (only Analytic is supported)", ErrUnsupported, eng)
	}
	def := schema.TableDef{}
	for _, c := range s.Columns {
		cd, err := columnDef(c)
		if err != nil {
			return nil, err
		}
		def.Columns = append(def.Columns, cd)
	}
	for _, con := range s.Constraints {
		switch con.Kind {
		case parser.PrimaryKeyConstraint:
			if def.PrimaryKey != nil {
				return nil, fmt.Errorf("%w: more than one PRIMARY KEY", ErrInvalid)
			}
			def.PrimaryKey = []string{}
			for _, col := range con.Columns {
				def.PrimaryKey = append(def.PrimaryKey, col.Name)
			}
		case parser.TimestampKeyConstraint:
			if def.TimestampKey != "" {
				return nil, fmt.Errorf("%w: Table must contain only one timestamp key and it's data type must be TIMESTAMP", ErrInvalid)
			}
			def.TimestampKey = con.Columns[0].Name
		}
	}
	sch, err := schema.Build(def)
	if err != nil {
		return nil, err
	}
	if err := sc.checkDefaults(sch); err != nil {
		return nil, err
	}
	kv := map[string]string{}
	for _, o := range s.Options {
		if o.Value.Kind == parser.OptionNull {
			continue
		}
		kv[o.Key] = o.Value.Text
	}
	opts, err := sc.x.o.TableDefaults.Apply(kv, true)
	if err != nil {
		return nil, err
	}
	err = sc.x.o.Catalog.CreateTable(ctx, CreateTableRequest{Database: sc.sess.Database, Name: name, Schema: sch, Options: opts})
	if errors.Is(err, engine.ErrTableExists) {
		if s.IfNotExists {
			return &Result{}, nil
		}
		return nil, fmt.Errorf("%w: Table already exists, table:%s", engine.ErrTableExists, name)
	}
	if err != nil {
		return nil, err
	}
	return &Result{}, nil
}

func columnDef(c *parser.ColumnDef) (schema.ColumnDef, error) {
	kind, err := schema.ParseKind(c.Type.Name)
	if err != nil {
		return schema.ColumnDef{}, err
	}
	if c.Unsigned {
		kind = kind.Unsigned()
	}
	cd := schema.ColumnDef{Name: c.Name.Name, Kind: kind, IsTag: c.Tag, IsDictionary: c.Dictionary,
		NotNull: c.NotNull, Comment: c.Comment, PrimaryKey: c.PrimaryKey, TimestampKey: c.TimestampKey}
	if c.Default != nil {
		cd.Default = c.Default.String()
	}
	return cd, nil
}

func (sc *stmtCtx) dropTable(ctx context.Context, s *parser.DropTable) (*Result, error) {
	name := s.Name.Table().Name
	err := sc.x.o.Catalog.DropTable(ctx, sc.sess.Database, name)
	if errors.Is(err, engine.ErrTableNotFound) {
		if s.IfExists {
			return &Result{}, nil
		}
		return nil, fmt.Errorf("%w: Table not found, table:%s", engine.ErrTableNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	return &Result{}, nil
}

var utf8Field = func(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.BinaryTypes.String} }

func (sc *stmtCtx) showTables(s *parser.ShowTables) (*Result, error) {
	var re *regexp.Regexp
	if s.Like != nil {
		re = likeRegexp(*s.Like)
	}
	var rows [][]any
	for _, name := range sc.x.o.Catalog.TableNames(sc.sess.Database) {
		if re == nil || re.MatchString(name) {
			rows = append(rows, []any{name})
		}
	}
	return sc.rowsResult([]arrow.Field{utf8Field("Tables")}, rows), nil
}

// likeRegexp translates a LIKE pattern: % is any run, _ any character.
func likeRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^(?s:")
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(")$")
	return regexp.MustCompile(b.String())
}

func (sc *stmtCtx) showDatabases() (*Result, error) {
	var rows [][]any
	for _, d := range sc.x.o.Catalog.Databases() {
		rows = append(rows, []any{d})
	}
	return sc.rowsResult([]arrow.Field{utf8Field("Schemas")}, rows), nil
}

func (sc *stmtCtx) showCreateTable(s *parser.ShowCreateTable) (*Result, error) {
	t, err := sc.table(s.Name)
	if err != nil {
		return nil, err
	}
	return sc.rowsResult([]arrow.Field{utf8Field("Table"), utf8Field("Create Table")},
		[][]any{{t.Name(), ShowCreate(t.Name(), t.Schema(), t.Options().Display())}}), nil
}

// ShowCreate renders a table as upstream's SHOW CREATE TABLE does.
func ShowCreate(name string, s *schema.Schema, opts [][2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE `%s` (", name)
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "`%s` %s", c.Name, c.Kind)
		if c.IsTag {
			b.WriteString(" TAG")
		}
		if c.IsDictionary {
			b.WriteString(" DICTIONARY")
		}
		if !c.Nullable {
			b.WriteString(" NOT NULL")
		}
		if c.Default != "" {
			b.WriteString(" DEFAULT " + c.Default)
		}
		if c.Comment != "" {
			fmt.Fprintf(&b, " COMMENT '%s'", strings.ReplaceAll(c.Comment, "'", "''"))
		}
	}
	b.WriteString(", PRIMARY KEY(")
	for i := 0; i < s.NumKeys; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s.Columns[i].Name)
	}
	fmt.Fprintf(&b, "), TIMESTAMP KEY(%s)) ENGINE=Analytic WITH(", s.Timestamp().Name)
	for i, kv := range opts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s='%s'", kv[0], kv[1])
	}
	b.WriteString(")")
	return b.String()
}

func (sc *stmtCtx) describe(s *parser.DescribeTable) (*Result, error) {
	t, err := sc.table(s.Name)
	if err != nil {
		return nil, err
	}
	sch := t.Schema()
	boolField := func(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Boolean} }
	var rows [][]any
	for i, c := range sch.Columns {
		rows = append(rows, []any{c.Name, c.Kind.String(), i < sch.NumKeys, c.Nullable, c.IsTag, c.IsDictionary})
	}
	return sc.rowsResult([]arrow.Field{utf8Field("name"), utf8Field("type"), boolField("is_primary"),
		boolField("is_nullable"), boolField("is_tag"), boolField("is_dictionary")}, rows), nil
}

func (sc *stmtCtx) exists(s *parser.ExistsTable) (*Result, error) {
	_, err := sc.x.o.Catalog.Table(sc.sess.Database, s.Name.Table().Name)
	v := uint8(1)
	if errors.Is(err, engine.ErrTableNotFound) {
		v = 0
	} else if err != nil {
		return nil, err
	}
	return sc.rowsResult([]arrow.Field{{Name: "result", Type: arrow.PrimitiveTypes.Uint8}}, [][]any{{v}}), nil
}
