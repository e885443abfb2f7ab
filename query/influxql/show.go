package influxql

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/influxdata/influxql"

	"github.com/horaego/horaedb/engine/schema"
)

func (e *Engine) showDatabases() []Series {
	s := Series{Name: "databases", Columns: []string{"name"}}
	for _, db := range e.x.Databases() {
		s.Values = append(s.Values, []any{db})
	}
	return []Series{s}
}

// measurements lists the tables a SHOW statement's FROM names (all when
// there is none).
func (e *Engine) measurements(db string, sources influxql.Sources) ([]string, error) {
	all := e.x.TableNames(db)
	if len(sources) == 0 {
		return all, nil
	}
	var out []string
	for _, src := range sources {
		m, ok := src.(*influxql.Measurement)
		if !ok {
			return nil, fmt.Errorf("%w: FROM must name measurements", ErrInvalid)
		}
		for _, name := range all {
			if (m.Regex != nil && m.Regex.Val.MatchString(name)) || (m.Regex == nil && name == m.Name) {
				if !slices.Contains(out, name) {
					out = append(out, name)
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func (e *Engine) showMeasurements(db string, s *influxql.ShowMeasurementsStatement) ([]Series, error) {
	names := e.x.TableNames(db)
	if s.Source != nil {
		m, ok := s.Source.(*influxql.Measurement)
		if !ok {
			return nil, fmt.Errorf("%w: SHOW MEASUREMENTS WITH MEASUREMENT needs a name or a regular expression", ErrInvalid)
		}
		names = slices.DeleteFunc(names, func(n string) bool {
			if m.Regex != nil {
				return !m.Regex.Val.MatchString(n)
			}
			return n != m.Name
		})
	}
	names = page(names, s.Offset, s.Limit)
	if len(names) == 0 {
		return nil, nil
	}
	out := Series{Name: "measurements", Columns: []string{"name"}}
	for _, n := range names {
		out.Values = append(out.Values, []any{n})
	}
	return []Series{out}, nil
}

func (e *Engine) showTagKeys(db string, s *influxql.ShowTagKeysStatement) ([]Series, error) {
	names, err := e.measurements(db, s.Sources)
	if err != nil {
		return nil, err
	}
	var out []Series
	for _, n := range names {
		sch, err := e.x.TableSchema(db, n)
		if err != nil {
			continue
		}
		t := &table{name: n, schema: sch}
		ser := Series{Name: n, Columns: []string{"tagKey"}}
		for _, c := range t.tags() {
			ser.Values = append(ser.Values, []any{c.Name})
		}
		ser.Values = page(ser.Values, s.Offset, s.Limit)
		out = append(out, ser)
	}
	return seriesPage(out, s.SOffset, s.SLimit), nil
}

func (e *Engine) showFieldKeys(db string, s *influxql.ShowFieldKeysStatement) ([]Series, error) {
	names, err := e.measurements(db, s.Sources)
	if err != nil {
		return nil, err
	}
	var out []Series
	for _, n := range names {
		sch, err := e.x.TableSchema(db, n)
		if err != nil {
			continue
		}
		t := &table{name: n, schema: sch}
		ser := Series{Name: n, Columns: []string{"fieldKey", "fieldType"}}
		for _, c := range t.fields() {
			ser.Values = append(ser.Values, []any{c.Name, influxType(c.Kind)})
		}
		ser.Values = page(ser.Values, s.Offset, s.Limit)
		out = append(out, ser)
	}
	return seriesPage(out, 0, 0), nil
}

// influxType names a column kind the way InfluxDB names field types.
func influxType(k schema.Kind) string {
	switch k {
	case schema.Double, schema.Float:
		return "float"
	case schema.Int64, schema.Int32, schema.Int16, schema.Int8:
		return "integer"
	case schema.UInt64, schema.UInt32, schema.UInt16, schema.UInt8:
		return "unsigned"
	case schema.Boolean:
		return "boolean"
	}
	return "string"
}

func (e *Engine) showTagValues(ctx context.Context, db string, s *influxql.ShowTagValuesStatement) ([]Series, error) {
	names, err := e.measurements(db, s.Sources)
	if err != nil {
		return nil, err
	}
	var out []Series
	for _, n := range names {
		sch, err := e.x.TableSchema(db, n)
		if err != nil {
			continue
		}
		t := &table{name: n, schema: sch, ts: sch.Timestamp().Name}
		var keys []string
		for _, c := range t.tags() {
			if tagKeyMatches(s, c.Name) {
				keys = append(keys, c.Name)
			}
		}
		ser := Series{Name: n, Columns: []string{"key", "value"}}
		where, err := t.whereSQL(s.Condition)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			sql := "SELECT DISTINCT " + ident(k) + " FROM " + ident(n) + " WHERE " + ident(k) + " IS NOT NULL"
			if where != "" {
				sql += " AND (" + where + ")"
			}
			rows, err := e.rows(ctx, db, sql+" ORDER BY "+ident(k))
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				ser.Values = append(ser.Values, []any{k, r[0]})
			}
		}
		ser.Values = page(ser.Values, s.Offset, s.Limit)
		out = append(out, ser)
	}
	return seriesPage(out, 0, 0), nil
}

// tagKeyMatches applies SHOW TAG VALUES WITH KEY = / != / =~ / !~ / IN.
func tagKeyMatches(s *influxql.ShowTagValuesStatement, key string) bool {
	switch lit := s.TagKeyExpr.(type) {
	case *influxql.StringLiteral:
		eq := key == lit.Val
		return eq == (s.Op == influxql.EQ)
	case *influxql.RegexLiteral:
		m := lit.Val.MatchString(key)
		return m == (s.Op == influxql.EQREGEX)
	case *influxql.ListLiteral:
		return slices.Contains(lit.Vals, key)
	}
	return strings.EqualFold(key, "") // no key expression: nothing
}
