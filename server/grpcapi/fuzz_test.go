package grpcapi

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/proto/storagepb"
)

// FuzzWriteTables decodes arbitrary bytes as a WriteRequest and converts
// it: no panic, the row count is the number of FieldGroups, and every cell
// of a converted request refers to a named column.
func FuzzWriteTables(f *testing.F) {
	seed, _ := proto.Marshal(writeRequest("t", point{ts: 1, tags: map[string]string{"h": "a"}, fields: everyType()}))
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var req storagepb.WriteRequest
		if err := proto.Unmarshal(data, &req); err != nil {
			return
		}
		tables, rows, err := WriteTables(&req)
		if rows != countRows(&req) {
			t.Fatalf("rows %d, want %d", rows, countRows(&req))
		}
		if err != nil {
			return
		}
		n := 0
		for _, wt := range tables {
			n += len(wt.Rows)
			for _, r := range wt.Rows {
				for _, c := range r.Tags {
					if int(c.Index) >= len(wt.Tags) {
						t.Fatalf("tag cell %d of %d names", c.Index, len(wt.Tags))
					}
				}
				for _, c := range r.Fields {
					if int(c.Index) >= len(wt.Fields) {
						t.Fatalf("field cell %d of %d names", c.Index, len(wt.Fields))
					}
				}
			}
		}
		if n != rows {
			t.Fatalf("%d rows converted of %d", n, rows)
		}
	})
}
