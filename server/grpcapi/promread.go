package grpcapi

import (
	"context"
	"fmt"

	"github.com/prometheus/prometheus/prompb"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/server/promremote"
)

// PromRemoteQuery answers an encoded prompb.Query with an encoded
// prompb.QueryResult (promremote.Read, shared with the HTTP remote-read
// endpoints).
func (s *Service) PromRemoteQuery(ctx context.Context, req *storagepb.PrometheusRemoteQueryRequest) (*storagepb.PrometheusRemoteQueryResponse, error) {
	var q prompb.Query
	if err := q.Unmarshal(req.GetQuery()); err != nil {
		err = fmt.Errorf("%w: the query is not an encoded prompb.Query: %v", ErrBadRequest, err)
		return &storagepb.PrometheusRemoteQueryResponse{Header: errHeader(err)}, nil
	}
	sess := session(req.GetContext())
	res, err := promremote.Read(ctx, s.o.SQL, sess, &q)
	if err != nil {
		s.logFailure(ctx, "PromRemoteQuery", err, "database", sess.Database)
		return &storagepb.PrometheusRemoteQueryResponse{Header: errHeader(err)}, nil
	}
	b, err := res.Marshal()
	if err != nil {
		return &storagepb.PrometheusRemoteQueryResponse{Header: errHeader(err)}, nil
	}
	return &storagepb.PrometheusRemoteQueryResponse{Header: okHeader(), Response: b}, nil
}
