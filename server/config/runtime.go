package config

import (
	"log/slog"
	"strings"

	"github.com/horaego/horaedb/internal/units"
)

// RuntimeConfig is [runtime]. Upstream sizes one tokio runtime per kind of
// work; we use the numbers as the concurrency of the matching worker pools.
type RuntimeConfig struct {
	// ReadThreadNum runs queries. Default 8.
	ReadThreadNum int `toml:"read_thread_num"`
	// ReadThreadStackSize is the stack size of read threads (upstream only;
	// goroutine stacks grow by themselves, so it is accepted and unused).
	// Default 16MB.
	ReadThreadStackSize units.Size `toml:"read_thread_stack_size"`
	// LowReadThreadNum runs low-priority (expensive) queries. Default 1.
	LowReadThreadNum int `toml:"low_read_thread_num"`
	// WriteThreadNum runs writes. Default 8.
	WriteThreadNum int `toml:"write_thread_num"`
	// MetaThreadNum runs cluster and meta work. Default 2.
	MetaThreadNum int `toml:"meta_thread_num"`
	// CompactThreadNum runs flushes and compactions. Default 4.
	CompactThreadNum int `toml:"compact_thread_num"`
	// DefaultThreadNum runs everything else. Default 8.
	DefaultThreadNum int `toml:"default_thread_num"`
	// IOThreadNum runs object store and file I/O. Default 4.
	IOThreadNum int `toml:"io_thread_num"`
}

func defaultRuntime() RuntimeConfig {
	return RuntimeConfig{
		ReadThreadNum:       8,
		ReadThreadStackSize: 16 << 20,
		LowReadThreadNum:    1,
		WriteThreadNum:      8,
		MetaThreadNum:       2,
		CompactThreadNum:    4,
		DefaultThreadNum:    8,
		IOThreadNum:         4,
	}
}

func (r *RuntimeConfig) check(v *validator, key string) {
	v.positive(key+".read_thread_num", r.ReadThreadNum)
	v.positive(key+".low_read_thread_num", r.LowReadThreadNum)
	v.positive(key+".write_thread_num", r.WriteThreadNum)
	v.positive(key+".meta_thread_num", r.MetaThreadNum)
	v.positive(key+".compact_thread_num", r.CompactThreadNum)
	v.positive(key+".default_thread_num", r.DefaultThreadNum)
	v.positive(key+".io_thread_num", r.IOThreadNum)
}

// logLevels maps the level names upstream accepts (any case) to slog levels.
var logLevels = map[string]slog.Level{
	"trace":    slog.LevelDebug - 4,
	"debug":    slog.LevelDebug,
	"info":     slog.LevelInfo,
	"warn":     slog.LevelWarn,
	"warning":  slog.LevelWarn,
	"error":    slog.LevelError,
	"critical": slog.LevelError + 4,
}

const logLevelNames = "trace, debug, info, warn, error or critical"

// ParseLevel maps a level name (trace, debug, info, warn, error, critical;
// any case) to a slog level.
func ParseLevel(s string) (slog.Level, bool) {
	l, ok := logLevels[strings.ToLower(strings.TrimSpace(s))]
	return l, ok
}

func checkLevel(v *validator, key, s string) {
	if _, ok := ParseLevel(s); !ok {
		v.add(key, "unknown level %q (want %s)", s, logLevelNames)
	}
}

// LoggerConfig is [logger].
type LoggerConfig struct {
	// Level is the minimum level logged: trace, debug, info, warn, error or
	// critical. Default "info".
	Level string `toml:"level"`
	// EnableAsync logs through a buffered channel. Default true.
	EnableAsync bool `toml:"enable_async"`
	// AsyncChannelLen is the length of that buffer, in records. Default
	// 102400.
	AsyncChannelLen int `toml:"async_channel_len"`
	// SlowQueryPath is a file that slow queries are logged to. Default "":
	// the main log.
	SlowQueryPath string `toml:"slow_query_path,omitempty"`
	// FailedQueryPath is a file that failed queries are logged to. Default
	// "": the main log.
	FailedQueryPath string `toml:"failed_query_path,omitempty"`
}

func defaultLogger() LoggerConfig {
	return LoggerConfig{Level: "info", EnableAsync: true, AsyncChannelLen: 102400}
}

// SlogLevel returns Level as a slog level (info if it is unknown; Validate
// reports that).
func (l *LoggerConfig) SlogLevel() slog.Level {
	lv, _ := ParseLevel(l.Level)
	return lv
}

func (l *LoggerConfig) check(v *validator, key string) {
	checkLevel(v, key+".level", l.Level)
	if l.EnableAsync {
		v.positive(key+".async_channel_len", l.AsyncChannelLen)
	}
}

// TracingConfig is [tracing]: the trace log, written to rolling files
// "{dir}/{prefix}.*".
type TracingConfig struct {
	// Prefix starts the trace file names. Default "tracing".
	Prefix string `toml:"prefix"`
	// Dir holds the trace files. Default "data/tracing" (upstream:
	// $TMPDIR/horaedb).
	Dir string `toml:"dir"`
	// Level is the minimum level traced. Default "info".
	Level string `toml:"level"`
	// Console, when set, serves a tokio-console style endpoint (upstream
	// only; accepted and unused). Default: unset.
	Console *TracingConsoleConfig `toml:"console,omitempty"`
}

// TracingConsoleConfig is [tracing.console].
type TracingConsoleConfig struct {
	// Port to listen on. No default; required when the table is present.
	Port int `toml:"port"`
}

func defaultTracing() TracingConfig {
	return TracingConfig{Prefix: "tracing", Dir: "data/tracing", Level: "info"}
}

func (t *TracingConfig) check(v *validator, key string) {
	v.required(key+".prefix", t.Prefix)
	v.required(key+".dir", t.Dir)
	checkLevel(v, key+".level", t.Level)
	if t.Console != nil {
		v.port(key+".console.port", t.Console.Port)
	}
}

// QueryEngineConfig is [query_engine].
type QueryEngineConfig struct {
	// ReadParallelism is the number of partitions a table scan is split
	// into. Default 8.
	ReadParallelism int `toml:"read_parallelism"`
	// ExpensiveQueryThreshold is the queried time range from which a query
	// runs on the low-priority read pool. Default 24h.
	ExpensiveQueryThreshold units.Duration `toml:"expensive_query_threshold"`
	// MemoryLimit bounds the memory one statement may hold (sorts,
	// aggregation groups, join build sides, results); a statement that
	// needs more fails with a clear error. 0 means unbounded. Default 2GB.
	// Not an upstream key.
	MemoryLimit units.Size `toml:"memory_limit"`
}

func defaultQueryEngine() QueryEngineConfig {
	return QueryEngineConfig{ReadParallelism: 8, ExpensiveQueryThreshold: seconds(24 * 3600), MemoryLimit: 2 << 30}
}

func (q *QueryEngineConfig) check(v *validator, key string) {
	v.positive(key+".read_parallelism", q.ReadParallelism)
	if q.ReadParallelism > 1024 {
		v.add(key+".read_parallelism", "%d is more than 1024", q.ReadParallelism)
	}
	durPositive(v, key+".expensive_query_threshold", q.ExpensiveQueryThreshold)
}
