package grpcapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/query"
)

// maxLoggedSQL is how much of a statement's text a log line carries.
const maxLoggedSQL = 1024

// SqlQuery runs one statement. DDL and INSERT answer affected_rows; a query
// answers one Arrow IPC stream (the schema, then every batch; only the
// schema for an empty result) in arrow.record_batches[0], zstd-compressed
// whole when it reaches RespCompressMinLength bytes.
func (s *Service) SqlQuery(ctx context.Context, req *storagepb.SqlQueryRequest) (*storagepb.SqlQueryResponse, error) {
	defer s.logIfSlow(req, time.Now())
	owner, tables, err := s.sqlOwner(ctx, req)
	if err != nil {
		s.logSQLFailure(ctx, req, err)
		return &storagepb.SqlQueryResponse{Header: errHeader(err)}, nil
	}
	if owner != "" {
		return s.forwardSQL(ctx, owner, tables, req), nil
	}
	res, err := s.execute(ctx, req)
	if err != nil {
		return &storagepb.SqlQueryResponse{Header: errHeader(err)}, nil
	}
	defer res.Release()
	if !res.IsQuery() {
		return affectedRows(res), nil
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(res.Schema))
	for {
		rec, err := res.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Close()
			s.logSQLFailure(ctx, req, err)
			return &storagepb.SqlQueryResponse{Header: errHeader(err)}, nil
		}
		err = w.Write(rec)
		rec.Release()
		if err != nil {
			w.Close()
			return &storagepb.SqlQueryResponse{Header: errHeader(fmt.Errorf("encoding the result: %w", err))}, nil
		}
	}
	if err := w.Close(); err != nil {
		return &storagepb.SqlQueryResponse{Header: errHeader(fmt.Errorf("encoding the result: %w", err))}, nil
	}
	return s.arrowResponse(buf.Bytes()), nil
}

// StreamSqlQuery runs one statement and sends a query's rows batch by batch
// as the executor produces them: each message holds one Arrow IPC stream
// with the schema and one batch (compressed like SqlQuery's). An empty
// result sends one message with only the schema; DDL and INSERT one with
// affected_rows. An error, before or after some batches, is sent as a last
// message with the error in its header.
func (s *Service) StreamSqlQuery(req *storagepb.SqlQueryRequest, stream storagepb.StorageService_StreamSqlQueryServer) error {
	ctx := stream.Context()
	defer s.logIfSlow(req, time.Now())
	owner, tables, err := s.sqlOwner(ctx, req)
	if err != nil {
		s.logSQLFailure(ctx, req, err)
		return stream.Send(&storagepb.SqlQueryResponse{Header: errHeader(err)})
	}
	if owner != "" {
		return s.forwardStreamSQL(owner, tables, req, stream)
	}
	res, err := s.execute(ctx, req)
	if err != nil {
		return stream.Send(&storagepb.SqlQueryResponse{Header: errHeader(err)})
	}
	defer res.Release()
	if !res.IsQuery() {
		return stream.Send(affectedRows(res))
	}
	sent := 0
	for calls := 0; ; calls++ {
		if s.testHookNext != nil {
			s.testHookNext(calls)
		}
		rec, err := res.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.logSQLFailure(ctx, req, err)
			return stream.Send(&storagepb.SqlQueryResponse{Header: errHeader(err)})
		}
		payload, err := encodeStream(res.Schema, rec)
		rec.Release()
		if err != nil {
			return stream.Send(&storagepb.SqlQueryResponse{Header: errHeader(err)})
		}
		if err := stream.Send(s.arrowResponse(payload)); err != nil {
			return err
		}
		sent++
	}
	if sent > 0 {
		return nil
	}
	payload, err := encodeStream(res.Schema, nil)
	if err != nil {
		return stream.Send(&storagepb.SqlQueryResponse{Header: errHeader(err)})
	}
	return stream.Send(s.arrowResponse(payload))
}

// execute starts the statement of req, logging a failure.
func (s *Service) execute(ctx context.Context, req *storagepb.SqlQueryRequest) (*query.Result, error) {
	if strings.TrimSpace(req.GetSql()) == "" {
		return nil, fmt.Errorf("%w: empty query", ErrBadRequest)
	}
	res, err := s.o.SQL.ExecuteStream(ctx, session(req.GetContext()), req.GetSql())
	if err != nil {
		s.logSQLFailure(ctx, req, err)
		return nil, err
	}
	if res == nil {
		res = &query.Result{}
	}
	return res, nil
}

// logIfSlow logs a statement that took longer than SlowQueryThreshold,
// its rows sent included.
func (s *Service) logIfSlow(req *storagepb.SqlQueryRequest, began time.Time) {
	if took := time.Since(began); took > s.o.SlowQueryThreshold {
		s.log.Info("slow query", "sql", truncate(req.GetSql(), maxLoggedSQL),
			"database", session(req.GetContext()).Database, "took", took)
	}
}

func (s *Service) logSQLFailure(ctx context.Context, req *storagepb.SqlQueryRequest, err error) {
	s.logFailure(ctx, "SqlQuery", err, "sql", truncate(req.GetSql(), maxLoggedSQL),
		"database", session(req.GetContext()).Database)
}

func affectedRows(res *query.Result) *storagepb.SqlQueryResponse {
	return &storagepb.SqlQueryResponse{Header: okHeader(),
		Output: &storagepb.SqlQueryResponse_AffectedRows{AffectedRows: clampU32(res.AffectedRows)}}
}

// encodeStream encodes the schema and rec (none when nil) as an Arrow IPC
// stream.
func encodeStream(sch *arrow.Schema, rec arrow.RecordBatch) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(sch))
	if rec != nil {
		if err := w.Write(rec); err != nil {
			w.Close()
			return nil, fmt.Errorf("encoding the result: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	return buf.Bytes(), nil
}

// arrowResponse wraps one IPC stream, compressed when it is large.
func (s *Service) arrowResponse(stream []byte) *storagepb.SqlQueryResponse {
	p := &storagepb.ArrowPayload{RecordBatches: [][]byte{stream}}
	if limit := s.o.RespCompressMinLength; limit >= 0 && int64(len(stream)) >= limit {
		p.RecordBatches[0] = s.zstd.EncodeAll(stream, make([]byte, 0, len(stream)/4))
		p.Compression = storagepb.ArrowPayload_ZSTD
	}
	s.metrics.payloads.WithLabelValues(p.Compression.String()).Inc()
	return &storagepb.SqlQueryResponse{Header: okHeader(), Output: &storagepb.SqlQueryResponse_Arrow{Arrow: p}}
}

// truncate shortens s to at most n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
