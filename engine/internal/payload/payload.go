// Package payload encodes a table's write batch (an Arrow record in schema
// order) into the bytes of a WAL entry and back. The format is documented in
// engine/docs/format/wal-payload.md.
package payload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/engine/schema"
)

// ErrCorrupt is returned for bytes that are not a valid payload.
var ErrCorrupt = errors.New("payload: corrupt")

const version1 = 1

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// width returns the byte width of fixed-width kinds, 0 otherwise.
func width(k schema.Kind) int {
	switch k {
	case schema.Timestamp, schema.Double, schema.UInt64, schema.Int64, schema.Time:
		return 8
	case schema.Float, schema.UInt32, schema.Int32, schema.Date:
		return 4
	case schema.UInt16, schema.Int16:
		return 2
	case schema.UInt8, schema.Int8:
		return 1
	}
	return 0
}

// Encode appends the encoding of rec, whose first len(s.Columns) columns are
// in the order of s, to dst.
func Encode(dst []byte, s *schema.Schema, rec arrow.RecordBatch) []byte {
	start := len(dst)
	n := int(rec.NumRows())
	dst = append(dst, version1)
	dst = binary.AppendUvarint(dst, uint64(s.Version))
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendUvarint(dst, uint64(len(s.Columns)))
	for i, c := range s.Columns {
		arr := rec.Column(i)
		dst = binary.AppendUvarint(dst, uint64(c.ID))
		dst = append(dst, byte(c.Kind))
		if c.Kind == schema.Null {
			dst = append(dst, 0)
			continue
		}
		if arr.NullN() > 0 {
			dst = append(dst, 1)
			dst = appendBitmap(dst, n, arr.IsValid)
		} else {
			dst = append(dst, 0)
		}
		dst = appendValues(dst, c.Kind, arr)
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
}

func appendBitmap(dst []byte, n int, bit func(int) bool) []byte {
	nb := bitutil.BytesForBits(int64(n))
	off := len(dst)
	dst = append(dst, make([]byte, nb)...)
	bm := dst[off:]
	for i := 0; i < n; i++ {
		if bit(i) {
			bitutil.SetBit(bm, i)
		}
	}
	return dst
}

func appendValues(dst []byte, k schema.Kind, arr arrow.Array) []byte {
	n := arr.Len()
	if n == 0 {
		if k == schema.String || k == schema.Varbinary {
			dst = binary.LittleEndian.AppendUint32(dst, 0) // the one offset
		}
		return dst
	}
	if w := width(k); w > 0 {
		data := arr.Data()
		buf := data.Buffers()[1].Bytes()
		off := data.Offset() * w
		return append(dst, buf[off:off+n*w]...)
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return appendBitmap(dst, n, a.Value)
	case *array.String:
		return appendVarlen(dst, a.ValueOffsets(), a.ValueBytes())
	case *array.Binary:
		return appendVarlen(dst, a.ValueOffsets(), a.ValueBytes())
	}
	panic(fmt.Sprintf("payload: unsupported array %T for kind %s", arr, k))
}

// appendVarlen writes n+1 offsets rebased to 0, then the value bytes.
// ValueBytes of a sliced array starts at the slice's first value.
func appendVarlen(dst []byte, offs []int32, vals []byte) []byte {
	base := offs[0]
	for _, o := range offs {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(o-base))
	}
	return append(dst, vals[:offs[len(offs)-1]-base]...)
}

// Header is what Decode reports besides the record.
type Header struct {
	SchemaVersion uint32
	Rows          int
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("truncated: need %d bytes, have %d", n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// Decode decodes data into a record with the columns of s, in order.
// Columns missing from data (added after it was written) are null; columns
// of data unknown to s are skipped. The record does not alias data.
func Decode(data []byte, s *schema.Schema, mem memory.Allocator) (arrow.RecordBatch, Header, error) {
	var h Header
	if len(data) < 5 {
		return nil, h, fmt.Errorf("%w: too short (%d bytes)", ErrCorrupt, len(data))
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, h, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	r := &reader{b: body}
	if v := r.bytes(1); r.err == nil && v[0] != version1 {
		return nil, h, fmt.Errorf("%w: unknown version %d", ErrCorrupt, v[0])
	}
	h.SchemaVersion = uint32(r.uvarint())
	rows := r.uvarint()
	ncols := r.uvarint()
	if r.err == nil && (rows > uint64(len(body))*8 || ncols > uint64(len(body))) {
		r.fail("implausible size: %d rows, %d columns in %d bytes", rows, ncols, len(body))
	}
	if r.err != nil {
		return nil, h, r.err
	}
	h.Rows = int(rows)
	n := h.Rows
	cols := make([]arrow.Array, len(s.Columns))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for c := uint64(0); c < ncols && r.err == nil; c++ {
		id := uint32(r.uvarint())
		kb := r.bytes(1)
		nb := r.bytes(1)
		if r.err != nil {
			break
		}
		kind := schema.Kind(kb[0])
		var validity []byte
		if nb[0] == 1 {
			validity = r.bytes(int(bitutil.BytesForBits(int64(n))))
		} else if nb[0] != 0 {
			r.fail("bad null flag %d", nb[0])
		}
		arr := readValues(r, kind, n, validity, mem)
		if r.err != nil {
			break
		}
		idx := -1
		for i, col := range s.Columns {
			if col.ID == id {
				idx = i
				break
			}
		}
		switch {
		case idx < 0:
			arr.Release() // a column the schema no longer has
		case s.Columns[idx].Kind != kind:
			arr.Release()
			r.fail("column %s: stored kind %s, schema says %s", s.Columns[idx].Name, kind, s.Columns[idx].Kind)
		case cols[idx] != nil:
			arr.Release()
			r.fail("column id %d appears twice", id)
		default:
			cols[idx] = arr
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, h, r.err
	}
	for i, c := range s.Columns {
		if cols[i] == nil {
			cols[i] = array.MakeArrayOfNull(mem, c.Kind.ArrowType(), n)
		}
	}
	rec := array.NewRecordBatch(s.ArrowSchema(), cols, int64(n))
	return rec, h, nil
}

func readValues(r *reader, k schema.Kind, n int, validity []byte, mem memory.Allocator) arrow.Array {
	if !k.Valid() {
		r.fail("unknown kind %d", uint8(k))
		return nil
	}
	nulls := 0
	var vbuf *memory.Buffer
	if validity != nil {
		nulls = n - bitutil.CountSetBits(validity, 0, n)
		vbuf = memory.NewBufferBytes(append([]byte(nil), validity...))
	}
	typ := k.ArrowType()
	if k == schema.Null {
		return array.NewNull(n)
	}
	if w := width(k); w > 0 {
		vals := r.bytes(n * w)
		if r.err != nil {
			return nil
		}
		data := array.NewData(typ, n, []*memory.Buffer{vbuf, memory.NewBufferBytes(append([]byte(nil), vals...))}, nil, nulls, 0)
		defer data.Release()
		return array.MakeFromData(data)
	}
	switch k {
	case schema.Boolean:
		vals := r.bytes(int(bitutil.BytesForBits(int64(n))))
		if r.err != nil {
			return nil
		}
		data := array.NewData(typ, n, []*memory.Buffer{vbuf, memory.NewBufferBytes(append([]byte(nil), vals...))}, nil, nulls, 0)
		defer data.Release()
		return array.MakeFromData(data)
	case schema.String, schema.Varbinary:
		offs := r.bytes((n + 1) * 4)
		if r.err != nil {
			return nil
		}
		prev := uint32(0)
		for i := 0; i <= n; i++ {
			o := binary.LittleEndian.Uint32(offs[i*4:])
			if (i == 0 && o != 0) || o < prev {
				r.fail("bad string offsets")
				return nil
			}
			prev = o
		}
		vals := r.bytes(int(prev))
		if r.err != nil {
			return nil
		}
		data := array.NewData(typ, n, []*memory.Buffer{vbuf,
			memory.NewBufferBytes(append([]byte(nil), offs...)),
			memory.NewBufferBytes(append([]byte(nil), vals...))}, nil, nulls, 0)
		defer data.Release()
		if k == schema.String {
			// Validate UTF-8 lazily is arrow's business; we only guarantee bounds.
			return array.NewStringData(data)
		}
		return array.NewBinaryData(data)
	}
	r.fail("unsupported kind %s", k)
	return nil
}

func crc32Of(b []byte) uint32 { return crc32.Checksum(b, crcTable) }
