package query

import (
	"slices"

	"github.com/horaego/horaedb/query/parser"
)

// StatementTables parses one statement and returns the tables that must be
// read or written where they are served, sorted and deduplicated: the
// tables a query reads (FROM, joins, subqueries; not CTE names), the
// target of INSERT (and what its query reads), the table of ALTER TABLE,
// DESCRIBE, SHOW CREATE TABLE and EXISTS. The table of CREATE and DROP
// TABLE only with ddl: with HoraeMeta, DDL runs on any node (it goes
// through the cluster's catalog); with static placement it runs on the
// owner. SHOW TABLES and SHOW DATABASES name none. ok is false when the
// text does not parse: the executor reports that.
//
// A cluster node uses it to send a statement to the node that serves its
// tables.
func StatementTables(sql string, ddl bool) (tables []string, ok bool) {
	stmt, err := parser.Parse(sql)
	if err != nil {
		return nil, false
	}
	c := tableCollector{seen: map[string]bool{}}
	switch s := stmt.(type) {
	case *parser.Query:
		c.query(s, nil)
	case *parser.Explain:
		c.query(s.Query, nil)
	case *parser.Insert:
		c.add(s.Table)
		c.query(s.Query, nil)
	case *parser.AlterTableAddColumn:
		c.add(s.Table)
	case *parser.AlterTableModifySetting:
		c.add(s.Table)
	case *parser.DescribeTable:
		c.add(s.Name)
	case *parser.ShowCreateTable:
		c.add(s.Name)
	case *parser.ExistsTable:
		c.add(s.Name)
	case *parser.CreateTable:
		if ddl {
			c.add(s.Name)
		}
	case *parser.DropTable:
		if ddl {
			c.add(s.Name)
		}
	}
	slices.Sort(c.out)
	return c.out, true
}

type tableCollector struct {
	seen map[string]bool
	out  []string
}

func (c *tableCollector) add(n parser.ObjectName) {
	name := n.Table().Name
	if name != "" && !c.seen[name] {
		c.seen[name] = true
		c.out = append(c.out, name)
	}
}

// query collects the tables of q; ctes are the names of the common table
// expressions in scope, which are not tables.
func (c *tableCollector) query(q *parser.Query, ctes []string) {
	if q == nil {
		return
	}
	if q.With != nil {
		for _, cte := range q.With.CTEs {
			if q.With.Recursive {
				ctes = append(ctes, cte.Name.Name)
			}
			c.query(cte.Query, ctes)
			ctes = append(ctes, cte.Name.Name)
		}
	}
	c.setExpr(q.Body, ctes)
	for _, o := range q.OrderBy {
		c.expr(o.Expr, ctes)
	}
}

func (c *tableCollector) setExpr(s parser.SetExpr, ctes []string) {
	switch s := s.(type) {
	case *parser.Query:
		c.query(s, ctes)
	case *parser.SetOp:
		c.setExpr(s.Left, ctes)
		c.setExpr(s.Right, ctes)
	case *parser.Select:
		for _, f := range s.From {
			c.tableRef(f, ctes)
		}
		for _, it := range s.Items {
			c.expr(it.Expr, ctes)
		}
		c.expr(s.Where, ctes)
		for _, g := range s.GroupBy {
			c.expr(g, ctes)
		}
		c.expr(s.Having, ctes)
	}
}

func (c *tableCollector) tableRef(r parser.TableRef, ctes []string) {
	switch r := r.(type) {
	case *parser.TableName:
		if len(r.Name) > 1 || !slices.Contains(ctes, r.Name.Table().Name) {
			c.add(r.Name)
		}
	case *parser.DerivedTable:
		c.query(r.Query, ctes)
	case *parser.Join:
		c.tableRef(r.Left, ctes)
		c.tableRef(r.Right, ctes)
		c.expr(r.On, ctes)
	}
}

// expr collects the tables of the subqueries in e.
func (c *tableCollector) expr(e parser.Expr, ctes []string) {
	walkExpr(e, func(x parser.Expr) {
		switch x := x.(type) {
		case *parser.InSubqueryExpr:
			c.query(x.Query, ctes)
		case *parser.SubqueryExpr:
			c.query(x.Query, ctes)
		case *parser.ExistsExpr:
			c.query(x.Query, ctes)
		}
	})
}
