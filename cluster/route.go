package cluster

import (
	"context"
	"fmt"
)

// Route returns the endpoint (host:port) of the node that serves a table,
// as the meta service says. A table the cluster does not have yet routes
// to this node: a write there creates it through the meta service.
func (m *Member) Route(ctx context.Context, database, table string) (string, error) {
	resp, err := m.o.Meta.RouteTables(ctx, database, []string{table})
	if err != nil {
		return "", fmt.Errorf("cluster: route %s.%s: %w", database, table, err)
	}
	for _, ns := range resp.GetEntries()[table].GetNodeShards() {
		if ns.GetEndpoint() != "" {
			return ns.GetEndpoint(), nil
		}
	}
	return m.o.Endpoint, nil
}
