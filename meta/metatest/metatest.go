// Package metatest holds helpers for the tests of HoraeMeta and its tools:
// free loopback ports, fast single- or multi-member configs, a bare etcd
// member, and a data-node double that serves MetaEventService the way
// meta/docs/protocol.md asks. It does not import testing; helpers return
// errors. (Data nodes test against a real HoraeMeta through meta/client.)
package metatest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/horaego/horaedb/internal/units"
	"github.com/horaego/horaedb/meta/config"
	"github.com/horaego/horaedb/meta/internal/etcdutil"
)

// FreePorts returns n distinct loopback TCP ports that were free a moment
// ago.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	out := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// Configs returns the configs of an n-member meta cluster on loopback
// ports, with data under dir/m<i>, fast etcd timings, and short scheduler
// and heartbeat periods.
func Configs(dir string, n int) ([]config.Config, error) {
	ports, err := FreePorts(3 * n)
	if err != nil {
		return nil, err
	}
	var initial []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, ports[3*i+1]))
	}
	cfgs := make([]config.Config, n)
	for i := range n {
		c := config.Default()
		c.NodeName = fmt.Sprintf("m%d", i)
		c.DataDir = filepath.Join(dir, c.NodeName)
		c.ClientUrls = fmt.Sprintf("http://127.0.0.1:%d", ports[3*i])
		c.PeerUrls = fmt.Sprintf("http://127.0.0.1:%d", ports[3*i+1])
		c.HTTPPort = ports[3*i+2]
		c.InitialCluster = strings.Join(initial, ",")
		c.TickIntervalMs = 20
		c.ElectionTimeoutMs = 200
		c.LeaseSec = 1
		c.EtcdStartTimeoutMs = 20000
		c.DefaultClusterNodeCount = 2
		c.DefaultClusterShardTotal = 4
		c.NodeHeartbeatTimeout = units.Duration(time.Second)
		c.ScheduleInterval = units.Duration(100 * time.Millisecond)
		c.ProcedureTimeout = units.Duration(10 * time.Second)
		c.EventDispatchTimeout = units.Duration(2 * time.Second)
		c.Log.Level = "debug"
		c.EtcdLog.Level = "warn"
		cfgs[i] = c
	}
	return cfgs, nil
}

// Etcd starts a single etcd member (no HoraeMeta) with data under dir.
func Etcd(dir string) (*etcdutil.Member, error) {
	cfgs, err := Configs(dir, 1)
	if err != nil {
		return nil, err
	}
	return etcdutil.Start(context.Background(), &cfgs[0], etcdutil.Options{Logger: slog.New(slog.DiscardHandler), UnsafeNoFsync: true})
}
