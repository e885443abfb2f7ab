// Package config owns the data node's (horaedb) configuration: the Go form of
// every section and key of Apache HoraeDB's TOML config file, with upstream's
// defaults, the loader (unknown top-level keys are errors, unknown nested keys
// are warnings), environment overrides, validation, and the TOML rendering of
// the effective config served at GET /debug/config.
//
// The usual sequence is
//
//	cfg, warnings, err := config.Load(path) // or config.Default()
//	cfg.ApplyEnv(os.Getenv)
//	err = cfg.Validate()
//
// Three sections are tagged unions, decoded from one TOML table whose tag key
// picks the variant: [analytic.wal] (type), [analytic.storage.object_store]
// (type) and [cluster_deployment] (mode). In Go they are a struct with the tag
// and one pointer per variant (WALConfig.Kafka, ObjectStoreConfig.S3,
// ClusterDeploymentConfig.WithMeta ...); Parse and the Default* functions set
// exactly the pointer named by the tag, and only that one is used.
//
// Problems the node can run with (unknown nested keys, which upstream ignores
// silently) are returned as Warnings; everything else is an *Error matching
// ErrInvalid, naming the dotted key and, when decoding, the line and column.
//
// Durations are units.Duration ("10s", "7d"); sizes are units.Size ("64MB",
// "1G" or a plain integer of bytes; 1024-based).
package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error about the content of a
// config: syntax, types, unknown top-level keys and failed validation.
var ErrInvalid = errors.New("config: invalid")

// Config is the complete configuration of a data node. The zero value is not
// useful; start from Default or Load. A copy shares the union variants, maps
// and slices of the original.
type Config struct {
	// Node is what this node advertises to the cluster.
	Node NodeConfig `toml:"node"`
	// Server holds the listeners and request handling options.
	Server ServerConfig `toml:"server"`
	// Runtime sizes the worker pools.
	Runtime RuntimeConfig `toml:"runtime"`
	// Logger configures logging.
	Logger LoggerConfig `toml:"logger"`
	// Tracing configures the trace log.
	Tracing TracingConfig `toml:"tracing"`
	// QueryEngine configures query execution.
	QueryEngine QueryEngineConfig `toml:"query_engine"`
	// Limiter blocks tables and kinds of requests.
	Limiter LimiterConfig `toml:"limiter"`
	// Analytic configures the storage engine, its WAL and object store.
	Analytic AnalyticConfig `toml:"analytic"`
	// ClusterDeployment says how the node finds the cluster: static routing
	// (NoMeta, the default, standalone when the topology is empty) or a
	// HoraeMeta cluster (WithMeta).
	ClusterDeployment ClusterDeploymentConfig `toml:"cluster_deployment"`
}

// Default returns the configuration a node runs with when no file is given:
// upstream's defaults, except that data lives under ./data instead of
// $TMPDIR/horaedb. Every call returns fresh maps and slices.
func Default() Config {
	return Config{
		Node:              defaultNode(),
		Server:            defaultServer(),
		Runtime:           defaultRuntime(),
		Logger:            defaultLogger(),
		Tracing:           defaultTracing(),
		QueryEngine:       defaultQueryEngine(),
		Limiter:           defaultLimiter(),
		Analytic:          defaultAnalytic(),
		ClusterDeployment: DefaultClusterDeployment(ModeNoMeta),
	}
}

// Validate checks the whole config and returns every problem found, joined;
// each one names its key and matches ErrInvalid.
func (c *Config) Validate() error {
	v := &validator{}
	c.Node.check(v, "node")
	c.Server.check(v, "server")
	c.Runtime.check(v, "runtime")
	c.Logger.check(v, "logger")
	c.Tracing.check(v, "tracing")
	c.QueryEngine.check(v, "query_engine")
	c.Limiter.check(v, "limiter")
	c.Analytic.check(v, "analytic")
	c.ClusterDeployment.check(v, "cluster_deployment")
	return v.err()
}

// Error is a problem with a config: a syntax or type error found while
// decoding (with its position), an unknown top-level key, or a failed check.
// It matches ErrInvalid.
type Error struct {
	// File is the path given to Load; empty for Parse and Validate.
	File string
	// Line and Column locate the problem in the file (1-based); 0 when
	// unknown, as for Validate.
	Line, Column int
	// Key is the full dotted key, e.g. "analytic.wal.type"; empty for a
	// syntax error that is not about one key.
	Key string
	// Msg says what is wrong.
	Msg string
	// Err is the underlying decoder error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	b.WriteString(position(e.File, e.Line, e.Column))
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the decoder's error.
func (e *Error) Unwrap() error { return e.Err }

// Warning is a problem the node can run with: an unknown nested key, which is
// ignored (as upstream ignores it).
type Warning struct {
	// File, Line and Column locate the key (Line and Column are 1-based).
	File         string
	Line, Column int
	// Key is the full dotted key, e.g. "analytic.write_group_worker_num".
	Key string
	// Msg says why the key is ignored.
	Msg string
}

func (w Warning) String() string {
	return "config: " + position(w.File, w.Line, w.Column) + w.Key + ": " + w.Msg
}

// position renders "file:line:col: " or "line L, column C: ", or nothing.
func position(file string, line, col int) string {
	switch {
	case file != "" && line > 0:
		return fmt.Sprintf("%s:%d:%d: ", file, line, col)
	case file != "":
		return file + ": "
	case line > 0:
		return fmt.Sprintf("line %d, column %d: ", line, col)
	}
	return ""
}

// validator collects the problems found by the check methods.
type validator struct {
	errs []error
}

// add records a problem with key.
func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// positive requires n > 0.
func (v *validator) positive(key string, n int) {
	if n <= 0 {
		v.add(key, "must be positive, got %d", n)
	}
}

// nonNegative requires n >= 0.
func (v *validator) nonNegative(key string, n int) {
	if n < 0 {
		v.add(key, "must not be negative, got %d", n)
	}
}

// required requires a non-empty string.
func (v *validator) required(key, s string) {
	if strings.TrimSpace(s) == "" {
		v.add(key, "is required")
	}
}

// port requires 1..65535.
func (v *validator) port(key string, p int) {
	if p < 1 || p > 65535 {
		v.add(key, "port %d out of range 1..65535", p)
	}
}

// oneOf requires s to be one of allowed.
func (v *validator) oneOf(key, what, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.add(key, "unknown %s %q (want %s)", what, s, orList(allowed))
}

func (v *validator) err() error {
	return errors.Join(v.errs...)
}

// orList renders "a, b or c".
func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
