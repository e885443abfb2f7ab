package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/metapb"
	"github.com/horaego/horaedb/query"
)

// engineAnalytic is the engine named in CreateTable requests.
const engineAnalytic = "Analytic"

// Catalog returns the query.Catalog of the node: tables are looked up among
// the tables this node serves; CREATE TABLE and DROP TABLE go to the meta
// service, which picks the shard and has its owner create or drop the
// table (CreateTableOnShard, DropTableOnShard) before it answers.
func (m *Member) Catalog() query.Catalog {
	return &catalog{LocalCatalog: query.LocalCatalog{Engine: m.o.Engine}, m: m}
}

type catalog struct {
	query.LocalCatalog // Table, TableNames, Databases: the tables served here
	m                  *Member
}

// Table implements query.Catalog: a table of a shard whose lock the node
// lost is refused (ErrShardLockLost).
func (c *catalog) Table(database, name string) (*engine.Table, error) {
	t, err := c.LocalCatalog.Table(database, name)
	if errors.Is(err, engine.ErrTableNotFound) {
		if ferr := c.m.fencedTable(database, name); ferr != nil {
			return nil, fmt.Errorf("table %s: %w", name, ferr)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := c.m.Serving(t.ShardID()); err != nil {
		return nil, fmt.Errorf("table %s: %w", name, err)
	}
	return t, nil
}

// CreateTable implements query.Catalog. A table that exists already gives
// engine.ErrTableExists; when it lives on another node the error also
// wraps query.ErrTableElsewhere and names the owner.
func (c *catalog) CreateTable(ctx context.Context, req query.CreateTableRequest) error {
	enc, err := EncodeSchema(req.Schema)
	if err != nil {
		return err
	}
	_, err = c.m.o.Meta.CreateTable(ctx, &metapb.CreateTableRequest{SchemaName: req.Database, Name: req.Name,
		EncodedSchema: enc, Engine: engineAnalytic, Options: req.Options.Map()})
	switch {
	case errors.Is(err, client.ErrTableExists):
		if _, lerr := c.m.o.Engine.Table(req.Database, req.Name); lerr == nil {
			return fmt.Errorf("%w: %s", engine.ErrTableExists, req.Name)
		}
		return fmt.Errorf("%w: %s: %w: %s", engine.ErrTableExists, req.Name, query.ErrTableElsewhere, c.owner(ctx, req.Database, req.Name))
	case errors.Is(err, client.ErrInvalidArgument):
		return fmt.Errorf("%w: create table %s: %v", schema.ErrInvalid, req.Name, err)
	case err != nil:
		return fmt.Errorf("cluster: create table %s through the meta service: %w", req.Name, err)
	}
	return nil
}

// DropTable implements query.Catalog.
func (c *catalog) DropTable(ctx context.Context, database, name string) error {
	_, err := c.m.o.Meta.DropTable(ctx, &metapb.DropTableRequest{SchemaName: database, Name: name})
	switch {
	case errors.Is(err, client.ErrTableNotFound), errors.Is(err, client.ErrSchemaNotFound):
		return fmt.Errorf("%w: %s", engine.ErrTableNotFound, name)
	case err != nil:
		return fmt.Errorf("cluster: drop table %s through the meta service: %w", name, err)
	}
	return nil
}

// owner describes where a table lives, for messages.
func (c *catalog) owner(ctx context.Context, database, name string) string {
	resp, err := c.m.o.Meta.RouteTables(ctx, database, []string{name})
	if err != nil {
		return "served by another node"
	}
	for _, ns := range resp.GetEntries()[name].GetNodeShards() {
		return fmt.Sprintf("served by node %s (shard %d)", ns.GetEndpoint(), ns.GetShardInfo().GetId())
	}
	return "served by another node"
}
