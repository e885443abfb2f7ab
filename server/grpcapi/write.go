package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/query"
)

// Write writes the points of one request. The answer counts rows: success
// those written, failed those not. A bad value or index fails the request
// whole (400) and nothing of it is written.
func (s *Service) Write(ctx context.Context, req *storagepb.WriteRequest) (*storagepb.WriteResponse, error) {
	return s.write(ctx, req), nil
}

// StreamWrite writes each message of the client's stream as it arrives,
// each all or nothing like Write, and answers once when the client closes
// the stream: success counts the rows of every message. The first message
// that fails ends the call: the answer carries its error, success the rows
// of the messages before it (written), failed the rows of the failed one.
func (s *Service) StreamWrite(stream storagepb.StorageService_StreamWriteServer) error {
	var success int64
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&storagepb.WriteResponse{Header: okHeader(), Success: clampU32(success)})
		}
		if err != nil {
			return err // gRPC's own: malformed, oversized, cancelled
		}
		resp := s.write(stream.Context(), req)
		success += int64(resp.Success)
		if resp.Header.Code != codeOK {
			resp.Success = clampU32(success)
			return stream.SendAndClose(resp)
		}
	}
}

// write writes one request: here, or, in a cluster, split by the owners
// of its tables (forwardWrite).
func (s *Service) write(ctx context.Context, req *storagepb.WriteRequest) *storagepb.WriteResponse {
	if s.o.Forwarder != nil {
		if resp := s.forwardWrite(ctx, req); resp != nil {
			return resp
		}
	}
	return s.writeLocal(ctx, req)
}

// forwardWrite sends the tables of req served elsewhere to their owners
// and writes the others here, or returns nil when every table is served
// here. The answer adds the counts up; its header is the first failure's.
// A request forwarded already whose tables are not all here is answered
// 302 whole, with nothing written.
func (s *Service) forwardWrite(ctx context.Context, req *storagepb.WriteRequest) *storagepb.WriteResponse {
	f := s.o.Forwarder
	db := session(req.GetContext()).Database
	var owners []string // of each table request, "" here
	parts := map[string]*storagepb.WriteRequest{}
	for _, tr := range req.GetTableRequests() {
		ep, err := f.Owner(ctx, db, tr.GetTable())
		if err != nil {
			s.logFailure(ctx, "Write", err, "database", db, "table", tr.GetTable())
			return &storagepb.WriteResponse{Header: errHeader(err), Failed: clampU32(int64(countRows(req)))}
		}
		p := parts[ep]
		if p == nil {
			p = &storagepb.WriteRequest{Context: req.GetContext()}
			parts[ep] = p
			owners = append(owners, ep)
		}
		p.TableRequests = append(p.TableRequests, tr)
	}
	if len(owners) == 0 || len(owners) == 1 && owners[0] == "" {
		return nil
	}
	if from := ForwardedFrom(ctx); from != "" {
		var elsewhere []string
		owner := ""
		for _, ep := range owners {
			if ep != "" {
				owner = ep
				for _, tr := range parts[ep].TableRequests {
					elsewhere = append(elsewhere, tr.GetTable())
				}
			}
		}
		err := staleRoute(ctx, f, db, elsewhere, owner)
		s.logFailure(ctx, "Write", err, "database", db)
		return &storagepb.WriteResponse{Header: errHeader(err), Failed: clampU32(int64(countRows(req)))}
	}
	out := &storagepb.WriteResponse{Header: okHeader()}
	for _, ep := range owners {
		p := parts[ep]
		var resp *storagepb.WriteResponse
		if ep == "" {
			resp = s.writeLocal(ctx, p)
		} else {
			resp = s.forwardWritePart(ctx, ep, db, p)
		}
		out.Success += resp.GetSuccess()
		out.Failed += resp.GetFailed()
		if out.Header.Code == codeOK && resp.GetHeader().GetCode() != codeOK {
			out.Header = resp.GetHeader()
		}
	}
	return out
}

// forwardWritePart writes part of a request on its owner.
func (s *Service) forwardWritePart(ctx context.Context, owner, db string, p *storagepb.WriteRequest) *storagepb.WriteResponse {
	s.metrics.forwarded.WithLabelValues("Write").Inc()
	resp, err := SendWrite(ctx, s.o.Forwarder, owner, db, p, "")
	if err != nil {
		s.logFailure(ctx, "Write", err, "database", db)
		return &storagepb.WriteResponse{Header: errHeader(err), Failed: clampU32(int64(countRows(p)))}
	}
	return resp
}

// SendWrite writes req on the node at owner, with forwarded-from and the
// caller's credentials (auth, if set, replaces the incoming ones: see
// OutgoingContext), and returns the owner's answer; err (ForwardError)
// when the owner was not reached or failed the call. The owners of req's
// tables are forgotten after such a failure or a 302.
func SendWrite(ctx context.Context, f Forwarder, owner, db string, req *storagepb.WriteRequest, auth string) (*storagepb.WriteResponse, error) {
	c, err := f.Client(owner)
	var resp *storagepb.WriteResponse
	if err == nil {
		resp, err = c.Write(OutgoingContext(ctx, f.Self(), auth), req)
	}
	if err != nil || resp.GetHeader().GetCode() == http.StatusFound {
		for _, tr := range req.GetTableRequests() {
			f.Forget(db, tr.GetTable())
		}
	}
	if err != nil {
		return nil, ForwardError(owner, err)
	}
	return resp, nil
}

// writeLocal converts and writes one request here.
func (s *Service) writeLocal(ctx context.Context, req *storagepb.WriteRequest) *storagepb.WriteResponse {
	sess := session(req.GetContext())
	tables, rows, err := WriteTables(req)
	if err == nil {
		var n int64
		n, err = s.o.Writer.Write(ctx, sess, tables, query.WriteOptions{TimestampColumn: s.o.TimestampColumn})
		s.metrics.writeRows.Add(float64(n))
		if err == nil {
			return &storagepb.WriteResponse{Header: okHeader(), Success: clampU32(n)}
		}
		// A server error after some tables were written: they stay.
		s.logFailure(ctx, "Write", err, "database", sess.Database, "rows", rows, "written", n)
		return &storagepb.WriteResponse{Header: errHeader(err), Success: clampU32(n), Failed: clampU32(int64(rows) - n)}
	}
	s.logFailure(ctx, "Write", err, "database", sess.Database, "rows", rows)
	return &storagepb.WriteResponse{Header: errHeader(err), Failed: clampU32(int64(rows))}
}

// WriteTables converts a write request into the executor's tables and
// counts its rows (one per FieldGroup). Tags of an entry apply to each of
// its rows; a Tag or Field whose Value is unset is a null and left out. A
// name_index out of range, or an intN/uintN value outside its type's range,
// is an error wrapping ErrBadRequest; the rows are counted even then.
// Column names and value types are checked by the Writer.
//
// The tag names and the field names are each sorted, so a table the write
// creates has its columns in an order that does not depend on the order a
// client happened to list them in (the Go SDK lists them in its map
// iteration order); upstream sorts them too.
func WriteTables(req *storagepb.WriteRequest) ([]query.WriteTable, int, error) {
	rows := countRows(req)
	tables := make([]query.WriteTable, 0, len(req.GetTableRequests()))
	for _, tr := range req.GetTableRequests() {
		wt := query.WriteTable{Table: tr.GetTable()}
		var tagIdx, fieldIdx []uint32
		wt.Tags, tagIdx = sortNames(tr.GetTagNames())
		wt.Fields, fieldIdx = sortNames(tr.GetFieldNames())
		// One slab holds the cells of every row of the table.
		n, ncells := 0, 0
		for _, e := range tr.GetEntries() {
			n += len(e.GetFieldGroups())
			ncells += len(e.GetTags())
			for _, fg := range e.GetFieldGroups() {
				ncells += len(fg.GetFields())
			}
		}
		wt.Rows = make([]query.WriteRow, 0, n)
		slab := make([]query.Cell, 0, ncells)
		for _, e := range tr.GetEntries() {
			var tags []query.Cell
			var err error
			if slab, tags, err = cells(slab, e.GetTags(), tagIdx, len(wt.Tags), wt.Table, "tag"); err != nil {
				return nil, rows, err
			}
			for _, fg := range e.GetFieldGroups() {
				var fields []query.Cell
				if slab, fields, err = cells(slab, fg.GetFields(), fieldIdx, len(wt.Fields), wt.Table, "field"); err != nil {
					return nil, rows, err
				}
				wt.Rows = append(wt.Rows, query.WriteRow{Timestamp: fg.GetTimestamp(), Tags: tags, Fields: fields})
			}
		}
		tables = append(tables, wt)
	}
	return tables, rows, nil
}

// sortNames returns names sorted and, when that moved any, the new index of
// each old one (nil: unchanged).
func sortNames(names []string) ([]string, []uint32) {
	if slices.IsSorted(names) {
		return names, nil
	}
	order := make([]uint32, len(names)) // order[new] = old
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortStableFunc(order, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	sorted := make([]string, len(names))
	index := make([]uint32, len(names)) // index[old] = new
	for n, o := range order {
		sorted[n] = names[o]
		index[o] = uint32(n)
	}
	return sorted, index
}

// countRows counts the rows of a request: one per FieldGroup.
func countRows(req *storagepb.WriteRequest) int {
	rows := 0
	for _, tr := range req.GetTableRequests() {
		for _, e := range tr.GetEntries() {
			rows += len(e.GetFieldGroups())
		}
	}
	return rows
}

// indexedValue is a Tag or a Field.
type indexedValue interface {
	GetNameIndex() uint32
	GetValue() *storagepb.Value
}

// cells appends the cells of tags or fields to slab, leaving out nulls, and
// returns slab and the appended part. index, when not nil, maps a
// name_index to the index of the name after sortNames.
func cells[T indexedValue](slab []query.Cell, list []T, index []uint32, names int, table, what string) ([]query.Cell, []query.Cell, error) {
	start := len(slab)
	for _, c := range list {
		i := c.GetNameIndex()
		if int64(i) >= int64(names) {
			return slab, nil, fmt.Errorf("%w: table %s: %s name_index %d is out of range (%d %s names)",
				ErrBadRequest, table, what, i, names, what)
		}
		v, ok, err := valueOf(c.GetValue())
		if err != nil {
			return slab, nil, fmt.Errorf("%w: table %s: %s %d: %v", ErrBadRequest, table, what, i, err)
		}
		if ok {
			if index != nil {
				i = index[i]
			}
			slab = append(slab, query.Cell{Index: i, Value: v})
		}
	}
	return slab, slab[start:len(slab):len(slab)], nil
}

// valueOf converts a protobuf value; ok is false for a null (unset oneof).
func valueOf(v *storagepb.Value) (query.Value, bool, error) {
	signed := func(k schema.Kind, x int32, lo, hi int64) (query.Value, bool, error) {
		if int64(x) < lo || int64(x) > hi {
			return query.Value{}, false, fmt.Errorf("%d is out of range for %s", x, k)
		}
		return query.Value{Kind: k, I: int64(x)}, true, nil
	}
	unsigned := func(k schema.Kind, x uint32, hi uint64) (query.Value, bool, error) {
		if uint64(x) > hi {
			return query.Value{}, false, fmt.Errorf("%d is out of range for %s", x, k)
		}
		return query.Value{Kind: k, U: uint64(x)}, true, nil
	}
	switch x := v.GetValue().(type) {
	case *storagepb.Value_Float64Value:
		return query.Value{Kind: schema.Double, F: x.Float64Value}, true, nil
	case *storagepb.Value_Float32Value:
		return query.Value{Kind: schema.Float, F: float64(x.Float32Value)}, true, nil
	case *storagepb.Value_StringValue:
		return query.Value{Kind: schema.String, S: x.StringValue}, true, nil
	case *storagepb.Value_Int64Value:
		return query.Value{Kind: schema.Int64, I: x.Int64Value}, true, nil
	case *storagepb.Value_Int32Value:
		return query.Value{Kind: schema.Int32, I: int64(x.Int32Value)}, true, nil
	case *storagepb.Value_Int16Value:
		return signed(schema.Int16, x.Int16Value, math.MinInt16, math.MaxInt16)
	case *storagepb.Value_Int8Value:
		return signed(schema.Int8, x.Int8Value, math.MinInt8, math.MaxInt8)
	case *storagepb.Value_BoolValue:
		return query.Value{Kind: schema.Boolean, B: x.BoolValue}, true, nil
	case *storagepb.Value_Uint64Value:
		return query.Value{Kind: schema.UInt64, U: x.Uint64Value}, true, nil
	case *storagepb.Value_Uint32Value:
		return query.Value{Kind: schema.UInt32, U: uint64(x.Uint32Value)}, true, nil
	case *storagepb.Value_Uint16Value:
		return unsigned(schema.UInt16, x.Uint16Value, math.MaxUint16)
	case *storagepb.Value_Uint8Value:
		return unsigned(schema.UInt8, x.Uint8Value, math.MaxUint8)
	case *storagepb.Value_TimestampValue:
		return query.Value{Kind: schema.Timestamp, I: x.TimestampValue}, true, nil
	case *storagepb.Value_VarbinaryValue:
		return query.Value{Kind: schema.Varbinary, Bytes: x.VarbinaryValue}, true, nil
	}
	return query.Value{}, false, nil
}

// clampU32 fits a row count into the response's uint32 fields.
func clampU32(n int64) uint32 {
	return uint32(max(0, min(n, math.MaxUint32)))
}
