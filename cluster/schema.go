package cluster

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/horaego/horaedb/engine/schema"
)

// The encoded_schema of CreateTableRequest and CreateTableOnShardRequest,
// which HoraeMeta passes through untouched, is a table's schema.Schema in
// the JSON form the engine's manifests use:
//
//	{"columns":[{"id":1,"name":"tsid","kind":...},...],"num_keys":2,
//	 "timestamp_index":1,"tsid_index":0,"version":1}
//
// The table options travel in the request's options map, complete
// (options.Table.Map), so the owner applies them to the engine's built-in
// defaults and gets the creator's options whatever its own
// [analytic.table_opts].

// EncodeSchema encodes a schema for the meta protocol.
func EncodeSchema(s *schema.Schema) ([]byte, error) {
	if s == nil {
		return nil, errors.New("cluster: no schema")
	}
	return json.Marshal(s)
}

// DecodeSchema decodes what EncodeSchema encoded and checks its shape.
func DecodeSchema(b []byte) (*schema.Schema, error) {
	if len(b) == 0 {
		return nil, errors.New("empty encoded_schema")
	}
	var s schema.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("encoded_schema: %v", err)
	}
	n := len(s.Columns)
	if n == 0 || s.NumKeys < 1 || s.NumKeys > n || s.TimestampIndex < 0 || s.TimestampIndex >= n ||
		s.TsidIndex < -1 || s.TsidIndex >= n {
		return nil, fmt.Errorf("encoded_schema: inconsistent schema (%d columns, %d keys, timestamp %d, tsid %d)",
			n, s.NumKeys, s.TimestampIndex, s.TsidIndex)
	}
	for _, c := range s.Columns {
		if !c.Kind.Valid() {
			return nil, fmt.Errorf("encoded_schema: column %s: unknown kind %d", c.Name, c.Kind)
		}
	}
	s.Init()
	return &s, nil
}
