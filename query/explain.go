package query

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/horaego/horaedb/query/internal/exec"
	"github.com/horaego/horaedb/query/parser"
)

// explain runs EXPLAIN [ANALYZE]: it shows our operator tree with what was
// pushed into each table scan; ANALYZE runs the query and adds each
// operator's rows and time and the scans' pruning counts.
func (sc *stmtCtx) explain(ctx context.Context, s *parser.Explain) (*Result, error) {
	rel, err := sc.planQuery(s.Query, nil, 0)
	if err != nil {
		return nil, err
	}
	fields := []arrow.Field{utf8Field("plan_type"), utf8Field("plan")}
	if !s.Analyze {
		rel.op.Close()
		return sc.rowsResult(fields, [][]any{{"physical_plan", exec.Explain(rel.op)}}), nil
	}
	op := exec.Meter(rel.op)
	recs, err := exec.Drain(ctx, op, sc.ec)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		r.Release()
	}
	return sc.rowsResult(fields, [][]any{{"Plan with Metrics", exec.Explain(op)}}), nil
}
