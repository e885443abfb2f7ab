package options

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/internal/units"
)

func show(t Table) string {
	var parts []string
	for _, kv := range t.Display() {
		parts = append(parts, fmt.Sprintf("%s='%s'", kv[0], kv[1]))
	}
	return "WITH(" + strings.Join(parts, ", ") + ")"
}

func TestDefaultDisplay(t *testing.T) {
	// The exact string upstream prints for a default table (reference §1.3).
	const want = "WITH(arena_block_size='2097152', compaction_strategy='default', compression='ZSTD', enable_ttl='true', layered_enable='false', layered_mutable_switch_threshold='3145728', memtable_type='skiplist', num_rows_per_row_group='8192', segment_duration='', storage_format='AUTO', ttl='7d', update_mode='OVERWRITE', write_buffer_size='33554432')"
	if got := show(Default()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kv     map[string]string
		create bool
		check  func(Table) bool
		err    string
	}{
		{"ttl truncated to days", map[string]string{"ttl": "36h"}, true, func(o Table) bool { return o.TTL == units.Day }, ""},
		{"segment zero means 2h", map[string]string{"segment_duration": "0"}, true, func(o Table) bool { return o.SegmentDuration == 2*time.Hour }, ""},
		{"segment ignored on alter", map[string]string{"segment_duration": "1d"}, false, func(o Table) bool { return o.SegmentDuration == 0 }, ""},
		{"update mode case-insensitive", map[string]string{"update_mode": "append"}, true, func(o Table) bool { return o.UpdateMode == Append }, ""},
		{"update mode ignored on alter", map[string]string{"update_mode": "APPEND"}, false, func(o Table) bool { return o.UpdateMode == Overwrite }, ""},
		{"row group clamped", map[string]string{"num_rows_per_row_group": "5"}, true, func(o Table) bool { return o.NumRowsPerRowGroup == 100 }, ""},
		{"write buffer size", map[string]string{"write_buffer_size": "300M"}, true, func(o Table) bool { return o.WriteBufferSize == 300<<20 }, ""},
		{"arena clamped", map[string]string{"arena_block_size": "10"}, true, func(o Table) bool { return o.ArenaBlockSize == 1024 }, ""},
		{"unknown memtable type", map[string]string{"memtable_type": "weird"}, true, func(o Table) bool { return o.MemtableType == "skiplist" }, ""},
		{"unknown keys ignored", map[string]string{"no_such_key": "x"}, true, func(o Table) bool { return o == Default() }, ""},
		{"enable_ttl false", map[string]string{"enable_ttl": "false"}, true, func(o Table) bool { return !o.EnableTTL }, ""},
		{"bad update mode", map[string]string{"update_mode": "MERGE"}, true, nil, "unknown update mode"},
		{"bad compression", map[string]string{"compression": "gzip"}, true, nil, "unknown compression"},
		{"bad ttl", map[string]string{"ttl": "7x"}, true, nil, "ttl="},
		{"bad bool", map[string]string{"enable_ttl": "yes"}, true, nil, "want true or false"},
		{"hybrid not accepted", map[string]string{"storage_format": "hybrid"}, true, nil, "unknown storage format"},
		{"layered with overwrite", map[string]string{"layered_enable": "true"}, true, nil, "APPEND"},
		{"bucket high below low", map[string]string{"compaction_bucket_high": "0.1"}, true, nil, "compaction_bucket_high"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Default().Apply(tc.kv, tc.create)
			if tc.err != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(got) {
				t.Errorf("unexpected options %+v", got)
			}
		})
	}
}

func TestMapRoundTrip(t *testing.T) {
	o, err := Default().Apply(map[string]string{"update_mode": "APPEND", "compaction_strategy": "time_window", "segment_duration": "1d", "ttl": "30d"}, true)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Default().Apply(o.Map(), true)
	if err != nil || back != o {
		t.Fatalf("round trip: %+v, %v\nwant %+v", back, err, o)
	}
	if s := show(o); !strings.Contains(s, "compaction_timestamp_resolution='ms'") || !strings.Contains(s, "segment_duration='1d'") {
		t.Errorf("display = %s", s)
	}
}
