// Package router says where a table lives for a node of a cluster and
// keeps what it needs to forward requests there: a per-table cache of
// owners (filled from a Resolver, HoraeMeta's RouteTables through
// cluster.Member.Route; entries expire and are dropped when a forward
// fails) and one gRPC connection per owner to its storage API.
//
// The decision itself, what to forward and when to answer 302, belongs to
// the front ends (server/grpcapi, server's HTTP /sql); they ask Owner.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/horaego/horaedb/proto/storagepb"
)

// Resolver names the endpoint (host:port) of the node that serves a
// table; a table that does not exist yet resolves to this node.
// *cluster.Member implements it.
type Resolver interface {
	Route(ctx context.Context, database, table string) (string, error)
}

// Defaults of Options.
const (
	DefaultTTL        = 10 * time.Second
	DefaultMaxMsgSize = 1 << 30
)

// Options configure a Router.
type Options struct {
	// Self is this node's endpoint, host:port: its name in the cluster.
	// Required.
	Self string
	// Local reports whether this node serves a table now; such a table is
	// never looked up. Required.
	Local func(database, table string) bool
	// Resolver looks owners up. Required.
	Resolver Resolver
	// TTL is how long an owner stays cached. Default 10s.
	TTL time.Duration
	// Uncached says the resolver answers without I/O (Static): owners are
	// not cached. Default false.
	Uncached bool
	// DDL says that CREATE and DROP TABLE run on the table's owner too:
	// placement by rules (Static), where the owner of a table is known
	// before it exists. With HoraeMeta they go through the meta service
	// from any node. Default false.
	DDL bool
	// MaxMsgSize bounds the messages sent to and received from owners.
	// Default 1 GiB.
	MaxMsgSize int
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// ErrClosed is returned by Client after Close.
var ErrClosed = errors.New("router: closed")

// Router answers where tables live and hands out clients of their owners.
// New starts nothing; Close closes the connections. Safe for concurrent
// use.
type Router struct {
	o   Options
	now func() time.Time

	mu struct {
		sync.Mutex
		owners  map[tableKey]cached
		sweepAt int // sweep the expired owners at this size
		conns   map[string]ownerConn
		retired map[*grpc.ClientConn]struct{} // replaced, closed soon
		closed  bool
	}
}

// ownerConn is the channel to one owner.
type ownerConn struct {
	cc      *grpc.ClientConn
	created time.Time
}

type tableKey struct{ database, table string }

type cached struct {
	endpoint string // "" for this node
	expires  time.Time
}

// New checks o.
func New(o Options) (*Router, error) {
	if o.Self == "" || o.Local == nil || o.Resolver == nil {
		return nil, errors.New("router: Options.Self, Local and Resolver are required")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MaxMsgSize <= 0 {
		o.MaxMsgSize = DefaultMaxMsgSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Router{o: o, now: time.Now}
	r.mu.owners = map[tableKey]cached{}
	r.mu.sweepAt = minSweep
	r.mu.conns = map[string]ownerConn{}
	r.mu.retired = map[*grpc.ClientConn]struct{}{}
	return r, nil
}

// Self returns this node's endpoint.
func (r *Router) Self() string { return r.o.Self }

// ForwardsDDL reports Options.DDL.
func (r *Router) ForwardsDDL() bool { return r.o.DDL }

// Owner returns the endpoint of the node that serves a table, or "" when
// it is this node: the table is served here, or the cluster says so (it
// does not exist yet, or its shard is being opened here).
func (r *Router) Owner(ctx context.Context, database, table string) (string, error) {
	if r.o.Local(database, table) {
		return "", nil
	}
	k := tableKey{database, table}
	now := r.now()
	r.mu.Lock()
	c, ok := r.mu.owners[k]
	r.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.endpoint, nil
	}
	ep, err := r.o.Resolver.Route(ctx, database, table)
	if err != nil {
		return "", fmt.Errorf("router: owner of %s.%s: %w", database, table, err)
	}
	if ep == r.o.Self {
		ep = ""
	}
	if r.o.Uncached {
		return ep, nil
	}
	r.mu.Lock()
	r.mu.owners[k] = cached{endpoint: ep, expires: now.Add(r.o.TTL)}
	if len(r.mu.owners) >= r.mu.sweepAt {
		r.sweepLocked(now)
	}
	r.mu.Unlock()
	return ep, nil
}

// sweepLocked drops expired owners, so that looking up many names (made up
// ones too) does not grow the cache for ever; it runs when the cache has
// doubled since the last sweep.
func (r *Router) sweepLocked(now time.Time) {
	for k, c := range r.mu.owners {
		if !now.Before(c.expires) {
			delete(r.mu.owners, k)
		}
	}
	r.mu.sweepAt = max(2*len(r.mu.owners), minSweep)
}

// minSweep is the cache size below which no sweep runs.
const minSweep = 1024

// Forget drops the cached owner of a table: a request forwarded there
// failed or was answered "stale route".
func (r *Router) Forget(database, table string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.mu.owners, tableKey{database, table})
}

// Client returns a storage API client of the node at endpoint, over a
// connection kept until Close.
func (r *Router) Client(endpoint string) (storagepb.StorageServiceClient, error) {
	cc, err := r.conn(endpoint)
	if err != nil {
		return nil, err
	}
	return storagepb.NewStorageServiceClient(cc), nil
}

// Reconnecting to an owner that was unreachable. A gRPC channel whose
// connection failed stays failed until a new connection is ready, failing
// calls at once, and dials again only after a backoff. So an owner that
// is back would still be refused for a while. Instead, a failed
// connection older than redialAfter is replaced by a new channel, whose
// first call dials: it fails fast while the owner is down (at most one
// dial per redialAfter, the calls in between fail at once) and succeeds as
// soon as the owner is back. The old channel is closed after retireAfter,
// when calls that were using it have ended.
const (
	redialAfter = 200 * time.Millisecond
	retireAfter = 10 * time.Second
)

func (r *Router) conn(endpoint string) (*grpc.ClientConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return nil, ErrClosed
	}
	now := r.now()
	oc, ok := r.mu.conns[endpoint]
	if ok && oc.cc.GetState() == connectivity.TransientFailure && now.Sub(oc.created) >= redialAfter {
		old := oc.cc
		r.mu.retired[old] = struct{}{}
		time.AfterFunc(retireAfter, func() { r.retire(old) })
		ok = false
	}
	if !ok {
		cc, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(r.o.MaxMsgSize), grpc.MaxCallSendMsgSize(r.o.MaxMsgSize)))
		if err != nil {
			return nil, fmt.Errorf("router: connect to %s: %w", endpoint, err)
		}
		oc = ownerConn{cc: cc, created: now}
		r.mu.conns[endpoint] = oc
	}
	return oc.cc, nil
}

// retire closes a replaced channel, unless Close did.
func (r *Router) retire(cc *grpc.ClientConn) {
	r.mu.Lock()
	_, ok := r.mu.retired[cc]
	delete(r.mu.retired, cc)
	r.mu.Unlock()
	if ok {
		_ = cc.Close()
	}
}

// Close closes the connections to other nodes. Idempotent.
func (r *Router) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.closed = true
	var errs []error
	for ep, oc := range r.mu.conns {
		errs = append(errs, oc.cc.Close())
		delete(r.mu.conns, ep)
	}
	for cc := range r.mu.retired {
		errs = append(errs, cc.Close())
		delete(r.mu.retired, cc)
	}
	return errors.Join(errs...)
}
