package sst

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/internal/murmur3"
)

// Tag filters let a scan for tag = 'v' skip row groups that do not hold v,
// where min/max statistics cannot tell (v between two values present). They
// are bloom filters, one per string tag column and row group, kept in the
// file's footer under tagFilterKey, so checking them costs no request
// beyond the footer that is read anyway. Parquet's own bloom filters were
// the first choice but live outside the footer (a ranged read per column
// and row group) and weigh at least a kilobyte each, more than the data of a
// row group of TSBS's tags.
//
// Value: base64 of
//
//	byte    version (1)
//	uvarint number of columns, then per column:
//	  uvarint length, name bytes
//	  uvarint number of row groups, then per row group:
//	    uvarint number of 64-bit words m (0: no filter, every value may occur)
//	    m little-endian uint64 words
//
// A value v is in a filter of n bits if bits (h1 + i·h2) mod n, i = 0..6,
// are all set, with h1, h2 the halves of murmur3's 64-bit hash of v. A
// filter has 10 bits per distinct value, at least 64, so about 1% false
// positives; a row group with more distinct values than maxFilterValues
// gets none.
const (
	tagFilterKey     = "horaedb.tag_filters"
	tagFilterVersion = 1
	filterHashes     = 7
	bitsPerValue     = 10
	maxFilterValues  = 1 << 14
)

// filterBuilder collects the distinct values of the tag columns of the row
// group being written.
type filterBuilder struct {
	cols     []int    // record column indices of string tags
	names    []string // their names
	groupLen int      // rows per row group
	rows     int      // rows seen in the current group
	distinct []map[uint64]struct{}
	last     []string // previous value per column: sorted data repeats
	hasLast  []bool
	done     [][][]uint64 // per column, per finished row group, the filter
}

func newFilterBuilder(cols []int, names []string, groupLen int) *filterBuilder {
	b := &filterBuilder{cols: cols, names: names, groupLen: groupLen,
		distinct: make([]map[uint64]struct{}, len(cols)), last: make([]string, len(cols)),
		hasLast: make([]bool, len(cols)), done: make([][][]uint64, len(cols))}
	for i := range b.distinct {
		b.distinct[i] = map[uint64]struct{}{}
	}
	return b
}

// add observes the rows of rec, which follow the rows seen before.
func (b *filterBuilder) add(rec arrow.RecordBatch) {
	n := int(rec.NumRows())
	for off := 0; off < n; {
		take := min(n-off, b.groupLen-b.rows)
		for i, c := range b.cols {
			col := rec.Column(c).(*array.String)
			for r := off; r < off+take; r++ {
				if col.IsNull(r) {
					continue
				}
				v := col.Value(r)
				if b.hasLast[i] && v == b.last[i] {
					continue
				}
				b.last[i], b.hasLast[i] = v, true
				if len(b.distinct[i]) <= maxFilterValues {
					b.distinct[i][murmur3.Hash64([]byte(v))] = struct{}{}
				}
			}
		}
		b.rows += take
		off += take
		if b.rows == b.groupLen {
			b.endGroup()
		}
	}
}

// endGroup builds the filters of the current row group.
func (b *filterBuilder) endGroup() {
	for i, d := range b.distinct {
		var words []uint64
		if len(d) <= maxFilterValues {
			words = make([]uint64, max(1, (len(d)*bitsPerValue+63)/64))
			n := uint64(len(words) * 64)
			for h := range d {
				h1, h2 := h&0xffffffff, h>>32
				for k := uint64(0); k < filterHashes; k++ {
					bit := (h1 + k*h2) % n
					words[bit/64] |= 1 << (bit % 64)
				}
			}
		}
		b.done[i] = append(b.done[i], words)
		b.distinct[i] = map[uint64]struct{}{}
		b.hasLast[i] = false
	}
	b.rows = 0
}

// encode finishes the last row group and returns the metadata value; it
// checks that the row groups counted match the file's.
func (b *filterBuilder) encode(rowGroups int) (string, error) {
	if b.rows > 0 {
		b.endGroup()
	}
	buf := []byte{tagFilterVersion}
	buf = binary.AppendUvarint(buf, uint64(len(b.cols)))
	for i, name := range b.names {
		if len(b.done[i]) != rowGroups {
			return "", fmt.Errorf("sst: tag filters cover %d row groups, the file has %d", len(b.done[i]), rowGroups)
		}
		buf = binary.AppendUvarint(buf, uint64(len(name)))
		buf = append(buf, name...)
		buf = binary.AppendUvarint(buf, uint64(len(b.done[i])))
		for _, words := range b.done[i] {
			buf = binary.AppendUvarint(buf, uint64(len(words)))
			for _, w := range words {
				buf = binary.LittleEndian.AppendUint64(buf, w)
			}
		}
	}
	return base64.StdEncoding.EncodeToString(buf), nil
}

// tagFilters are the decoded filters of a file: per column name, per row
// group, the words of the filter (nil: none).
type tagFilters map[string][][]uint64

var errBadFilters = errors.New("sst: malformed tag filters")

// decodeTagFilters parses the metadata value; a file without one has none.
func decodeTagFilters(v string, rowGroups int) (tagFilters, error) {
	buf, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(buf) == 0 || buf[0] != tagFilterVersion {
		return nil, errBadFilters
	}
	buf = buf[1:]
	next := func() (uint64, bool) {
		x, n := binary.Uvarint(buf)
		if n <= 0 {
			return 0, false
		}
		buf = buf[n:]
		return x, true
	}
	ncols, ok := next()
	if !ok || ncols > uint64(len(buf)) {
		return nil, errBadFilters
	}
	out := tagFilters{}
	for c := uint64(0); c < ncols; c++ {
		l, ok := next()
		if !ok || l > uint64(len(buf)) {
			return nil, errBadFilters
		}
		name := string(buf[:l])
		buf = buf[l:]
		ngroups, ok := next()
		if !ok || ngroups != uint64(rowGroups) {
			return nil, errBadFilters
		}
		groups := make([][]uint64, ngroups)
		for g := range groups {
			m, ok := next()
			if !ok || m > uint64(len(buf))/8 {
				return nil, errBadFilters
			}
			if m > 0 {
				words := make([]uint64, m)
				for i := range words {
					words[i] = binary.LittleEndian.Uint64(buf[8*i:])
				}
				groups[g] = words
				buf = buf[8*m:]
			}
		}
		out[name] = groups
	}
	if len(buf) != 0 {
		return nil, errBadFilters
	}
	return out, nil
}

// mayContain reports whether the filter of a column in a row group admits
// any of the string values; true when there is no filter.
func (f tagFilters) mayContain(col string, rowGroup int, values []any) bool {
	groups, ok := f[col]
	if !ok || rowGroup >= len(groups) || groups[rowGroup] == nil {
		return true
	}
	words := groups[rowGroup]
	n := uint64(len(words) * 64)
	for _, v := range values {
		s, ok := v.(string)
		if !ok {
			return true
		}
		h := murmur3.Hash64([]byte(s))
		h1, h2 := h&0xffffffff, h>>32
		in := true
		for k := uint64(0); k < filterHashes && in; k++ {
			bit := (h1 + k*h2) % n
			in = words[bit/64]&(1<<(bit%64)) != 0
		}
		if in {
			return true
		}
	}
	return false
}
