package query

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/horaego/horaedb/engine"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/internal/murmur3"
	"github.com/horaego/horaedb/internal/units"
	"github.com/horaego/horaedb/query/internal/expr"
	"github.com/horaego/horaedb/query/parser"
)

// Catalog resolves table names and creates and drops tables. A standalone
// node uses LocalCatalog; a cluster node one that goes through the meta
// service.
type Catalog interface {
	// Table returns an open table; engine.ErrTableNotFound if none.
	Table(database, name string) (*engine.Table, error)
	// TableNames lists the tables of a database, sorted.
	TableNames(database string) []string
	// Databases lists the databases, sorted; it always includes "public".
	Databases() []string
	// CreateTable creates a table; engine.ErrTableExists if it exists.
	CreateTable(ctx context.Context, req CreateTableRequest) error
	// DropTable drops a table; engine.ErrTableNotFound if none.
	DropTable(ctx context.Context, database, name string) error
}

// ErrTableElsewhere is wrapped (with engine.ErrTableExists) by a cluster
// catalog's CreateTable when the table exists on another node: a write
// that would create it must not wait for it to appear here.
var ErrTableElsewhere = errors.New("query: table is served by another node")

// CreateTableRequest is a planned CREATE TABLE.
type CreateTableRequest struct {
	Database string
	Name     string
	Schema   *schema.Schema
	Options  options.Table
}

// LocalCatalog is the catalog of a standalone node: every table lives in
// this node's engine, in one of its shards chosen by a hash of the name.
type LocalCatalog struct {
	Engine    *engine.Engine
	NumShards int
}

// Table implements Catalog.
func (c *LocalCatalog) Table(database, name string) (*engine.Table, error) {
	return c.Engine.Table(database, name)
}

// TableNames implements Catalog.
func (c *LocalCatalog) TableNames(database string) []string {
	var names []string
	for _, t := range c.Engine.Tables(database) {
		names = append(names, t.Name())
	}
	sort.Strings(names)
	return names
}

// Databases implements Catalog.
func (c *LocalCatalog) Databases() []string {
	dbs := c.Engine.Databases()
	found := false
	for _, d := range dbs {
		found = found || d == DefaultDatabase
	}
	if !found {
		dbs = append(dbs, DefaultDatabase)
	}
	sort.Strings(dbs)
	return dbs
}

// CreateTable implements Catalog.
func (c *LocalCatalog) CreateTable(ctx context.Context, req CreateTableRequest) error {
	shard := uint32(0)
	if c.NumShards > 1 {
		shard = uint32(murmur3.Hash64([]byte(req.Database+"/"+req.Name)) % uint64(c.NumShards))
	}
	opts := req.Options
	_, err := c.Engine.CreateTable(ctx, engine.CreateTableRequest{Database: req.Database, Name: req.Name,
		ShardID: shard, Schema: req.Schema, Options: &opts})
	return err
}

// DropTable implements Catalog.
func (c *LocalCatalog) DropTable(ctx context.Context, database, name string) error {
	return c.Engine.DropTable(ctx, database, name)
}

// clientKinds are the sentinels of errors the client causes.
var clientKinds = []error{ErrInvalid, ErrUnsupported, parser.ErrSyntax,
	engine.ErrInvalidWrite, engine.ErrTableNotFound, engine.ErrTableExists, engine.ErrColumnNotFound,
	schema.ErrInvalid, options.ErrInvalid, expr.ErrEval, units.ErrSyntax, expr.ErrMemoryLimit, ErrBlocked}

// UserMessage is the text of an error for the client: the error's message
// without the package prefixes of the sentinels it wraps ("query: invalid
// statement: ", "engine: table not found: ", ...), which help logs but say
// nothing to a user.
func UserMessage(err error) string {
	msg := strings.ReplaceAll(err.Error(), ErrUnsupported.Error()+": ", "not supported: ")
	for _, k := range clientKinds {
		msg = strings.ReplaceAll(msg, k.Error()+": ", "")
	}
	return msg
}

// IsClientError reports whether err is the client's mistake (a bad
// statement, an unknown table, rows that do not fit), as opposed to a
// failure of the server.
func IsClientError(err error) bool {
	for _, target := range clientKinds {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
