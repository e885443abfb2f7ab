package config

import (
	"reflect"
	"testing"
)

func TestApplyEnv(t *testing.T) {
	env := map[string]string{
		EnvServerAddr:  "10.0.0.5",
		EnvMetaAddr:    "http://10.0.0.1:2379",
		EnvEtcdAddrs:   " 10.0.0.1:2379, 10.0.0.2:2379 ,,",
		EnvClusterName: "prod",
	}
	for _, tc := range []struct {
		name         string
		mode         string
		env          map[string]string
		wantAddr     string
		wantMeta     string
		wantEtcd     []string
		wantCluster  string
		wantWithMeta bool
	}{
		{"NoMeta: only node.addr", ModeNoMeta, env, "10.0.0.5", "", nil, "", false},
		{"WithMeta: all four", ModeWithMeta, env, "10.0.0.5",
			"http://10.0.0.1:2379", []string{"10.0.0.1:2379", "10.0.0.2:2379"}, "prod", true},
		{"WithMeta: nothing set keeps the file", ModeWithMeta, map[string]string{}, "127.0.0.1",
			"127.0.0.1:8080", []string{"127.0.0.1:2379"}, "", true},
		{"WithMeta: blank values are ignored", ModeWithMeta, map[string]string{EnvServerAddr: " ", EnvEtcdAddrs: " , "}, "127.0.0.1",
			"127.0.0.1:8080", []string{"127.0.0.1:2379"}, "", true},
		{"the guide's host:port keeps the host", ModeNoMeta, map[string]string{EnvServerAddr: "192.168.1.7:8831"}, "192.168.1.7", "", nil, "", false},
		{"IPv6 without port", ModeNoMeta, map[string]string{EnvServerAddr: "fd00::7"}, "fd00::7", "", nil, "", false},
		{"IPv6 with port", ModeNoMeta, map[string]string{EnvServerAddr: "[fd00::7]:8831"}, "fd00::7", "", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.ClusterDeployment = DefaultClusterDeployment(tc.mode)
			if err := c.ApplyEnv(func(k string) string { return tc.env[k] }); err != nil {
				t.Fatal(err)
			}
			if c.Node.Addr != tc.wantAddr {
				t.Errorf("node.addr = %q, want %q", c.Node.Addr, tc.wantAddr)
			}
			m := c.ClusterDeployment.WithMeta
			if (m != nil) != tc.wantWithMeta {
				t.Fatalf("WithMeta = %v", m)
			}
			if m == nil {
				return
			}
			if m.MetaClient.MetaAddr != tc.wantMeta || m.MetaClient.ClusterName != tc.wantCluster ||
				!reflect.DeepEqual(m.EtcdClient.ServerAddrs, tc.wantEtcd) {
				t.Errorf("meta_client = %+v, etcd_client.server_addrs = %q", m.MetaClient, m.EtcdClient.ServerAddrs)
			}
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}
