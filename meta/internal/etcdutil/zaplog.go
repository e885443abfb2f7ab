package etcdutil

import (
	"context"
	"log/slog"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewZapLogger returns a zap logger, for etcd's server and client, that
// writes into logger at the matching slog level, dropping records below
// level. etcd is chatty: its info records are useful only when debugging.
func NewZapLogger(logger *slog.Logger, level slog.Level) *zap.Logger {
	return zap.New(&slogCore{logger: logger, level: level})
}

// slogCore is a zapcore.Core over an slog.Logger.
type slogCore struct {
	logger *slog.Logger
	level  slog.Level
	attrs  []slog.Attr
}

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	sl := slogLevel(l)
	return sl >= c.level && c.logger.Enabled(context.Background(), sl)
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	clone := *c
	clone.attrs = append(append([]slog.Attr(nil), c.attrs...), attrs(fields)...)
	return &clone
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// noise are etcd warnings and errors that say nothing wrong in
// HoraeMeta's setup; they are logged at debug level.
var noise = map[string]bool{
	// MetaService shares etcd's client port by design.
	"Running http and grpc server on single port. This is not recommended for production.": true,
	// No etcd auth is used.
	"simple token is not cryptographically signed": true,
	// Logged while a new cluster bootstraps; etcd retries by itself.
	"Failed to detect schema version":  true,
	"failed to update storage version": true,
	// Logged for every listener when etcd closes.
	"setting up serving from embedded etcd failed.": true,
	"stopping insecure grpc server due to error":    true,
	"stopped insecure grpc server due to error":     true,
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	level := slogLevel(e.Level)
	// etcd's gRPC server logs every slow unary call as "request stats";
	// MetaService calls that wait for a procedure are slow by design.
	if level > slog.LevelDebug && (noise[e.Message] || e.Message == "request stats" && isMetaCall(fields)) {
		level = slog.LevelDebug
		if level < c.level {
			return nil
		}
	}
	all := append(append([]slog.Attr(nil), c.attrs...), attrs(fields)...)
	if e.LoggerName != "" {
		all = append(all, slog.String("logger", e.LoggerName))
	}
	c.logger.LogAttrs(context.Background(), level, e.Message, all...)
	return nil
}

func (c *slogCore) Sync() error { return nil }

// isMetaCall says whether a "request stats" record is about MetaService.
func isMetaCall(fields []zapcore.Field) bool {
	for _, f := range fields {
		if f.Type == zapcore.StringType && strings.HasPrefix(f.String, "/horaedb.meta.") {
			return true
		}
	}
	return false
}

// attrs converts zap fields to slog attributes.
func attrs(fields []zapcore.Field) []slog.Attr {
	if len(fields) == 0 {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	out := make([]slog.Attr, 0, len(enc.Fields))
	for _, f := range fields { // keep the fields' order
		if v, ok := enc.Fields[f.Key]; ok {
			out = append(out, slog.Any(f.Key, v))
			delete(enc.Fields, f.Key)
		}
	}
	return out
}
