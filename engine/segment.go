package engine

import (
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/engine/internal/memtable"
	"github.com/horaego/horaedb/internal/units"
)

// segmentChoices are the segment durations a table may get when its first
// flush samples one (upstream's list).
var segmentChoices = []time.Duration{2 * time.Hour, units.Day, 7 * units.Day, 30 * units.Day,
	180 * units.Day, 360 * units.Day, 1800 * units.Day, 3600 * units.Day}

// pointsPerSeries is how many points of a series a segment should hold.
const pointsPerSeries = 100

// sampleSegment picks a segment duration from the timestamps of a table's
// first memtable, as upstream does: the 90th percentile of the intervals
// between distinct timestamps, times 100 points per series, rounded up to
// the next of segmentChoices (2h with fewer than two timestamps).
func sampleSegment(m *memtable.Memtable) time.Duration {
	seen := map[int64]struct{}{}
	for _, r := range m.Runs() {
		ts := r.Rec.Column(m.Schema().TimestampIndex).(*array.Timestamp).TimestampValues()
		for _, v := range ts {
			seen[int64(v)] = struct{}{}
		}
		r.Rec.Release()
	}
	return chooseSegment(seen)
}

func chooseSegment(seen map[int64]struct{}) time.Duration {
	if len(seen) < 2 {
		return segmentChoices[0]
	}
	ts := make([]int64, 0, len(seen))
	for v := range seen {
		ts = append(ts, v)
	}
	slices.Sort(ts)
	intervals := make([]int64, len(ts)-1)
	for i := range intervals {
		intervals[i] = ts[i+1] - ts[i]
	}
	slices.Sort(intervals)
	idx := max(len(intervals)*9/10-1, 0)
	target := time.Duration(intervals[idx]) * time.Millisecond * pointsPerSeries
	for _, c := range segmentChoices {
		if c > target {
			return c
		}
	}
	return segmentChoices[len(segmentChoices)-1]
}

// segmentStart is the start (ms) of the segment that holds ts.
func segmentStart(ts int64, seg time.Duration) int64 {
	s := seg.Milliseconds()
	q := ts / s
	if ts%s != 0 && ts < 0 {
		q--
	}
	return q * s
}
