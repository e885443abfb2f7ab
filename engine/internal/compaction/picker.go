// Package compaction decides which SSTs of a table to merge or drop. The
// picker is a pure function of the table's files and options; the engine
// runs what it picks.
//
// Strategies (the table option compaction_strategy):
//   - time_window (and default): files are grouped by segment window; in
//     the newest window files are merged size-tiered (they are still
//     arriving); an older window is merged into one file as soon as it has
//     two. Queries over a time range then open one file per window.
//   - size_tiered: files of similar sizes are merged, regardless of time.
//
// Files wholly older than the TTL are dropped without being read.
package compaction

import (
	"slices"
	"time"

	"github.com/horaego/horaedb/engine/internal/sst"
)

// Options tune the picker; they come from the table options.
type Options struct {
	Strategy       string // "default", "time_window" or "size_tiered"
	BucketLow      float64
	BucketHigh     float64
	MinSSTableSize int64 // bytes: smaller files count as the same size
	MinThreshold   int   // files a size bucket needs to be merged
	MaxThreshold   int   // files one task merges at most
	MaxInputBytes  int64 // bytes one task reads at most
	Segment        time.Duration
	// TTL, when positive, expires files whose rows are all older than
	// Now - TTL.
	TTL time.Duration
	Now int64 // milliseconds
}

// Task is what to do with a table's files: drop the expired ones, merge the
// inputs into new files. Both may be empty.
type Task struct {
	Expired []uint64
	Inputs  []sst.Meta
}

// Empty reports whether there is nothing to do.
func (t Task) Empty() bool { return len(t.Expired) == 0 && len(t.Inputs) < 2 }

// Pick chooses a task for files.
func Pick(files []sst.Meta, o Options) Task {
	var task Task
	var live []sst.Meta
	for _, f := range files {
		if o.TTL > 0 && f.MaxTime < o.Now-o.TTL.Milliseconds() {
			task.Expired = append(task.Expired, f.ID)
			continue
		}
		live = append(live, f)
	}
	if o.Strategy == "size_tiered" || o.Segment <= 0 {
		task.Inputs = sizeTiered(live, o)
	} else {
		task.Inputs = timeWindow(live, o)
	}
	if len(task.Inputs) < 2 {
		task.Inputs = nil
	}
	return task
}

func windowOf(f sst.Meta, seg time.Duration) int64 {
	s := seg.Milliseconds()
	q := f.MinTime / s
	if f.MinTime%s != 0 && f.MinTime < 0 {
		q--
	}
	return q * s
}

// timeWindow merges within segment windows: size-tiered in the newest
// window, everything in an older one.
func timeWindow(files []sst.Meta, o Options) []sst.Meta {
	windows := map[int64][]sst.Meta{}
	var starts []int64
	for _, f := range files {
		w := windowOf(f, o.Segment)
		if _, ok := windows[w]; !ok {
			starts = append(starts, w)
		}
		windows[w] = append(windows[w], f)
	}
	slices.Sort(starts)
	slices.Reverse(starts) // newest first
	for i, w := range starts {
		fs := windows[w]
		if i == 0 {
			if in := sizeTiered(fs, o); len(in) >= 2 {
				return in
			}
			continue
		}
		if len(fs) >= 2 {
			return capped(oldestFirst(fs), o)
		}
	}
	return nil
}

func oldestFirst(fs []sst.Meta) []sst.Meta {
	out := slices.Clone(fs)
	slices.SortFunc(out, func(a, b sst.Meta) int {
		if a.MaxSeq != b.MaxSeq {
			if a.MaxSeq < b.MaxSeq {
				return -1
			}
			return 1
		}
		return int(a.ID) - int(b.ID)
	})
	return out
}

// capped keeps a prefix of fs within MaxThreshold files and MaxInputBytes.
func capped(fs []sst.Meta, o Options) []sst.Meta {
	var out []sst.Meta
	var bytes int64
	for _, f := range fs {
		if o.MaxThreshold > 0 && len(out) == o.MaxThreshold {
			break
		}
		if o.MaxInputBytes > 0 && len(out) >= 2 && bytes+f.Size > o.MaxInputBytes {
			break
		}
		out = append(out, f)
		bytes += f.Size
	}
	return out
}

// sizeTiered groups files of similar size (within [avg·low, avg·high] of a
// bucket's average, or all below MinSSTableSize) and picks the bucket of
// the smallest files among those with at least MinThreshold files.
func sizeTiered(files []sst.Meta, o Options) []sst.Meta {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b sst.Meta) int {
		if a.Size != b.Size {
			if a.Size < b.Size {
				return -1
			}
			return 1
		}
		return int(a.ID) - int(b.ID)
	})
	var buckets [][]sst.Meta
	var avgs []float64
	for _, f := range sorted {
		size := float64(f.Size)
		placed := false
		for i, b := range buckets {
			avg := avgs[i]
			small := f.Size < o.MinSSTableSize && avg < float64(o.MinSSTableSize)
			if small || (size >= avg*o.BucketLow && size <= avg*o.BucketHigh) {
				buckets[i] = append(b, f)
				avgs[i] = (avg*float64(len(b)) + size) / float64(len(b)+1)
				placed = true
				break
			}
		}
		if !placed {
			buckets = append(buckets, []sst.Meta{f})
			avgs = append(avgs, size)
		}
	}
	min := max(o.MinThreshold, 2)
	for _, b := range buckets { // smallest sizes first
		if len(b) >= min {
			return capped(oldestFirst(b), o)
		}
	}
	return nil
}
