package compaction

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine/internal/sst"
)

const hour = int64(3_600_000)

// f builds a file: id, size in MB, the hour its rows start and end in.
func f(id uint64, sizeMB int64, fromHour, toHour int64) sst.Meta {
	return sst.Meta{ID: id, Size: sizeMB << 20, MinTime: fromHour * hour, MaxTime: toHour*hour - 1, MaxSeq: id}
}

func ids(fs []sst.Meta) []uint64 {
	var out []uint64
	for _, f := range fs {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func defaults() Options {
	return Options{Strategy: "time_window", BucketLow: 0.5, BucketHigh: 1.5, MinSSTableSize: 50 << 20,
		MinThreshold: 4, MaxThreshold: 16, MaxInputBytes: 1200 << 20, Segment: 2 * time.Hour, Now: 100 * hour}
}

func TestPick(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   []sst.Meta
		opt     func(*Options)
		inputs  string
		expired string
	}{
		{name: "nothing", files: nil, inputs: "[]", expired: "[]"},
		{name: "newest window waits for four files",
			files:  []sst.Meta{f(1, 1, 98, 99), f(2, 1, 98, 99), f(3, 1, 98, 100)},
			inputs: "[]", expired: "[]"},
		{name: "newest window merges four small files",
			files:  []sst.Meta{f(1, 1, 98, 99), f(2, 1, 98, 99), f(3, 1, 98, 100), f(4, 2, 99, 100)},
			inputs: "[1 2 3 4]", expired: "[]"},
		{name: "an older window merges as soon as it has two",
			files:  []sst.Meta{f(1, 5, 90, 91), f(2, 5, 91, 92), f(3, 1, 98, 99)},
			inputs: "[1 2]", expired: "[]"},
		{name: "windows are not mixed",
			files:  []sst.Meta{f(1, 5, 88, 89), f(2, 5, 90, 91), f(3, 1, 98, 99)},
			inputs: "[]", expired: "[]"},
		{name: "size tiers: big files stay out of the small bucket",
			files:  []sst.Meta{f(1, 60, 98, 99), f(2, 1, 98, 99), f(3, 1, 98, 99), f(4, 2, 98, 99), f(5, 3, 98, 99)},
			inputs: "[2 3 4 5]", expired: "[]"},
		{name: "max threshold caps a task, oldest first",
			files: []sst.Meta{f(1, 1, 90, 91), f(2, 1, 90, 91), f(3, 1, 90, 91), f(4, 1, 90, 91)},
			opt:   func(o *Options) { o.MaxThreshold = 3 }, inputs: "[1 2 3]", expired: "[]"},
		{name: "max input bytes caps a task",
			files:  []sst.Meta{f(1, 700, 90, 91), f(2, 700, 90, 91), f(3, 700, 90, 91), f(4, 1, 98, 99)},
			inputs: "[1 2]", expired: "[]"}, // two files always allowed, then the cap
		{name: "ttl drops files wholly older than now - ttl",
			files: []sst.Meta{f(1, 1, 10, 12), f(2, 1, 50, 53), f(3, 1, 98, 99)},
			opt:   func(o *Options) { o.TTL = 48 * time.Hour }, inputs: "[]", expired: "[1]"},
		{name: "size tiered ignores windows",
			files: []sst.Meta{f(1, 1, 10, 11), f(2, 1, 30, 31), f(3, 1, 50, 51), f(4, 1, 70, 71)},
			opt:   func(o *Options) { o.Strategy = "size_tiered" }, inputs: "[1 2 3 4]", expired: "[]"},
		{name: "size tiered needs min threshold",
			files: []sst.Meta{f(1, 1, 10, 11), f(2, 1, 30, 31)},
			opt:   func(o *Options) { o.Strategy = "size_tiered" }, inputs: "[]", expired: "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaults()
			if tc.opt != nil {
				tc.opt(&o)
			}
			task := Pick(tc.files, o)
			if got := fmt.Sprint(ids(task.Inputs)); got != tc.inputs {
				t.Errorf("inputs %s, want %s", got, tc.inputs)
			}
			slices.Sort(task.Expired)
			if got := fmt.Sprint(task.Expired); got != tc.expired {
				t.Errorf("expired %s, want %s", got, tc.expired)
			}
		})
	}
}
