package schema

import "fmt"

// ColumnDef is a column as CREATE TABLE defines it.
type ColumnDef struct {
	Name         string
	Kind         Kind
	IsTag        bool
	IsDictionary bool
	NotNull      bool
	Default      string
	Comment      string
	// PrimaryKey and TimestampKey are the inline column options.
	PrimaryKey   bool
	TimestampKey bool
}

// TableDef is the column part of a CREATE TABLE statement.
type TableDef struct {
	Columns []ColumnDef
	// PrimaryKey is the PRIMARY KEY(...) constraint; nil if absent.
	PrimaryKey []string
	// TimestampKey is the TIMESTAMP KEY(...) constraint; "" if absent.
	TimestampKey string
}

// Build applies HoraeDB's CREATE TABLE rules (reference §1.2): the timestamp
// key is given or inferred from the only timestamp column; without a
// PRIMARY KEY the hidden tsid column is added and the key is (tsid,
// timestamp); primary key columns come first, in key order, then the other
// columns in definition order; column ids are 1..n in that order.
func Build(def TableDef) (*Schema, error) {
	if len(def.Columns) == 0 {
		return nil, fmt.Errorf("%w: table has no columns", ErrInvalid)
	}
	byName := make(map[string]int, len(def.Columns))
	for i, c := range def.Columns {
		if c.Name == "" {
			return nil, fmt.Errorf("%w: empty column name", ErrInvalid)
		}
		if c.Name == TsidColumn || c.Name == SeqColumn {
			return nil, fmt.Errorf("%w: column name %s is reserved", ErrInvalid, c.Name)
		}
		if _, dup := byName[c.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate column name %s", ErrInvalid, c.Name)
		}
		if c.IsDictionary && c.Kind != String {
			return nil, fmt.Errorf("%w: only string column can be dictionary encoded: %s", ErrInvalid, c.Name)
		}
		byName[c.Name] = i
	}

	tsName, err := timestampKey(def, byName)
	if err != nil {
		return nil, err
	}
	tsDef := def.Columns[byName[tsName]]
	if tsDef.IsTag {
		return nil, fmt.Errorf("%w: timestamp key %s cannot be a tag", ErrInvalid, tsName)
	}

	pk := def.PrimaryKey
	for _, c := range def.Columns {
		if c.PrimaryKey {
			if pk != nil {
				return nil, fmt.Errorf("%w: duplicate primary key", ErrInvalid)
			}
			pk = []string{c.Name}
		}
	}
	if pk == nil {
		pk = []string{TsidColumn, tsName}
	}
	withTsid := false
	seen := map[string]bool{}
	for _, k := range pk {
		if seen[k] {
			return nil, fmt.Errorf("%w: column %s appears twice in the primary key", ErrInvalid, k)
		}
		seen[k] = true
		if k == TsidColumn {
			withTsid = true
			continue
		}
		i, ok := byName[k]
		if !ok {
			return nil, fmt.Errorf("%w: primary key column %s does not exist", ErrInvalid, k)
		}
		if !def.Columns[i].Kind.KeyEligible() {
			return nil, fmt.Errorf("%w: column %s of type %s cannot be a key column", ErrInvalid, k, def.Columns[i].Kind)
		}
	}
	if !seen[tsName] {
		return nil, fmt.Errorf("%w: Timestamp not in primary key", ErrInvalid)
	}

	toColumn := func(d ColumnDef) Column {
		return Column{Name: d.Name, Kind: d.Kind, IsTag: d.IsTag, IsDictionary: d.IsDictionary,
			Nullable: !d.NotNull, Default: d.Default, Comment: d.Comment}
	}
	s := &Schema{NumKeys: len(pk), TsidIndex: -1}
	for _, k := range pk {
		if k == TsidColumn {
			s.Columns = append(s.Columns, Column{Name: TsidColumn, Kind: UInt64})
			continue
		}
		s.Columns = append(s.Columns, toColumn(def.Columns[byName[k]]))
	}
	for _, c := range def.Columns {
		if !seen[c.Name] {
			s.Columns = append(s.Columns, toColumn(c))
		}
	}
	for i := range s.Columns {
		s.Columns[i].ID = uint32(i + 1)
		switch s.Columns[i].Name {
		case tsName:
			s.TimestampIndex = i
		case TsidColumn:
			if withTsid {
				s.TsidIndex = i
			}
		}
	}
	s.Version = 1
	s.reindex()
	return s, nil
}

func timestampKey(def TableDef, byName map[string]int) (string, error) {
	const twoKeys = "Table must contain only one timestamp key and it's data type must be TIMESTAMP"
	name := def.TimestampKey
	for _, c := range def.Columns {
		if c.TimestampKey {
			if name != "" && name != c.Name {
				return "", fmt.Errorf("%w: %s", ErrInvalid, twoKeys)
			}
			name = c.Name
		}
	}
	if name == "" {
		for _, c := range def.Columns {
			if c.Kind == Timestamp {
				if name != "" {
					return "", fmt.Errorf("%w: Table must contain timestamp constraint (more than one timestamp column: name one with TIMESTAMP KEY)", ErrInvalid)
				}
				name = c.Name
			}
		}
		if name == "" {
			return "", fmt.Errorf("%w: Table must contain timestamp constraint", ErrInvalid)
		}
	}
	i, ok := byName[name]
	if !ok {
		return "", fmt.Errorf("%w: timestamp key column %s does not exist", ErrInvalid, name)
	}
	if def.Columns[i].Kind != Timestamp {
		return "", fmt.Errorf("%w: %s", ErrInvalid, twoKeys)
	}
	return name, nil
}
