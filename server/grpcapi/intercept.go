package grpcapi

import (
	"context"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/horaego/horaedb/proto/commonpb"
	"github.com/horaego/horaedb/proto/storagepb"
)

// MetadataAuthorization is the metadata key of the credentials:
// "Basic base64(user:password)", as in upstream and the HTTP API.
const MetadataAuthorization = "authorization"

// storageMethod returns the method name of a StorageService call.
func storageMethod(fullMethod string) (string, bool) {
	return strings.CutPrefix(fullMethod, "/"+storagepb.StorageService_ServiceDesc.ServiceName+"/")
}

// UnaryInterceptor applies server.timeout, checks credentials and counts
// the unary calls of StorageService; other services' calls pass untouched.
// Denied calls answer code 401 in the response header with a gRPC status
// of OK, as every other error of this API, since that is what the SDKs
// read and show ("HoraeDB RPC failed, code:401, err:authentication
// failed ..."); only a method without a header (none today) would get
// codes.Unauthenticated.
func (s *Service) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		method, ok := storageMethod(info.FullMethod)
		if !ok {
			return handler(ctx, req)
		}
		began := time.Now()
		if s.o.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.o.Timeout)
			defer cancel()
		}
		var resp any
		var err error
		if aerr := s.authenticate(ctx); aerr != nil {
			s.logFailure(ctx, method, aerr)
			resp, err = deniedUnary(req, aerr)
		} else {
			resp, err = handler(ctx, req)
		}
		code := ""
		if h, ok := resp.(headered); ok && err == nil {
			code = strconv.Itoa(int(h.GetHeader().GetCode()))
		} else {
			code = status.Code(err).String()
		}
		s.metrics.observe(method, code, time.Since(began))
		return resp, err
	}
}

// StreamInterceptor is UnaryInterceptor for the streaming calls. A denied
// StreamWrite is answered without reading the client's messages; a denied
// StreamSqlQuery gets one message with the 401 header.
func (s *Service) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		method, ok := storageMethod(info.FullMethod)
		if !ok {
			return handler(srv, ss)
		}
		began := time.Now()
		rs := &recordingStream{ServerStream: ss, ctx: ss.Context(), code: codeOK}
		if s.o.Timeout > 0 {
			var cancel context.CancelFunc
			rs.ctx, cancel = context.WithTimeout(rs.ctx, s.o.Timeout)
			defer cancel()
		}
		var err error
		if aerr := s.authenticate(rs.ctx); aerr != nil {
			s.logFailure(rs.ctx, method, aerr)
			switch method {
			case "StreamWrite":
				err = rs.SendMsg(&storagepb.WriteResponse{Header: errHeader(aerr)})
			case "StreamSqlQuery":
				err = rs.SendMsg(&storagepb.SqlQueryResponse{Header: errHeader(aerr)})
			default:
				err = status.Error(codes.Unauthenticated, aerr.Error())
			}
		} else {
			err = handler(srv, rs)
		}
		code := strconv.Itoa(int(rs.code))
		if err != nil {
			code = status.Code(err).String()
		}
		s.metrics.observe(method, code, time.Since(began))
		return err
	}
}

// authenticate checks the credentials of a call; nil when auth is off.
func (s *Service) authenticate(ctx context.Context) error {
	if !s.o.Users.Enabled() {
		return nil
	}
	var value string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(MetadataAuthorization); len(v) > 0 {
			value = v[0]
		}
	}
	return s.o.Users.CheckBasic(value)
}

// deniedUnary is the answer to a unary call whose credentials failed.
func deniedUnary(req any, err error) (any, error) {
	h := errHeader(err)
	switch r := req.(type) {
	case *storagepb.RouteRequest:
		return &storagepb.RouteResponse{Header: h}, nil
	case *storagepb.WriteRequest:
		return &storagepb.WriteResponse{Header: h, Failed: clampU32(int64(countRows(r)))}, nil
	case *storagepb.SqlQueryRequest:
		return &storagepb.SqlQueryResponse{Header: h}, nil
	case *storagepb.PrometheusRemoteQueryRequest:
		return &storagepb.PrometheusRemoteQueryResponse{Header: h}, nil
	}
	return nil, status.Error(codes.Unauthenticated, err.Error())
}

// headered is every response of StorageService.
type headered interface {
	GetHeader() *commonpb.ResponseHeader
}

// recordingStream carries the call's context (with its timeout: a stream
// wrapper is the one place gRPC lets a context travel with the stream) and
// remembers the first error code the handler sent.
type recordingStream struct {
	grpc.ServerStream
	ctx  context.Context
	code uint32
}

func (r *recordingStream) Context() context.Context { return r.ctx }

func (r *recordingStream) SendMsg(m any) error {
	if h, ok := m.(headered); ok && r.code == codeOK {
		r.code = h.GetHeader().GetCode()
	}
	return r.ServerStream.SendMsg(m)
}
