package local

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestDataKeyOrder(t *testing.T) {
	// Keys sort by (shard, seq), and a shard's span holds exactly its keys.
	keys := [][2]uint64{{0, 1}, {0, math.MaxUint64}, {1, 0}, {1, 256}, {256, 1}, {math.MaxUint32, 0}, {math.MaxUint32, math.MaxUint64}}
	var prev []byte
	for _, k := range keys {
		b := make([]byte, dataKeyLen)
		putDataKey(b, uint32(k[0]), k[1])
		if prev != nil && bytes.Compare(prev, b) >= 0 {
			t.Errorf("key %x does not sort after %x", b, prev)
		}
		prev = b
		lo, hi := shardSpan(prefixData, uint32(k[0]))
		if bytes.Compare(b, lo) < 0 || bytes.Compare(b, hi) >= 0 {
			t.Errorf("key %x outside its shard span [%x, %x)", b, lo, hi)
		}
		shard, seq, err := decodeDataKey(b)
		if err != nil || shard != uint32(k[0]) || seq != k[1] {
			t.Errorf("decodeDataKey(%x) = %d, %d, %v", b, shard, seq, err)
		}
	}
}

func TestValueRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		table   uint64
		payload []byte
	}{{0, nil}, {1, []byte("x")}, {300, bytes.Repeat([]byte("y"), 1000)}, {math.MaxUint64, []byte{0, 1}}} {
		v := make([]byte, valueLen(tc.table, len(tc.payload)))
		putValue(v, tc.table, tc.payload)
		table, payload, err := decodeValue(v)
		if err != nil || table != tc.table || !bytes.Equal(payload, tc.payload) {
			t.Errorf("decodeValue(putValue(%d, %q)) = %d, %q, %v", tc.table, tc.payload, table, payload, err)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	value := func(v ...byte) func() error {
		return func() error { _, _, err := decodeValue(v); return err }
	}
	markOf := func(v ...byte) func() error {
		return func() error { _, err := decodeMark(v); return err }
	}
	floor := func(v ...byte) func() error {
		return func() error { _, err := decodeFloor(v); return err }
	}
	dataKey := func(k ...byte) func() error {
		return func() error { _, _, err := decodeDataKey(k); return err }
	}
	for _, tc := range []struct {
		name   string
		decode func() error
	}{
		{"empty value", value()},
		{"unknown value kind", value(2, 1)},
		{"truncated table id", value(1, 0x80)},
		{"overlong table id", value(1, 0x80, 0x00)},
		{"empty mark", markOf()},
		{"unknown mark flag", markOf(2, 1)},
		{"mark with trailing bytes", markOf(0, 1, 0)},
		{"empty floor", floor()},
		{"floor with trailing bytes", floor(1, 1)},
		{"short data key", dataKey(prefixData, 0)},
		{"mark key as data key", dataKey(make([]byte, dataKeyLen)...)},
	} {
		if err := tc.decode(); !errors.Is(err, errDecode) {
			t.Errorf("%s: error %v, want errDecode", tc.name, err)
		}
	}
}

func FuzzDecodeValue(f *testing.F) {
	for _, seed := range [][]byte{nil, {1, 0}, {1, 42, 'h', 'i'}, {1, 0xac, 0x02}, {1, 0x80}, {2}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		table, payload, err := decodeValue(v)
		if err != nil {
			return
		}
		// What decodes is canonical: encoding it again gives the input.
		again := make([]byte, valueLen(table, len(payload)))
		putValue(again, table, payload)
		if !bytes.Equal(again, v) {
			t.Fatalf("decodeValue(%x) = %d, %x; encodes back to %x", v, table, payload, again)
		}
	})
}

func FuzzDecodeMark(f *testing.F) {
	for _, seed := range [][]byte{nil, {0, 0}, {1, 5}, {0, 0xff, 0x01}, {2, 0}, {0, 0x80, 0x00}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		m, err := decodeMark(v)
		if err != nil {
			return
		}
		if again := appendMark(nil, m); !bytes.Equal(again, v) {
			t.Fatalf("decodeMark(%x) = %+v; encodes back to %x", v, m, again)
		}
	})
}

func FuzzDecodeFloor(f *testing.F) {
	for _, seed := range [][]byte{nil, {0}, {5}, {0xff, 0x01}, {0x80}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		floor, err := decodeFloor(v)
		if err != nil {
			return
		}
		if again := appendFloor(nil, floor); !bytes.Equal(again, v) {
			t.Fatalf("decodeFloor(%x) = %d; encodes back to %x", v, floor, again)
		}
	})
}
