package opentsdb

// PlanSQL plans every sub-query of q against a table named after its
// metric with timestamp column ts and the given tag columns (sorted).
func PlanSQL(q *Query, ts string, tags []string) ([]string, error) {
	var out []string
	for i := range q.Subs {
		s := &q.Subs[i]
		p, err := planSub(s, &table{name: s.Metric, ts: ts, value: ValueColumn, tags: tags}, q.Start, q.End)
		if err != nil {
			return nil, err
		}
		if !p.empty {
			out = append(out, p.sql)
		}
	}
	return out, nil
}
