package kafka

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/format.golden")

// TestFormatGolden pins the bytes of every record kind (FORMAT.md
// describes them): a change of the encoding shows up as a diff of
// testdata/format.golden (go test -run TestFormatGolden -update).
func TestFormatGolden(t *testing.T) {
	body := appendBodyEntry(nil, 42, []byte("a"))
	body = appendBodyEntry(body, 300, nil)
	cases := []struct {
		name  string
		value []byte
	}{
		{"data: epoch 5, Append of seqs 7-8 (tables 42 \"a\", 300 \"\"), part 0 of 1",
			append(appendDataHeader(nil, dataHeader{epoch: 5, first: 7, count: 2, part: 0, parts: 1}), body...)},
		{"data: part 1 of 3 of an Append at seq 128", append(appendDataHeader(nil, dataHeader{epoch: 1, first: 128, count: 1, part: 1, parts: 3}), "chunk"...)},
		{"barrier", appendBarrier(nil)},
		{"fence: epoch 5, next 9", appendFence(nil, 5, 9)},
		{"meta epoch 5", appendEpoch(nil, 5)},
		{"meta mark: epoch 5, table 42 below 7", appendMark(nil, 5, 42, mark{below: 7})},
		{"meta mark: epoch 5, table 300 dropped below 9", appendMark(nil, 5, 300, mark{below: 9, dropped: true})},
		{"meta purged: epoch 5, below 7", appendPurged(nil, 5, 7)},
		{"meta snapshot: epoch 5, purged 7, tables 42 and 300, epochs 1 and 5",
			appendSnapshot(nil, 5, 7, map[uint64]mark{300: {below: 9, dropped: true}, 42: {below: 7}}, []uint64{1, 5})},
	}
	var b strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&b, "%s\n  %s\n", c.name, hex.EncodeToString(c.value))
		// Every value decodes back.
		var err error
		if strings.HasPrefix(c.name, "meta") {
			_, err = decodeMeta(c.value)
		} else {
			_, err = decodeData(c.value)
		}
		if err != nil {
			t.Errorf("%s: decode: %v", c.name, err)
		}
	}
	path := filepath.Join("testdata", "format.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Fatalf("encoding changed; if on purpose, bump formatVersion, update FORMAT.md and run -update.\ngot:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	h := dataHeader{epoch: 3, first: 1 << 40, count: 3, part: 2, parts: 5}
	r, err := decodeData(append(appendDataHeader(nil, h), "xyz"...))
	if err != nil || r.kind != kindData || r.hdr != h || string(r.body) != "xyz" {
		t.Fatalf("data: %+v %v", r, err)
	}
	body := appendBodyEntry(nil, 1, []byte("one"))
	body = appendBodyEntry(body, 1<<63, []byte{})
	var got []string
	if err := decodeBody(body, 2, func(i, table uint64, p []byte) { got = append(got, fmt.Sprintf("%d:%d:%s", i, table, p)) }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{"0:1:one", fmt.Sprintf("1:%d:", uint64(1<<63))}) {
		t.Fatalf("body: %q", got)
	}
	m, err := decodeMeta(appendSnapshot(nil, 9, 4, map[uint64]mark{1: {below: 4}, 2: {below: 8, dropped: true}}, []uint64{2, 9}))
	if err != nil || m.epoch != 9 || m.purged != 4 || len(m.marks) != 2 || m.marks[1].mark != (mark{8, true}) ||
		fmt.Sprint(m.epochs) != "[2 9]" {
		t.Fatalf("snapshot: %+v %v", m, err)
	}
}

// TestDecodeRejects checks that malformed values are errors, never
// panics or silent garbage.
func TestDecodeRejects(t *testing.T) {
	body := appendBodyEntry(nil, 1, []byte("one"))
	for _, tc := range []struct {
		name string
		meta bool
		v    []byte
		body bool // decode as a body of 1 entry
	}{
		{name: "empty", v: nil},
		{name: "version", v: []byte{2, kindData}},
		{name: "kind", v: []byte{formatVersion, 9}},
		{name: "data without header", v: []byte{formatVersion, kindData, 1}},
		{name: "data first 0", v: appendDataHeader(nil, dataHeader{epoch: 1, first: 0, count: 1, parts: 1})},
		{name: "data count 0", v: appendDataHeader(nil, dataHeader{epoch: 1, first: 1, count: 0, parts: 1})},
		{name: "data part out of range", v: appendDataHeader(nil, dataHeader{epoch: 1, first: 1, count: 1, part: 1, parts: 1})},
		{name: "data overflow", v: appendDataHeader(nil, dataHeader{epoch: 1, first: 1<<64 - 1, count: 2, parts: 1})},
		{name: "long varint", v: []byte{formatVersion, kindFence, 0x81, 0x00, 1}},
		{name: "fence next 0", v: appendFence(nil, 1, 0)},
		{name: "barrier trailing", v: append(appendBarrier(nil), 0)},
		{name: "mark flags", meta: true, v: append(appendMark(nil, 1, 2, mark{below: 3})[:5], 2)},
		{name: "mark trailing", meta: true, v: append(appendMark(nil, 1, 2, mark{below: 3}), 0)},
		{name: "snapshot count", meta: true, v: []byte{formatVersion, kindSnapshot, 1, 1, 100}},
		{name: "snapshot epochs decreasing", meta: true, v: appendSnapshot(nil, 1, 1, nil, []uint64{5, 3})},
		{name: "body short", body: true, v: body[:len(body)-1]},
		{name: "body trailing", body: true, v: append(body, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			switch {
			case tc.body:
				err = decodeBody(tc.v, 1, func(uint64, uint64, []byte) {})
			case tc.meta:
				_, err = decodeMeta(tc.v)
			default:
				_, err = decodeData(tc.v)
			}
			if err == nil {
				t.Fatalf("%x decoded without error", tc.v)
			}
		})
	}
}

func FuzzDecodeData(f *testing.F) {
	f.Add(append(appendDataHeader(nil, dataHeader{epoch: 1, first: 1, count: 1, parts: 1}), appendBodyEntry(nil, 1, []byte("x"))...))
	f.Add(appendFence(nil, 1, 2))
	f.Add(appendBarrier(nil))
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeData(v)
		if err != nil || r.kind != kindData {
			return
		}
		if r.hdr.parts == 1 {
			_ = decodeBody(r.body, min(r.hdr.count, 1<<16), func(_, _ uint64, p []byte) { _ = len(p) })
		}
	})
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(appendMark(nil, 1, 2, mark{below: 3, dropped: true}))
	f.Add(appendPurged(nil, 1, 2))
	f.Add(appendEpoch(nil, 4))
	f.Add(appendSnapshot(nil, 1, 2, map[uint64]mark{3: {below: 4}}, []uint64{1}))
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeMeta(v)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes.
		var again []byte
		switch r.kind {
		case kindMark:
			again = appendMark(nil, r.epoch, r.marks[0].table, r.marks[0].mark)
		case kindPurged:
			again = appendPurged(nil, r.epoch, r.purged)
		case kindEpoch:
			again = appendEpoch(nil, r.epoch)
		case kindSnapshot:
			marks := map[uint64]mark{}
			for _, e := range r.marks {
				marks[e.table] = e.mark
			}
			if len(marks) != len(r.marks) {
				return // duplicate tables: the map form cannot say it
			}
			again = appendSnapshot(nil, r.epoch, r.purged, marks, r.epochs)
			if string(again) != string(v) {
				// Unsorted tables re-encode sorted.
				return
			}
		}
		if string(again) != string(v) {
			t.Fatalf("%x decoded to %+v, re-encodes to %x", v, r, again)
		}
	})
}

func TestOffsetIndex(t *testing.T) {
	var x offsetIndex
	for off := int64(0); off < 1000; off += 10 {
		x.add(off, uint64(off)*2+1)
	}
	for _, tc := range []struct {
		seq  uint64
		want int64
	}{
		{0, -1}, {1, 0}, {2, 0}, {1999, 990}, {1 << 40, 990}, {100, 40},
	} {
		got := x.seek(tc.seq)
		// Points are spaced: the result is at or before the exact one,
		// within indexSpacing.
		exact := tc.want
		if got > exact || (exact >= 0 && exact-got > indexSpacing) || (exact < 0 && got != -1) {
			t.Errorf("seek(%d) = %d, want %d or up to %d before", tc.seq, got, exact, indexSpacing)
		}
	}
	x.dropBelow(500)
	if got := x.seek(1); got != -1 {
		t.Errorf("after dropBelow(500), seek(1) = %d, want -1", got)
	}
	if got := x.seek(1999); got != 990 {
		t.Errorf("after dropBelow(500), seek(1999) = %d, want 990 (the newest point is kept)", got)
	}
	// Older points are inserted in order.
	x.add(100, 201)
	if got := x.seek(250); got != 100 {
		t.Errorf("seek after inserting an older point = %d, want 100", got)
	}
}
