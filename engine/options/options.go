// Package options holds a table's options (the WITH (...) clause of CREATE
// TABLE, ALTER TABLE ... MODIFY SETTING and [analytic.table_opts]): their
// defaults, parsing, validation, sanitising and display, as reference §1.3
// describes them.
package options

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/horaego/horaedb/internal/units"
)

// ErrInvalid is wrapped by every option error.
var ErrInvalid = errors.New("options: invalid table option")

// UpdateMode decides what happens to rows with equal primary keys.
type UpdateMode string

// Update modes.
const (
	Overwrite UpdateMode = "OVERWRITE" // last write wins, whole row
	Append    UpdateMode = "APPEND"    // keep every row
)

// Keys of the options.
const (
	KeyEnableTTL                     = "enable_ttl"
	KeyTTL                           = "ttl"
	KeySegmentDuration               = "segment_duration"
	KeyUpdateMode                    = "update_mode"
	KeyStorageFormat                 = "storage_format"
	KeyCompression                   = "compression"
	KeyNumRowsPerRowGroup            = "num_rows_per_row_group"
	KeyWriteBufferSize               = "write_buffer_size"
	KeyArenaBlockSize                = "arena_block_size"
	KeyMemtableType                  = "memtable_type"
	KeyLayeredEnable                 = "layered_enable"
	KeyLayeredMutableSwitchThreshold = "layered_mutable_switch_threshold"
	KeyCompactionStrategy            = "compaction_strategy"
	KeyCompactionBucketLow           = "compaction_bucket_low"
	KeyCompactionBucketHigh          = "compaction_bucket_high"
	KeyCompactionMinSSTableSize      = "compaction_min_sstable_size"
	KeyCompactionMinThreshold        = "compaction_min_threshold"
	KeyCompactionMaxThreshold        = "compaction_max_threshold"
	KeyCompactionTimestampResolution = "compaction_timestamp_resolution"
)

// Compaction strategy names.
const (
	CompactionDefault     = "default"
	CompactionSizeTiered  = "size_tiered"
	CompactionTimeWindow  = "time_window"
	minRowsPerRowGroup    = 100
	maxRowsPerRowGroup    = 10_000_000
	minArenaBlockSize     = 1 << 10
	maxArenaBlockSize     = 2 << 30
	defaultSegmentOnZero  = 2 * time.Hour
	defaultWriteBufSize   = 32 << 20
	defaultArenaBlockSize = 2 << 20
)

// Compaction holds the compaction_* options.
type Compaction struct {
	Strategy            string  // default "default"
	BucketLow           float32 // default 0.5
	BucketHigh          float32 // default 1.5
	MinSSTableSize      uint64  // bytes, default 50 MiB
	MinThreshold        int     // default 4
	MaxThreshold        int     // default 16
	TimestampResolution string  // s, ms, us or ns; default ms
}

// Table holds every table option.
type Table struct {
	EnableTTL bool          // default true
	TTL       time.Duration // whole days; default 7d
	// SegmentDuration is 0 until set or sampled at the first flush.
	SegmentDuration               time.Duration
	UpdateMode                    UpdateMode // default OVERWRITE
	StorageFormat                 string     // AUTO or COLUMNAR; default AUTO
	Compression                   string     // UNCOMPRESSED, LZ4, SNAPPY or ZSTD; default ZSTD
	NumRowsPerRowGroup            int        // clamped to [100, 10M]; default 8192
	WriteBufferSize               uint64     // bytes; default 32 MiB
	ArenaBlockSize                uint64     // bytes, clamped to [1 KiB, 2 GiB]; default 2 MiB
	MemtableType                  string     // skiplist or columnar; default skiplist
	LayeredEnable                 bool       // default false
	LayeredMutableSwitchThreshold uint64     // bytes; default 3 MiB
	Compaction                    Compaction
}

// Default returns upstream's defaults.
func Default() Table {
	return Table{
		EnableTTL:                     true,
		TTL:                           7 * units.Day,
		UpdateMode:                    Overwrite,
		StorageFormat:                 "AUTO",
		Compression:                   "ZSTD",
		NumRowsPerRowGroup:            8192,
		WriteBufferSize:               defaultWriteBufSize,
		ArenaBlockSize:                defaultArenaBlockSize,
		MemtableType:                  "skiplist",
		LayeredMutableSwitchThreshold: 3 << 20,
		Compaction: Compaction{
			Strategy: CompactionDefault, BucketLow: 0.5, BucketHigh: 1.5,
			MinSSTableSize: 50 << 20, MinThreshold: 4, MaxThreshold: 16, TimestampResolution: "ms",
		},
	}
}

// NeedDedup reports whether rows with equal primary keys are deduplicated.
func (t Table) NeedDedup() bool { return t.UpdateMode == Overwrite }

// Apply returns t with the given options set. Keys are case-sensitive as
// upstream's; unknown keys are ignored. On ALTER (create == false)
// segment_duration and update_mode are ignored, as upstream does. The
// result is validated and sanitised.
func (t Table) Apply(kv map[string]string, create bool) (Table, error) {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	for _, k := range keys {
		v := kv[k]
		var err error
		switch k {
		case KeyEnableTTL:
			t.EnableTTL, err = parseBool(v)
		case KeyTTL:
			t.TTL, err = units.ParseDuration(v)
		case KeySegmentDuration:
			if create {
				if v == "" {
					t.SegmentDuration = 0
				} else if t.SegmentDuration, err = units.ParseDuration(v); err == nil && t.SegmentDuration == 0 {
					t.SegmentDuration = defaultSegmentOnZero
				}
			}
		case KeyUpdateMode:
			if create {
				switch m := UpdateMode(strings.ToUpper(v)); m {
				case Overwrite, Append:
					t.UpdateMode = m
				default:
					err = fmt.Errorf("unknown update mode %q (want OVERWRITE or APPEND)", v)
				}
			}
		case KeyStorageFormat:
			switch f := strings.ToUpper(v); f {
			case "AUTO", "COLUMNAR":
				t.StorageFormat = f
			default:
				err = fmt.Errorf("unknown storage format %q (want AUTO or COLUMNAR)", v)
			}
		case KeyCompression:
			switch c := strings.ToUpper(v); c {
			case "UNCOMPRESSED", "LZ4", "SNAPPY", "ZSTD":
				t.Compression = c
			default:
				err = fmt.Errorf("unknown compression %q (want UNCOMPRESSED, LZ4, SNAPPY or ZSTD)", v)
			}
		case KeyNumRowsPerRowGroup:
			var n uint64
			n, err = strconv.ParseUint(v, 10, 64)
			t.NumRowsPerRowGroup = int(min(max(n, minRowsPerRowGroup), maxRowsPerRowGroup))
		case KeyWriteBufferSize:
			t.WriteBufferSize, err = units.ParseSize(v)
		case KeyArenaBlockSize:
			var n uint64
			n, err = units.ParseSize(v)
			t.ArenaBlockSize = min(max(n, minArenaBlockSize), maxArenaBlockSize)
		case KeyMemtableType:
			if strings.EqualFold(v, "columnar") {
				t.MemtableType = "columnar"
			} else {
				t.MemtableType = "skiplist"
			}
		case KeyLayeredEnable:
			t.LayeredEnable, err = parseBool(v)
		case KeyLayeredMutableSwitchThreshold:
			t.LayeredMutableSwitchThreshold, err = units.ParseSize(v)
		case KeyCompactionStrategy:
			switch s := strings.ToLower(v); s {
			case CompactionDefault, CompactionSizeTiered, CompactionTimeWindow:
				t.Compaction.Strategy = s
			default:
				err = fmt.Errorf("unknown compaction strategy %q (want default, size_tiered or time_window)", v)
			}
		case KeyCompactionBucketLow:
			t.Compaction.BucketLow, err = parseFloat32(v)
		case KeyCompactionBucketHigh:
			t.Compaction.BucketHigh, err = parseFloat32(v)
		case KeyCompactionMinSSTableSize:
			t.Compaction.MinSSTableSize, err = units.ParseSize(v)
		case KeyCompactionMinThreshold:
			t.Compaction.MinThreshold, err = strconv.Atoi(v)
		case KeyCompactionMaxThreshold:
			t.Compaction.MaxThreshold, err = strconv.Atoi(v)
		case KeyCompactionTimestampResolution:
			switch r := strings.ToLower(v); r {
			case "s", "ms", "us", "ns":
				t.Compaction.TimestampResolution = r
			default:
				err = fmt.Errorf("unknown timestamp resolution %q (want s, ms, us or ns)", v)
			}
		}
		if err != nil {
			return t, fmt.Errorf("%w: %s=%q: %v", ErrInvalid, k, v, unwrapSyntax(err))
		}
	}
	t.sanitize()
	return t, t.Validate()
}

func unwrapSyntax(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

func (t *Table) sanitize() {
	t.TTL = t.TTL.Truncate(units.Day)
}

// Validate checks combinations of options.
func (t Table) Validate() error {
	if t.EnableTTL && t.TTL < units.Day {
		return fmt.Errorf("%w: ttl must be at least 1d when enable_ttl is true", ErrInvalid)
	}
	if t.WriteBufferSize == 0 {
		return fmt.Errorf("%w: write_buffer_size must be positive", ErrInvalid)
	}
	if t.LayeredEnable {
		if t.UpdateMode == Overwrite {
			return fmt.Errorf("%w: layered memtable is only supported with update_mode=APPEND", ErrInvalid)
		}
		if t.LayeredMutableSwitchThreshold == 0 {
			return fmt.Errorf("%w: layered_mutable_switch_threshold must be positive when layered_enable is true", ErrInvalid)
		}
	}
	c := t.Compaction
	if c.BucketLow <= 0 || c.BucketHigh <= c.BucketLow {
		return fmt.Errorf("%w: compaction_bucket_high must be greater than compaction_bucket_low > 0", ErrInvalid)
	}
	if c.MinThreshold < 2 || c.MaxThreshold < c.MinThreshold {
		return fmt.Errorf("%w: compaction thresholds need 2 <= compaction_min_threshold <= compaction_max_threshold", ErrInvalid)
	}
	return nil
}

// Display returns every option as SHOW CREATE TABLE prints it, sorted by
// key. Compaction tuning keys appear only for non-default strategies.
func (t Table) Display() [][2]string {
	seg := ""
	if t.SegmentDuration > 0 {
		seg = units.FormatDuration(t.SegmentDuration)
	}
	out := [][2]string{
		{KeyArenaBlockSize, strconv.FormatUint(t.ArenaBlockSize, 10)},
		{KeyCompactionStrategy, t.Compaction.Strategy},
		{KeyCompression, t.Compression},
		{KeyEnableTTL, strconv.FormatBool(t.EnableTTL)},
		{KeyLayeredEnable, strconv.FormatBool(t.LayeredEnable)},
		{KeyLayeredMutableSwitchThreshold, strconv.FormatUint(t.LayeredMutableSwitchThreshold, 10)},
		{KeyMemtableType, t.MemtableType},
		{KeyNumRowsPerRowGroup, strconv.Itoa(t.NumRowsPerRowGroup)},
		{KeySegmentDuration, seg},
		{KeyStorageFormat, t.StorageFormat},
		{KeyTTL, units.FormatDuration(t.TTL)},
		{KeyUpdateMode, string(t.UpdateMode)},
		{KeyWriteBufferSize, strconv.FormatUint(t.WriteBufferSize, 10)},
	}
	if c := t.Compaction; c.Strategy != CompactionDefault {
		out = append(out,
			[2]string{KeyCompactionBucketHigh, strconv.FormatFloat(float64(c.BucketHigh), 'f', -1, 32)},
			[2]string{KeyCompactionBucketLow, strconv.FormatFloat(float64(c.BucketLow), 'f', -1, 32)},
			[2]string{KeyCompactionMaxThreshold, strconv.Itoa(c.MaxThreshold)},
			[2]string{KeyCompactionMinSSTableSize, strconv.FormatUint(c.MinSSTableSize, 10)},
			[2]string{KeyCompactionMinThreshold, strconv.Itoa(c.MinThreshold)},
		)
		if c.Strategy == CompactionTimeWindow {
			out = append(out, [2]string{KeyCompactionTimestampResolution, c.TimestampResolution})
		}
		sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	}
	return out
}

// Map returns the options as a key → value map, the form Apply accepts;
// Apply(Default(), t.Map()) reproduces t.
func (t Table) Map() map[string]string {
	d := t.Display()
	m := make(map[string]string, len(d)+6)
	for _, kv := range d {
		m[kv[0]] = kv[1]
	}
	c := t.Compaction
	m[KeyCompactionBucketHigh] = strconv.FormatFloat(float64(c.BucketHigh), 'f', -1, 32)
	m[KeyCompactionBucketLow] = strconv.FormatFloat(float64(c.BucketLow), 'f', -1, 32)
	m[KeyCompactionMaxThreshold] = strconv.Itoa(c.MaxThreshold)
	m[KeyCompactionMinSSTableSize] = strconv.FormatUint(c.MinSSTableSize, 10)
	m[KeyCompactionMinThreshold] = strconv.Itoa(c.MinThreshold)
	m[KeyCompactionTimestampResolution] = c.TimestampResolution
	return m
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}

func parseFloat32(v string) (float32, error) {
	f, err := strconv.ParseFloat(v, 32)
	return float32(f), err
}
