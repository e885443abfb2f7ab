package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Record values. FORMAT.md describes them; TestFormatGolden pins them.

// formatVersion is the first byte of every record value we write.
const formatVersion = 1

// Kinds of data topic records (second byte).
const (
	kindData    = 1 // one Append, or one part of a large one
	kindFence   = 2 // written by OpenLog after the barrier: the next sequence
	kindBarrier = 3 // written first by OpenLog: its offset starts an epoch
)

// Kinds of meta topic records (second byte).
const (
	kindMark     = 1 // one table's truncation mark
	kindPurged   = 2 // the shard's purge floor
	kindSnapshot = 3 // the purge floor, every mark and epoch; replaces all before it
	kindEpoch    = 4 // an epoch started: the offset of its barrier
)

// markDropped is bit 0 of a mark's flags.
const markDropped = 1

// maxHeaderLen bounds the header of a data record: version, kind and five
// uvarints.
const maxHeaderLen = 2 + 5*binary.MaxVarintLen64

var errShort = errors.New("record too short")

// dataHeader heads a data record: the writer's epoch, the Append's first
// sequence and entry count, and which part of the Append's body the record
// carries.
type dataHeader struct {
	epoch        uint64
	first, count uint64
	part, parts  uint64
}

// next returns the sequence after the Append.
func (h dataHeader) next() uint64 { return h.first + h.count }

func appendDataHeader(dst []byte, h dataHeader) []byte {
	dst = append(dst, formatVersion, kindData)
	dst = binary.AppendUvarint(dst, h.epoch)
	dst = binary.AppendUvarint(dst, h.first)
	dst = binary.AppendUvarint(dst, h.count)
	dst = binary.AppendUvarint(dst, h.part)
	return binary.AppendUvarint(dst, h.parts)
}

// appendBodyEntry appends one entry to an Append's body.
func appendBodyEntry(dst []byte, table uint64, payload []byte) []byte {
	dst = binary.AppendUvarint(dst, table)
	dst = binary.AppendUvarint(dst, uint64(len(payload)))
	return append(dst, payload...)
}

// bodyEntryLen is the encoded length of one entry in a body.
func bodyEntryLen(table uint64, n int) int {
	return uvarintLen(table) + uvarintLen(uint64(n)) + n
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// record is a decoded record value of either topic.
type record struct {
	kind byte
	// kindData
	hdr  dataHeader
	body []byte // aliases the value
	// kindFence, kindMark, kindPurged, kindSnapshot: the writer's epoch;
	// kindEpoch: the epoch started
	epoch uint64
	// kindFence
	next uint64
	// kindPurged, kindSnapshot
	purged uint64
	// kindMark, kindSnapshot
	marks []markEntry
	// kindSnapshot
	epochs []uint64
}

type markEntry struct {
	table uint64
	mark  mark
}

// decodeData decodes a record of the data topic.
func decodeData(v []byte) (record, error) {
	kind, rest, err := versionAndKind(v)
	if err != nil {
		return record{}, err
	}
	var r record
	r.kind = kind
	switch kind {
	case kindData:
		var h dataHeader
		for _, p := range []*uint64{&h.epoch, &h.first, &h.count, &h.part, &h.parts} {
			if *p, rest, err = uvarint(rest); err != nil {
				return record{}, err
			}
		}
		switch {
		case h.first == 0 || h.count == 0:
			return record{}, fmt.Errorf("data record with first %d count %d", h.first, h.count)
		case h.first > math.MaxUint64-h.count:
			return record{}, fmt.Errorf("data record sequences %d+%d overflow", h.first, h.count)
		case h.parts == 0 || h.part >= h.parts:
			return record{}, fmt.Errorf("data record part %d of %d", h.part, h.parts)
		}
		r.hdr, r.body = h, rest
	case kindFence:
		if r.epoch, rest, err = uvarint(rest); err != nil {
			return record{}, err
		}
		if r.next, rest, err = uvarint(rest); err != nil {
			return record{}, err
		}
		if r.next == 0 {
			return record{}, errors.New("fence record with next sequence 0")
		}
		if len(rest) != 0 {
			return record{}, fmt.Errorf("fence record with %d trailing bytes", len(rest))
		}
	case kindBarrier:
		if len(rest) != 0 {
			return record{}, fmt.Errorf("barrier record with %d trailing bytes", len(rest))
		}
	default:
		return record{}, fmt.Errorf("unknown data record kind %d", kind)
	}
	return r, nil
}

// decodeBody calls fn for every entry of an Append's complete body, which
// must hold exactly count entries. Payloads alias body.
func decodeBody(body []byte, count uint64, fn func(i uint64, table uint64, payload []byte)) error {
	var err error
	for i := range count {
		var table, n uint64
		if table, body, err = uvarint(body); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if n, body, err = uvarint(body); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if n > uint64(len(body)) {
			return fmt.Errorf("entry %d: payload of %d bytes, %d left: %w", i, n, len(body), errShort)
		}
		fn(i, table, body[:n:n])
		body = body[n:]
	}
	if len(body) != 0 {
		return fmt.Errorf("%d bytes after the last of %d entries", len(body), count)
	}
	return nil
}

func appendFence(dst []byte, epoch, next uint64) []byte {
	dst = append(dst, formatVersion, kindFence)
	dst = binary.AppendUvarint(dst, epoch)
	return binary.AppendUvarint(dst, next)
}

func appendBarrier(dst []byte) []byte {
	return append(dst, formatVersion, kindBarrier)
}

func appendMark(dst []byte, epoch, table uint64, m mark) []byte {
	dst = append(dst, formatVersion, kindMark)
	dst = binary.AppendUvarint(dst, epoch)
	return appendMarkEntry(dst, table, m)
}

func appendEpoch(dst []byte, epoch uint64) []byte {
	dst = append(dst, formatVersion, kindEpoch)
	return binary.AppendUvarint(dst, epoch)
}

func appendMarkEntry(dst []byte, table uint64, m mark) []byte {
	dst = binary.AppendUvarint(dst, table)
	dst = binary.AppendUvarint(dst, m.below)
	var flags byte
	if m.dropped {
		flags |= markDropped
	}
	return append(dst, flags)
}

func appendPurged(dst []byte, epoch, purged uint64) []byte {
	dst = append(dst, formatVersion, kindPurged)
	dst = binary.AppendUvarint(dst, epoch)
	return binary.AppendUvarint(dst, purged)
}

func appendSnapshot(dst []byte, epoch, purged uint64, marks map[uint64]mark, epochs []uint64) []byte {
	dst = append(dst, formatVersion, kindSnapshot)
	dst = binary.AppendUvarint(dst, epoch)
	dst = binary.AppendUvarint(dst, purged)
	dst = binary.AppendUvarint(dst, uint64(len(marks)))
	for _, table := range sortedTables(marks) {
		dst = appendMarkEntry(dst, table, marks[table])
	}
	dst = binary.AppendUvarint(dst, uint64(len(epochs)))
	for _, e := range epochs {
		dst = binary.AppendUvarint(dst, e)
	}
	return dst
}

// decodeMeta decodes a record of the meta topic.
func decodeMeta(v []byte) (record, error) {
	kind, rest, err := versionAndKind(v)
	if err != nil {
		return record{}, err
	}
	r := record{kind: kind}
	if r.epoch, rest, err = uvarint(rest); err != nil {
		return record{}, err
	}
	switch kind {
	case kindEpoch:
	case kindMark:
		var e markEntry
		if e, rest, err = decodeMarkEntry(rest); err != nil {
			return record{}, err
		}
		r.marks = []markEntry{e}
	case kindPurged:
		if r.purged, rest, err = uvarint(rest); err != nil {
			return record{}, err
		}
	case kindSnapshot:
		var n uint64
		if r.purged, rest, err = uvarint(rest); err != nil {
			return record{}, err
		}
		if n, rest, err = uvarint(rest); err != nil {
			return record{}, err
		}
		if n > uint64(len(rest))/3 { // an entry takes at least 3 bytes
			return record{}, fmt.Errorf("snapshot of %d marks in %d bytes: %w", n, len(rest), errShort)
		}
		r.marks = make([]markEntry, n)
		for i := range r.marks {
			if r.marks[i], rest, err = decodeMarkEntry(rest); err != nil {
				return record{}, fmt.Errorf("mark %d: %w", i, err)
			}
		}
		if n, rest, err = uvarint(rest); err != nil {
			return record{}, err
		}
		if n > uint64(len(rest)) {
			return record{}, fmt.Errorf("snapshot of %d epochs in %d bytes: %w", n, len(rest), errShort)
		}
		r.epochs = make([]uint64, n)
		for i := range r.epochs {
			if r.epochs[i], rest, err = uvarint(rest); err != nil {
				return record{}, fmt.Errorf("epoch %d: %w", i, err)
			}
			if i > 0 && r.epochs[i] <= r.epochs[i-1] {
				return record{}, fmt.Errorf("snapshot epochs not increasing: %d after %d", r.epochs[i], r.epochs[i-1])
			}
		}
	default:
		return record{}, fmt.Errorf("unknown meta record kind %d", kind)
	}
	if len(rest) != 0 {
		return record{}, fmt.Errorf("meta record kind %d with %d trailing bytes", kind, len(rest))
	}
	return r, nil
}

func decodeMarkEntry(b []byte) (markEntry, []byte, error) {
	var e markEntry
	var err error
	if e.table, b, err = uvarint(b); err != nil {
		return e, nil, err
	}
	if e.mark.below, b, err = uvarint(b); err != nil {
		return e, nil, err
	}
	if len(b) == 0 {
		return e, nil, fmt.Errorf("mark flags: %w", errShort)
	}
	if b[0]&^markDropped != 0 {
		return e, nil, fmt.Errorf("mark flags %#x: unknown bits", b[0])
	}
	e.mark.dropped = b[0]&markDropped != 0
	return e, b[1:], nil
}

func versionAndKind(v []byte) (byte, []byte, error) {
	if len(v) < 2 {
		return 0, nil, errShort
	}
	if v[0] != formatVersion {
		return 0, nil, fmt.Errorf("format version %d, want %d", v[0], formatVersion)
	}
	return v[1], v[2:], nil
}

// uvarint decodes a uvarint in its shortest form.
func uvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	switch {
	case n == 0:
		return 0, nil, errShort
	case n < 0:
		return 0, nil, errors.New("uvarint overflows 64 bits")
	case n != uvarintLen(v):
		return 0, nil, errors.New("uvarint not in its shortest form")
	}
	return v, b[n:], nil
}
