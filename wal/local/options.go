package local

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/horaego/horaedb/wal"
)

const (
	// DefaultMaxEntrySize is the default of Options.MaxEntrySize.
	DefaultMaxEntrySize = 64 << 20

	// maxAppendBytes bounds the encoded size of one Append (and so of one
	// Pebble batch, which Pebble caps at 4 GiB).
	maxAppendBytes = 1 << 30

	// groupMaxBytes bounds the encoded size of one group commit; an Append
	// larger than this is committed on its own.
	groupMaxBytes = 32 << 20

	// memTableSize is Pebble's memtable size. WAL entries are usually
	// deleted before they would be flushed, so a larger memtable saves
	// flushes and compactions.
	memTableSize = 32 << 20
)

// Options configures a local WAL. The zero value is valid: every field has
// a default, applied by EnsureDefaults.
type Options struct {
	// Logger receives the WAL's logs and Pebble's, Pebble's informational
	// lines at Debug level. Default: a logger that discards everything.
	Logger *slog.Logger

	// Registerer registers the WAL's metrics (horaedb_wal_local_*). They are
	// unregistered by Close. Default: nil, no metrics are registered.
	Registerer prometheus.Registerer

	// FS is the file system the store lives in. Default: nil, the
	// operating system's (vfs.Default). Tests use vfs.NewCrashableMem.
	FS vfs.FS

	// NoSync makes Append return before its data is synced to stable
	// storage. Acknowledged entries survive a crash of the process but not
	// of the machine. For benchmarks only. Default: false.
	NoSync bool

	// MaxEntrySize is the largest payload of one entry, in bytes; Append
	// rejects a larger one with wal.ErrInvalid. Default: 64 MiB, at most
	// 1 GiB.
	MaxEntrySize int
}

// EnsureDefaults fills unset fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.MaxEntrySize == 0 {
		o.MaxEntrySize = DefaultMaxEntrySize
	}
}

// Validate reports whether the options are usable. It expects defaults to
// have been filled in.
func (o *Options) Validate() error {
	if o.Logger == nil {
		return fmt.Errorf("wal/local: options: no logger: %w", wal.ErrInvalid)
	}
	if o.FS == nil {
		return fmt.Errorf("wal/local: options: no file system: %w", wal.ErrInvalid)
	}
	if o.MaxEntrySize <= 0 || o.MaxEntrySize > maxAppendBytes {
		return fmt.Errorf("wal/local: options: max entry size %d not in [1, %d]: %w",
			o.MaxEntrySize, maxAppendBytes, wal.ErrInvalid)
	}
	return nil
}

// pebbleOptions returns the Pebble options of a WAL store.
func (o *Options) pebbleOptions() *pebble.Options {
	log := o.Logger.With("component", "pebble")
	return &pebble.Options{
		FS:                 o.FS,
		Logger:             pebbleLogger{log},
		FormatMajorVersion: pebble.FormatNewest,
		MemTableSize:       memTableSize,
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) {
				log.Error("background error", "err", err)
			},
			// Pebble's default calls Fatalf; the read that meets the
			// corruption fails with wal.ErrCorrupt instead.
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				log.Error("data corruption", "info", info.String())
			},
			DiskSlow: func(info pebble.DiskSlowInfo) {
				log.Warn("disk slow", "info", info.String())
			},
			WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
				log.Warn("write stall", "reason", info.Reason)
			},
		},
	}
}

// pebbleLogger routes Pebble's logger into slog: Infof at Debug, Errorf at
// Error. Fatalf logs at Error and panics with a pebbleFatal; the committer
// turns such a panic during a commit into an error (see commit.go). Pebble
// calls Fatalf when it cannot go on, so a Fatalf from one of its background
// goroutines still ends the process, as Pebble's own logger would.
type pebbleLogger struct{ log *slog.Logger }

// pebbleFatal is the panic value of pebbleLogger.Fatalf.
type pebbleFatal struct{ msg string }

func (l pebbleLogger) Infof(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug(fmt.Sprintf(format, args...))
	}
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error("fatal: " + msg)
	panic(pebbleFatal{msg: msg})
}
