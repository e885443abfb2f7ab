package local

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Key and value encodings; FORMAT.md describes them for readers of the disk.

const (
	prefixData    byte = 'd' // 'd' | shard u32 BE | seq u64 BE -> value
	prefixFloor   byte = 'f' // 'f' | shard u32 BE              -> floor
	prefixMark    byte = 'm' // 'm' | shard u32 BE | table u64 BE -> mark
	prefixVersion byte = 'v' // 'v'                             -> format version

	dataKeyLen  = 1 + 4 + 8
	markKeyLen  = 1 + 4 + 8
	floorKeyLen = 1 + 4

	// formatVersion is stored under the version key of a new store. Open
	// refuses a store with another version.
	formatVersion byte = 1

	// valueKindRaw tags a data value whose payload is stored as given. Other
	// kinds (a compressed payload, say) can be added later.
	valueKindRaw byte = 1

	// markDropped is the mark flag of a dropped table; no other flag is
	// defined.
	markDropped byte = 1 << 0
)

// errDecode is wrapped, with wal.ErrCorrupt, by every decoding failure.
var errDecode = errors.New("undecodable")

var versionKey = []byte{prefixVersion}

// putDataKey writes the key of entry seq of shard into dst[:dataKeyLen].
func putDataKey(dst []byte, shard uint32, seq uint64) {
	dst[0] = prefixData
	binary.BigEndian.PutUint32(dst[1:5], shard)
	binary.BigEndian.PutUint64(dst[5:13], seq)
}

// decodeDataKey returns the shard and sequence of a data key.
func decodeDataKey(k []byte) (shard uint32, seq uint64, err error) {
	if len(k) != dataKeyLen || k[0] != prefixData {
		return 0, 0, fmt.Errorf("%w: data key %x", errDecode, k)
	}
	return binary.BigEndian.Uint32(k[1:5]), binary.BigEndian.Uint64(k[5:13]), nil
}

// shardSpan returns the bounds [lo, hi) of the keys with the given prefix
// of one shard: data keys for prefixData, marks for prefixMark.
func shardSpan(prefix byte, shard uint32) (lo, hi []byte) {
	lo = []byte{prefix, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(lo[1:], shard)
	if shard == math.MaxUint32 {
		return lo, []byte{prefix + 1}
	}
	hi = []byte{prefix, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hi[1:], shard+1)
	return lo, hi
}

// putMarkKey writes the mark key of a table of a shard into dst[:markKeyLen].
func putMarkKey(dst []byte, shard uint32, table uint64) {
	dst[0] = prefixMark
	binary.BigEndian.PutUint32(dst[1:5], shard)
	binary.BigEndian.PutUint64(dst[5:13], table)
}

// decodeMarkKey returns the shard and table of a mark key.
func decodeMarkKey(k []byte) (shard uint32, table uint64, err error) {
	if len(k) != markKeyLen || k[0] != prefixMark {
		return 0, 0, fmt.Errorf("%w: mark key %x", errDecode, k)
	}
	return binary.BigEndian.Uint32(k[1:5]), binary.BigEndian.Uint64(k[5:13]), nil
}

func floorKey(shard uint32) []byte {
	k := make([]byte, floorKeyLen)
	k[0] = prefixFloor
	binary.BigEndian.PutUint32(k[1:], shard)
	return k
}

// valueLen is the encoded length of the value of an entry.
func valueLen(table uint64, payloadLen int) int {
	return 1 + uvarintLen(table) + payloadLen
}

// putValue writes the value of an entry into dst, which must be exactly
// valueLen(table, len(payload)) bytes long.
func putValue(dst []byte, table uint64, payload []byte) {
	dst[0] = valueKindRaw
	n := binary.PutUvarint(dst[1:], table)
	copy(dst[1+n:], payload)
}

// decodeValue splits the value of an entry into its table id and payload.
// The payload aliases v.
func decodeValue(v []byte) (table uint64, payload []byte, err error) {
	if len(v) == 0 || v[0] != valueKindRaw {
		return 0, nil, fmt.Errorf("%w: value kind %x", errDecode, v[:min(len(v), 1)])
	}
	table, n, err := uvarint(v[1:])
	if err != nil {
		return 0, nil, fmt.Errorf("table id: %w", err)
	}
	return table, v[1+n:], nil
}

// mark is a table's truncation mark in a shard log: entries of the table
// with seq < below are dead. A dropped table keeps its mark (so that entries
// not yet deleted stay dead) until the shard's data below it is deleted.
type mark struct {
	below   uint64
	dropped bool
}

// appendMark appends the encoding of m to dst.
func appendMark(dst []byte, m mark) []byte {
	var flags byte
	if m.dropped {
		flags |= markDropped
	}
	dst = append(dst, flags)
	return binary.AppendUvarint(dst, m.below)
}

// decodeMark decodes a mark value.
func decodeMark(v []byte) (mark, error) {
	if len(v) == 0 || v[0]&^markDropped != 0 {
		return mark{}, fmt.Errorf("%w: mark flags %x", errDecode, v[:min(len(v), 1)])
	}
	below, n, err := uvarint(v[1:])
	if err != nil {
		return mark{}, fmt.Errorf("mark: %w", err)
	}
	if 1+n != len(v) {
		return mark{}, fmt.Errorf("%w: %d trailing bytes after mark", errDecode, len(v)-1-n)
	}
	return mark{below: below, dropped: v[0]&markDropped != 0}, nil
}

// appendFloor appends the encoding of a shard's sequence floor to dst.
func appendFloor(dst []byte, floor uint64) []byte {
	return binary.AppendUvarint(dst, floor)
}

// decodeFloor decodes a floor value.
func decodeFloor(v []byte) (uint64, error) {
	floor, n, err := uvarint(v)
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	if n != len(v) {
		return 0, fmt.Errorf("%w: %d trailing bytes after floor", errDecode, len(v)-n)
	}
	return floor, nil
}

// uvarint decodes a canonical (shortest) uvarint from the start of b.
func uvarint(b []byte) (uint64, int, error) {
	x, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, fmt.Errorf("%w: bad uvarint", errDecode)
	}
	if n != uvarintLen(x) {
		return 0, 0, fmt.Errorf("%w: overlong uvarint", errDecode)
	}
	return x, n, nil
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
