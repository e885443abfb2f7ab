package schema

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/horaego/horaedb/internal/murmur3"
)

// Flags of HoraeDB's memcompact encoding, which the tsid hash is computed
// over (reference §1.11).
const (
	flagBytes   = 0x02
	flagFloat   = 0x05
	flagVarint  = 0x08
	flagUvarint = 0x09
)

// TsidHasher computes the tsid of rows: murmur3 x64_128 (seed 0, low 64
// bits) over, for each non-null tag in column order, memcompact(UInt64(column
// id)) followed by memcompact(value). No tags gives 0. It reuses a buffer, so
// one hasher must not be used concurrently.
type TsidHasher struct {
	tags []tagCol
	buf  []byte
}

type tagCol struct {
	id  uint32
	arr arrow.Array
}

// NewTsidHasher returns a hasher for rows of record rec, whose columns are
// in the order of s (rec may carry extra trailing columns).
func NewTsidHasher(s *Schema, rec arrow.RecordBatch) *TsidHasher {
	h := &TsidHasher{}
	for i, c := range s.Columns {
		if c.IsTag {
			h.tags = append(h.tags, tagCol{id: c.ID, arr: rec.Column(i)})
		}
	}
	return h
}

// Tsid returns the tsid of row i.
func (h *TsidHasher) Tsid(i int) uint64 {
	if len(h.tags) == 0 {
		return 0
	}
	buf := h.buf[:0]
	for _, t := range h.tags {
		if t.arr.IsNull(i) {
			continue
		}
		buf = append(buf, flagUvarint)
		buf = binary.AppendUvarint(buf, uint64(t.id))
		buf = appendMemcompact(buf, t.arr, i)
	}
	h.buf = buf
	return murmur3.Hash64(buf)
}

func appendZigzag(buf []byte, v int64) []byte {
	return binary.AppendUvarint(buf, uint64((v<<1)^(v>>63)))
}

func appendMemcompact(buf []byte, arr arrow.Array, i int) []byte {
	switch a := arr.(type) {
	case *array.String:
		s := a.Value(i)
		buf = append(buf, flagBytes)
		buf = appendZigzag(buf, int64(len(s)))
		return append(buf, s...)
	case *array.Binary:
		s := a.Value(i)
		buf = append(buf, flagBytes)
		buf = appendZigzag(buf, int64(len(s)))
		return append(buf, s...)
	case *array.Int64:
		return appendZigzag(append(buf, flagVarint), a.Value(i))
	case *array.Int32:
		return appendZigzag(append(buf, flagVarint), int64(a.Value(i)))
	case *array.Int16:
		return appendZigzag(append(buf, flagVarint), int64(a.Value(i)))
	case *array.Int8:
		return appendZigzag(append(buf, flagVarint), int64(a.Value(i)))
	case *array.Timestamp:
		return appendZigzag(append(buf, flagVarint), int64(a.Value(i)))
	case *array.Date32:
		return appendZigzag(append(buf, flagVarint), int64(a.Value(i)))
	case *array.Time64:
		return appendZigzag(append(buf, flagVarint), int64(a.Value(i)))
	case *array.Uint64:
		return binary.AppendUvarint(append(buf, flagUvarint), a.Value(i))
	case *array.Uint32:
		return binary.AppendUvarint(append(buf, flagUvarint), uint64(a.Value(i)))
	case *array.Uint16:
		return binary.AppendUvarint(append(buf, flagUvarint), uint64(a.Value(i)))
	case *array.Uint8:
		return binary.AppendUvarint(append(buf, flagUvarint), uint64(a.Value(i)))
	case *array.Boolean:
		v := uint64(0)
		if a.Value(i) {
			v = 1
		}
		return binary.AppendUvarint(append(buf, flagUvarint), v)
	case *array.Float64:
		return binary.BigEndian.AppendUint64(append(buf, flagFloat), math.Float64bits(a.Value(i)))
	case *array.Float32:
		return binary.BigEndian.AppendUint32(append(buf, flagFloat), math.Float32bits(a.Value(i)))
	}
	return buf
}
