// Package promql answers PromQL over our tables. The evaluation is
// Prometheus' own engine (github.com/prometheus/prometheus/promql), run
// over a storage.Queryable that reads tables with SQL of our dialect, so
// the semantics of PromQL are the library's, and ours is only the data
// model:
//
//   - a metric is a table: the __name__ label names it;
//   - its labels are the table's TAG columns (a NULL or empty tag is an
//     absent label, as in Prometheus);
//   - the sample value is the numeric field column "value" (what
//     Prometheus remote write fills), or the one a __horaedb_field__
//     equality matcher names, which is not a label of the series read;
//   - the sample timestamp is the table's timestamp key (ms).
//
// A selector is pushed down: its matchers on string tags become WHERE
// conditions (=, <>, IN for regexps that list values, regexp_like with
// the regexp anchored as Prometheus anchors it), the engine's time range a
// timestamp range, and only the tsid, timestamp, field and tag columns are
// read (the tags only while the labels of the table's tsids are not
// cached: see labelCache). Matchers are checked once more on each series' labels, so the SQL
// only prunes. Without an equality matcher on __name__ (for example
// {__name__=~"node_.*"} or {job="x"}) every table that passes the
// __name__ matchers and has the field column is read. An unknown metric
// has no series.
//
// The HTTP API (server/promapi) serves this engine in Prometheus' JSON.
package promql

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pql "github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// Executor runs SQL and describes tables; *query.Executor.
type Executor interface {
	ExecuteStream(ctx context.Context, sess query.Session, sql string) (*query.Result, error)
	TableSchema(database, table string) (*schema.Schema, error)
	TableNames(database string) []string
}

// Defaults of Options, Prometheus' own.
const (
	DefaultLookbackDelta = 5 * time.Minute
	DefaultTimeout       = 2 * time.Minute
	DefaultMaxSamples    = 50_000_000
	// DefaultSubqueryStep is the step of a subquery that names none
	// (Prometheus uses its global evaluation interval, 1m by default).
	DefaultSubqueryStep = time.Minute
	// DefaultSeriesCacheSize is the default of Options.SeriesCacheSize.
	DefaultSeriesCacheSize = 1_000_000
)

// Options configure an Engine.
type Options struct {
	// LookbackDelta is how far back an instant selector looks for a
	// sample; default 5m (DefaultLookbackDelta). A query may ask for
	// another (the lookback_delta parameter).
	LookbackDelta time.Duration
	// Timeout bounds the evaluation of one query (server.timeout when
	// set); default 2m (DefaultTimeout).
	Timeout time.Duration
	// MaxSamples bounds the samples one query may hold in memory at once;
	// default 50,000,000 (DefaultMaxSamples).
	MaxSamples int
	// SubqueryStep is the step of a subquery without one; default 1m.
	SubqueryStep time.Duration
	// SeriesCacheSize is how many series' labels the engine remembers by
	// tsid, so that queries of tables it has read need not read their
	// tags again; default 1,000,000 (DefaultSeriesCacheSize); negative:
	// no cache.
	SeriesCacheSize int
	// Registerer receives the engine's metrics (prometheus_engine_*);
	// default none. Metrics already registered (by an earlier engine) are
	// left as they are.
	Registerer prometheus.Registerer
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *Options) EnsureDefaults() {
	if o.LookbackDelta <= 0 {
		o.LookbackDelta = DefaultLookbackDelta
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = DefaultMaxSamples
	}
	if o.SubqueryStep <= 0 {
		o.SubqueryStep = DefaultSubqueryStep
	}
	if o.SeriesCacheSize == 0 {
		o.SeriesCacheSize = DefaultSeriesCacheSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Engine evaluates PromQL over the tables of an Executor. Safe for
// concurrent use.
type Engine struct {
	x      Executor
	engine *pql.Engine
	parser parser.Parser
	cache  *labelCache // nil: none
}

// New returns an Engine over x.
func New(x Executor, o Options) *Engine {
	o.EnsureDefaults()
	step := o.SubqueryStep.Milliseconds()
	p := parser.NewParser(parser.Options{})
	var reg prometheus.Registerer
	if o.Registerer != nil {
		reg = lenient{o.Registerer}
	}
	var cache *labelCache
	if o.SeriesCacheSize > 0 {
		cache = newLabelCache(o.SeriesCacheSize)
	}
	return &Engine{x: x, parser: p, cache: cache, engine: pql.NewEngine(pql.EngineOpts{
		Logger:                   o.Logger,
		Reg:                      reg,
		MaxSamples:               o.MaxSamples,
		Timeout:                  o.Timeout,
		LookbackDelta:            o.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return step },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   p,
	})}
}

// Queryable returns the storage.Queryable of a database's tables
// ("" is query.DefaultDatabase).
func (e *Engine) Queryable(db string) storage.Queryable {
	if db == "" {
		db = query.DefaultDatabase
	}
	return queryable{x: e.x, db: db, cache: e.cache}
}

// PromQL returns the Prometheus engine the queries run on.
func (e *Engine) PromQL() *pql.Engine { return e.engine }

// Parser returns the PromQL parser the engine uses, for the match[]
// selectors of metadata queries.
func (e *Engine) Parser() parser.Parser { return e.parser }

// NewInstantQuery prepares an instant query over database db.
func (e *Engine) NewInstantQuery(ctx context.Context, db string, opts pql.QueryOpts, qs string, ts time.Time) (pql.Query, error) {
	return e.engine.NewInstantQuery(ctx, e.Queryable(db), opts, qs, ts)
}

// NewRangeQuery prepares a range query over database db.
func (e *Engine) NewRangeQuery(ctx context.Context, db string, opts pql.QueryOpts, qs string, start, end time.Time, step time.Duration) (pql.Query, error) {
	return e.engine.NewRangeQuery(ctx, e.Queryable(db), opts, qs, start, end, step)
}

// lenient is a Registerer whose MustRegister skips collectors already
// registered: Prometheus' engine registers with MustRegister, which would
// panic when a second engine (a restarted server) shares the registry.
type lenient struct{ prometheus.Registerer }

func (r lenient) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			panic(err)
		}
	}
}
