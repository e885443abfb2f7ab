// Package etcdutil starts HoraeMeta's embedded etcd member and the client
// HoraeMeta uses to talk to it, and routes etcd's zap logs into slog.
package etcdutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"google.golang.org/grpc"

	"github.com/horaego/horaedb/meta/config"
)

// ErrStart is returned when the embedded etcd cannot start or does not get
// ready in time.
var ErrStart = errors.New("etcdutil: embedded etcd did not start")

// Options are what the embedded member needs besides the config.
type Options struct {
	// Logger receives etcd's logs (component=etcd).
	Logger *slog.Logger
	// Register adds gRPC services to etcd's client-port server.
	Register func(*grpc.Server)
	// UnsafeNoFsync skips fsync; tests only.
	UnsafeNoFsync bool
}

// Member is a running embedded etcd member and a client connected to it.
type Member struct {
	Etcd   *embed.Etcd
	Client *clientv3.Client
	// ID is the etcd member id.
	ID uint64
	// ClientURLs are the advertised client URLs.
	ClientURLs []url.URL
}

// EmbedConfig translates cfg into etcd's configuration.
func EmbedConfig(cfg *config.Config, opts Options) (*embed.Config, error) {
	etcdLevel, err := config.ParseLevel(cfg.EtcdLog.Level)
	if err != nil {
		return nil, err
	}
	ec := embed.NewConfig()
	ec.Name = cfg.NodeName
	ec.Dir = filepath.Join(cfg.DataDir, "etcd")
	ec.WalDir = filepath.Join(cfg.DataDir, "wal")
	ec.InitialCluster = cfg.EffectiveInitialCluster()
	ec.ClusterState = cfg.InitialClusterState
	ec.InitialClusterToken = cfg.InitialClusterToken
	ec.TickMs = uint(cfg.TickIntervalMs)
	ec.ElectionMs = uint(cfg.ElectionTimeoutMs)
	ec.AutoCompactionMode = cfg.AutoCompactionMode
	ec.AutoCompactionRetention = cfg.AutoCompactionRetention
	ec.QuotaBackendBytes = cfg.QuotaBackendBytes
	ec.MaxRequestBytes = cfg.MaxRequestBytes
	ec.MaxTxnOps = cfg.EtcdMaxTxnOps
	ec.GRPCKeepAliveMinTime = cfg.GrpcServiceKeepAlivePingMinIntervalSec.D()
	ec.ListenClientUrls = cfg.ClientURLs()
	ec.AdvertiseClientUrls = cfg.AdvertisedClientURLs()
	ec.ListenPeerUrls = cfg.PeerURLs()
	ec.AdvertisePeerUrls = cfg.AdvertisedPeerURLs()
	ec.EnablePprof = false // served on the admin HTTP port instead
	ec.UnsafeNoFsync = opts.UnsafeNoFsync
	// MetaService calls wait for procedures; do not warn about them.
	ec.WarningUnaryRequestDuration = cfg.GrpcHandleTimeoutMs.D()
	ec.Logger = "zap"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(NewZapLogger(opts.Logger.With("component", "etcd"), etcdLevel))
	ec.ServiceRegister = opts.Register
	return ec, nil
}

// Start starts the member and waits until it is ready (it has joined a
// cluster with a quorum) or cfg's etcd-start-timeout-ms passes.
func Start(ctx context.Context, cfg *config.Config, opts Options) (*Member, error) {
	ec, err := EmbedConfig(cfg, opts)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	timer := time.NewTimer(cfg.EtcdStartTimeoutMs.D())
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	case <-timer.C:
		e.Close()
		return nil, fmt.Errorf("%w: not ready after %s (is a quorum of initial-cluster %q up?)",
			ErrStart, cfg.EtcdStartTimeoutMs.D(), ec.InitialCluster)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("%w: %v", ErrStart, ctx.Err())
	}
	etcdLevel, _ := config.ParseLevel(cfg.EtcdLog.Level)
	var endpoints []string
	for _, u := range localURLs(cfg.ClientURLs()) {
		endpoints = append(endpoints, u.String())
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: cfg.EtcdCallTimeoutMs.D(),
		Logger:      NewZapLogger(opts.Logger.With("component", "etcd-client"), etcdLevel),
		// Lease keepalives and watches must notice a dead connection.
		DialKeepAliveTime:    time.Second,
		DialKeepAliveTimeout: cfg.EtcdCallTimeoutMs.D(),
	})
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("%w: client: %v", ErrStart, err)
	}
	return &Member{
		Etcd:       e,
		Client:     cli,
		ID:         uint64(e.Server.MemberID()),
		ClientURLs: cfg.AdvertisedClientURLs(),
	}, nil
}

// Close closes the client, then stops the member gracefully.
func (m *Member) Close() {
	_ = m.Client.Close()
	m.Etcd.Close()
}

// Kill stops the member abruptly, without handing raft leadership over,
// as a crash would; for tests.
func (m *Member) Kill() {
	m.Etcd.Server.HardStop()
	_ = m.Client.Close()
	m.Etcd.Close()
}

// localURLs are the client URLs this process reaches its own member at:
// unspecified hosts become 127.0.0.1.
func localURLs(us []url.URL) []url.URL {
	out := make([]url.URL, 0, len(us))
	for _, u := range us {
		h := u.Hostname()
		if h == "0.0.0.0" || h == "::" || h == "" {
			u.Host = "127.0.0.1:" + u.Port()
		}
		out = append(out, u)
	}
	return out
}
