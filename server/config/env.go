package config

import (
	"fmt"
	"net"
	"strings"

	"github.com/horaego/horaedb/internal/units"
)

// Environment variables read by ApplyEnv (upstream's names).
const (
	// EnvServerAddr overrides node.addr.
	EnvServerAddr = "HORAEDB_SERVER_ADDR"
	// EnvMetaAddr overrides cluster_deployment.meta_client.meta_addr.
	EnvMetaAddr = "HORAEMETA_SERVER_ADDR"
	// EnvEtcdAddrs (comma-separated) overrides
	// cluster_deployment.etcd_client.server_addrs.
	EnvEtcdAddrs = "ETCD_ADDRS"
	// EnvClusterName overrides cluster_deployment.meta_client.cluster_name.
	EnvClusterName = "CLUSTER_NAME"
	// EnvMaxInputSSTableSize ("1200MB", or bytes) overrides
	// analytic.compaction.max_input_sstable_size.
	EnvMaxInputSSTableSize = "HORAEDB_MAX_INPUT_SSTABLE_SIZE"
)

// ApplyEnv applies the environment overrides upstream's server applies, read
// through getenv (os.Getenv in production); empty values are ignored.
// HORAEDB_SERVER_ADDR sets node.addr; a port in it ("10.0.0.1:8831", as the
// deployment guide writes it) is dropped, since the advertised port is always
// server.grpc_port. HORAEDB_MAX_INPUT_SSTABLE_SIZE bounds the input of
// one compaction. The other three apply only in mode WithMeta. A value
// that does not parse is an error naming the variable.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if v := strings.TrimSpace(getenv(EnvMaxInputSSTableSize)); v != "" {
		n, err := units.ParseSize(v)
		if err != nil || n == 0 {
			return fmt.Errorf("%s=%q: want a positive size such as 1200MB", EnvMaxInputSSTableSize, v)
		}
		c.Analytic.Compaction.MaxInputSSTableSize = units.Size(n)
	}
	if v := strings.TrimSpace(getenv(EnvServerAddr)); v != "" {
		if host, _, err := net.SplitHostPort(v); err == nil && host != "" {
			v = host
		}
		c.Node.Addr = v
	}
	m := c.ClusterDeployment.WithMeta
	if c.ClusterDeployment.Mode != ModeWithMeta || m == nil {
		return nil
	}
	if v := strings.TrimSpace(getenv(EnvMetaAddr)); v != "" {
		m.MetaClient.MetaAddr = v
	}
	if v := getenv(EnvEtcdAddrs); strings.TrimSpace(v) != "" {
		var addrs []string
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) > 0 {
			m.EtcdClient.ServerAddrs = addrs
		}
	}
	if v := strings.TrimSpace(getenv(EnvClusterName)); v != "" {
		m.MetaClient.ClusterName = v
	}
	return nil
}
