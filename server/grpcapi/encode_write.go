package grpcapi

import (
	"fmt"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/query"
)

// EncodeWrite is the inverse of WriteTables: the write request that sends
// tables to a node's storage API, one series entry per row. A node uses it
// to forward the writes of its other protocols (InfluxDB, OpenTSDB,
// Prometheus) to the owner of their tables. Names keep their order; the
// receiver sorts them as it sorts every request's. A value of a kind the
// storage API cannot carry (Date, Time) is an error wrapping ErrBadRequest.
func EncodeWrite(database string, tables []query.WriteTable) (*storagepb.WriteRequest, error) {
	req := &storagepb.WriteRequest{Context: &storagepb.RequestContext{Database: database},
		TableRequests: make([]*storagepb.WriteTableRequest, 0, len(tables))}
	for _, wt := range tables {
		tr := &storagepb.WriteTableRequest{Table: wt.Table, TagNames: wt.Tags, FieldNames: wt.Fields,
			Entries: make([]*storagepb.WriteSeriesEntry, 0, len(wt.Rows))}
		for _, r := range wt.Rows {
			e := &storagepb.WriteSeriesEntry{Tags: make([]*storagepb.Tag, 0, len(r.Tags))}
			for _, c := range r.Tags {
				v, err := encodeValue(wt.Table, c.Value)
				if err != nil {
					return nil, err
				}
				e.Tags = append(e.Tags, &storagepb.Tag{NameIndex: c.Index, Value: v})
			}
			fg := &storagepb.FieldGroup{Timestamp: r.Timestamp, Fields: make([]*storagepb.Field, 0, len(r.Fields))}
			for _, c := range r.Fields {
				v, err := encodeValue(wt.Table, c.Value)
				if err != nil {
					return nil, err
				}
				fg.Fields = append(fg.Fields, &storagepb.Field{NameIndex: c.Index, Value: v})
			}
			e.FieldGroups = []*storagepb.FieldGroup{fg}
			tr.Entries = append(tr.Entries, e)
		}
		req.TableRequests = append(req.TableRequests, tr)
	}
	return req, nil
}

// encodeValue is the inverse of valueOf.
func encodeValue(table string, v query.Value) (*storagepb.Value, error) {
	var pv storagepb.Value
	switch v.Kind {
	case schema.Double:
		pv.Value = &storagepb.Value_Float64Value{Float64Value: v.F}
	case schema.Float:
		pv.Value = &storagepb.Value_Float32Value{Float32Value: float32(v.F)}
	case schema.String:
		pv.Value = &storagepb.Value_StringValue{StringValue: v.S}
	case schema.Int64:
		pv.Value = &storagepb.Value_Int64Value{Int64Value: v.I}
	case schema.Int32:
		pv.Value = &storagepb.Value_Int32Value{Int32Value: int32(v.I)}
	case schema.Int16:
		pv.Value = &storagepb.Value_Int16Value{Int16Value: int32(v.I)}
	case schema.Int8:
		pv.Value = &storagepb.Value_Int8Value{Int8Value: int32(v.I)}
	case schema.Boolean:
		pv.Value = &storagepb.Value_BoolValue{BoolValue: v.B}
	case schema.UInt64:
		pv.Value = &storagepb.Value_Uint64Value{Uint64Value: v.U}
	case schema.UInt32:
		pv.Value = &storagepb.Value_Uint32Value{Uint32Value: uint32(v.U)}
	case schema.UInt16:
		pv.Value = &storagepb.Value_Uint16Value{Uint16Value: uint32(v.U)}
	case schema.UInt8:
		pv.Value = &storagepb.Value_Uint8Value{Uint8Value: uint32(v.U)}
	case schema.Timestamp:
		pv.Value = &storagepb.Value_TimestampValue{TimestampValue: v.I}
	case schema.Varbinary:
		pv.Value = &storagepb.Value_VarbinaryValue{VarbinaryValue: v.Bytes}
	case schema.Null:
	default:
		return nil, fmt.Errorf("%w: table %s: a %s value cannot be sent over the storage API", ErrBadRequest, table, v.Kind)
	}
	return &pv, nil
}
