package parser

import "strings"

func (s *CreateTable) format(b *strings.Builder) {
	b.WriteString("CREATE TABLE ")
	if s.IfNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	s.Name.format(b)
	b.WriteString(" (")
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		c.format(b)
	}
	for i, c := range s.Constraints {
		if i > 0 || len(s.Columns) > 0 {
			b.WriteString(", ")
		}
		c.format(b)
	}
	b.WriteByte(')')
	if s.PartitionBy != nil {
		b.WriteByte(' ')
		s.PartitionBy.format(b)
	}
	if !s.Engine.IsZero() {
		b.WriteString(" ENGINE=")
		s.Engine.format(b)
	}
	if len(s.Options) > 0 {
		b.WriteString(" WITH (")
		writeOptions(b, s.Options)
		b.WriteByte(')')
	}
}

// format prints the column in the order SHOW CREATE TABLE uses.
func (c *ColumnDef) format(b *strings.Builder) {
	c.Name.format(b)
	b.WriteByte(' ')
	c.Type.format(b)
	if c.Unsigned {
		b.WriteString(" UNSIGNED")
	}
	if !c.Collation.IsZero() {
		b.WriteString(" COLLATE ")
		c.Collation.format(b)
	}
	if c.Tag {
		b.WriteString(" TAG")
	}
	if c.Dictionary {
		b.WriteString(" DICTIONARY")
	}
	if c.NotNull {
		b.WriteString(" NOT NULL")
	}
	if c.Default != nil {
		b.WriteString(" DEFAULT ")
		writeExpr(b, c.Default)
	}
	if c.PrimaryKey {
		b.WriteString(" PRIMARY KEY")
	}
	if c.TimestampKey {
		b.WriteString(" TIMESTAMP KEY")
	}
	if c.Comment != "" {
		b.WriteString(" COMMENT ")
		writeString(b, c.Comment)
	}
}

func (c TableConstraint) format(b *strings.Builder) {
	if !c.Name.IsZero() {
		b.WriteString("CONSTRAINT ")
		c.Name.format(b)
		b.WriteByte(' ')
	}
	if c.Kind == TimestampKeyConstraint {
		b.WriteString("TIMESTAMP KEY(")
	} else {
		b.WriteString("PRIMARY KEY(")
	}
	writeIdentList(b, c.Columns)
	b.WriteByte(')')
}

func (p *PartitionBy) format(b *strings.Builder) {
	b.WriteString("PARTITION BY ")
	if p.Linear {
		b.WriteString("LINEAR ")
	}
	switch p.Kind {
	case PartitionKey:
		b.WriteString("KEY(")
		writeIdentList(b, p.Columns)
		b.WriteByte(')')
	case PartitionHash:
		b.WriteString("HASH(")
		writeExpr(b, p.Expr)
		b.WriteByte(')')
	default:
		b.WriteString("RANDOM")
	}
	if p.Partitions > 0 {
		b.WriteString(" PARTITIONS ")
		writeUint(b, p.Partitions)
	}
}

func (v OptionValue) format(b *strings.Builder) {
	switch v.Kind {
	case OptionString:
		writeString(b, v.Text)
	case OptionIdent:
		writeIdent(b, v.Text, false)
	case OptionNull:
		b.WriteString("NULL")
	default: // numbers and booleans
		b.WriteString(v.Text)
	}
}

func (o TableOption) format(b *strings.Builder) {
	writeIdent(b, o.Key, false)
	b.WriteByte('=')
	o.Value.format(b)
}

func writeOptions(b *strings.Builder, opts []TableOption) {
	for i, o := range opts {
		if i > 0 {
			b.WriteString(", ")
		}
		o.format(b)
	}
}

func (s *DropTable) format(b *strings.Builder) {
	b.WriteString("DROP TABLE ")
	if s.IfExists {
		b.WriteString("IF EXISTS ")
	}
	s.Name.format(b)
	if !s.Engine.IsZero() {
		b.WriteString(" ENGINE=")
		s.Engine.format(b)
	}
}

func (s *DescribeTable) format(b *strings.Builder) {
	b.WriteString("DESCRIBE ")
	s.Name.format(b)
}

func (s *ShowTables) format(b *strings.Builder) {
	b.WriteString("SHOW TABLES")
	if s.Like != nil {
		b.WriteString(" LIKE ")
		writeString(b, *s.Like)
	}
}

func (s *ShowDatabases) format(b *strings.Builder) { b.WriteString("SHOW DATABASES") }

func (s *ShowCreateTable) format(b *strings.Builder) {
	b.WriteString("SHOW CREATE TABLE ")
	s.Name.format(b)
}

func (s *ExistsTable) format(b *strings.Builder) {
	b.WriteString("EXISTS TABLE ")
	s.Name.format(b)
}

func (s *AlterTableAddColumn) format(b *strings.Builder) {
	b.WriteString("ALTER TABLE ")
	s.Table.format(b)
	b.WriteString(" ADD COLUMN ")
	if len(s.Columns) == 1 {
		s.Columns[0].format(b)
		return
	}
	b.WriteByte('(')
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		c.format(b)
	}
	b.WriteByte(')')
}

func (s *AlterTableModifySetting) format(b *strings.Builder) {
	b.WriteString("ALTER TABLE ")
	s.Table.format(b)
	b.WriteString(" MODIFY SETTING ")
	writeOptions(b, s.Options)
}

func (s *Insert) format(b *strings.Builder) {
	b.WriteString("INSERT INTO ")
	s.Table.format(b)
	if s.Columns != nil {
		b.WriteString(" (")
		writeIdentList(b, s.Columns)
		b.WriteByte(')')
	}
	if s.Query != nil {
		b.WriteByte(' ')
		s.Query.format(b)
		return
	}
	b.WriteString(" VALUES ")
	for i, row := range s.Rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		writeExprList(b, row)
		b.WriteByte(')')
	}
}

func (s *Explain) format(b *strings.Builder) {
	b.WriteString("EXPLAIN ")
	if s.Analyze {
		b.WriteString("ANALYZE ")
	}
	if s.Verbose {
		b.WriteString("VERBOSE ")
	}
	s.Query.format(b)
}

func (q *Query) format(b *strings.Builder) {
	if q.With != nil {
		q.With.format(b)
		b.WriteByte(' ')
	}
	writeSetOperand(b, q.Body)
	if len(q.OrderBy) > 0 {
		b.WriteByte(' ')
		writeOrderBy(b, q.OrderBy)
	}
	if q.Limit != nil {
		b.WriteString(" LIMIT ")
		writeExpr(b, q.Limit)
	}
	if q.Offset != nil {
		b.WriteString(" OFFSET ")
		writeExpr(b, q.Offset)
	}
}

// writeSetOperand prints a query body; a nested *Query is parenthesised.
func writeSetOperand(b *strings.Builder, s SetExpr) {
	if q, ok := s.(*Query); ok {
		b.WriteByte('(')
		q.format(b)
		b.WriteByte(')')
		return
	}
	s.format(b)
}

func (w *With) format(b *strings.Builder) {
	b.WriteString("WITH ")
	if w.Recursive {
		b.WriteString("RECURSIVE ")
	}
	for i, c := range w.CTEs {
		if i > 0 {
			b.WriteString(", ")
		}
		c.format(b)
	}
}

func (c CTE) format(b *strings.Builder) {
	c.Name.format(b)
	if len(c.Columns) > 0 {
		b.WriteString(" (")
		writeIdentList(b, c.Columns)
		b.WriteByte(')')
	}
	b.WriteString(" AS (")
	c.Query.format(b)
	b.WriteByte(')')
}

func setOpPrec(k SetOpKind) int {
	if k == Intersect {
		return 2
	}
	return 1
}

func (s *SetOp) format(b *strings.Builder) {
	p := setOpPrec(s.Op)
	writeSetChild(b, s.Left, p)
	b.WriteByte(' ')
	b.WriteString(s.Op.String())
	if s.All {
		b.WriteString(" ALL")
	}
	b.WriteByte(' ')
	writeSetChild(b, s.Right, p+1)
}

// writeSetChild prints an operand of a set operation, in parentheses when
// it is a set operation that binds looser than min.
func writeSetChild(b *strings.Builder, s SetExpr, min int) {
	if op, ok := s.(*SetOp); ok && setOpPrec(op.Op) < min {
		b.WriteByte('(')
		op.format(b)
		b.WriteByte(')')
		return
	}
	writeSetOperand(b, s)
}

func (s *Select) format(b *strings.Builder) {
	b.WriteString("SELECT ")
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, it := range s.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		it.format(b)
	}
	if len(s.From) > 0 {
		b.WriteString(" FROM ")
		for i, t := range s.From {
			if i > 0 {
				b.WriteString(", ")
			}
			t.format(b)
		}
	}
	if s.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(b, s.Where)
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		writeExprList(b, s.GroupBy)
	}
	if s.Having != nil {
		b.WriteString(" HAVING ")
		writeExpr(b, s.Having)
	}
}

func (i SelectItem) format(b *strings.Builder) {
	writeExpr(b, i.Expr)
	if !i.Alias.IsZero() {
		b.WriteString(" AS ")
		i.Alias.format(b)
	}
}

func writeOrderBy(b *strings.Builder, items []OrderItem) {
	b.WriteString("ORDER BY ")
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		it.format(b)
	}
}

func (o OrderItem) format(b *strings.Builder) {
	writeExpr(b, o.Expr)
	if o.Desc {
		b.WriteString(" DESC")
	}
	switch o.Nulls {
	case NullsFirst:
		b.WriteString(" NULLS FIRST")
	case NullsLast:
		b.WriteString(" NULLS LAST")
	}
}

func (t *TableName) format(b *strings.Builder) {
	t.Name.format(b)
	writeAlias(b, t.Alias)
}

func (t *DerivedTable) format(b *strings.Builder) {
	b.WriteByte('(')
	t.Query.format(b)
	b.WriteByte(')')
	writeAlias(b, t.Alias)
}

func writeAlias(b *strings.Builder, alias Ident) {
	if !alias.IsZero() {
		b.WriteString(" AS ")
		alias.format(b)
	}
}

func (j *Join) format(b *strings.Builder) {
	j.Left.format(b)
	b.WriteByte(' ')
	b.WriteString(j.Kind.String())
	b.WriteByte(' ')
	// Joins are left-deep; a join on the right needs parentheses.
	if r, ok := j.Right.(*Join); ok {
		b.WriteByte('(')
		r.format(b)
		b.WriteByte(')')
	} else {
		j.Right.format(b)
	}
	if j.On != nil {
		b.WriteString(" ON ")
		writeExpr(b, j.On)
	}
	if j.Using != nil {
		b.WriteString(" USING (")
		writeIdentList(b, j.Using)
		b.WriteByte(')')
	}
}
