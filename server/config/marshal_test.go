package config

import (
	"reflect"
	"strings"
	"testing"
)

// roundTripDocs exercise every union variant and optional key.
var roundTripDocs = map[string]string{
	"kafka s3 static": `
[server]
timeout = "30s"
[server.forward]
forward_timeout = "10s"
[logger]
slow_query_path = "data/slow.log"
[tracing.console]
port = 6669
[limiter]
write_block_list = ["t1"]
rules = [{type = "AnyInsert"}, {type = "QueryRange", content = "7d"}]
[analytic]
scan_batch_size = 512
max_bytes_per_write_batch = "32MB"
[analytic.table_opts]
ttl = "7d"
enable_ttl = true
write_buffer_size = 33554432
sampling_ratio = 0.5
[analytic.compaction_mode]
compaction_mode = "Offload"
node_picker = "Local"
endpoint = "127.0.0.1:8831"
[analytic.storage]
disk_cache_capacity = "1GB"
[analytic.storage.object_store]
type = "S3"
region = "us-east-1"
bucket = "horaedb"
endpoint = "http://127.0.0.1:9000"
key_id = "minio"
key_secret = "minio123"
[analytic.wal]
type = "Kafka"
disable_data = true
[analytic.wal.kafka.client]
boost_broker = "127.0.0.1:9092"
max_message_size = "1MB"
[analytic.wal.kafka.consumer]
max_wait_ms = 100
[cluster_deployment]
mode = "NoMeta"
[[cluster_deployment.topology.schema_shards]]
schema = "public"
[[cluster_deployment.topology.schema_shards.shard_views]]
shard_id = 0
endpoint = {addr = "127.0.0.1", port = 8831}
[[cluster_deployment.topology.schema_shards.shard_views]]
shard_id = 1
endpoint = {addr = "127.0.0.2", port = 8831}
[[cluster_deployment.rules.prefix_rules]]
schema = "public"
prefix = "BIZ"
shard = 1
[[cluster_deployment.rules.hash_rules]]
schema = "public"
shards = [0, 1]
`,
	"obkv aliyun withmeta": `
[analytic.storage.object_store]
type = "Aliyun"
key_id = "id"
key_secret = "secret"
endpoint = "oss-cn-hangzhou.aliyuncs.com"
bucket = "b"
prefix = "horaedb"
[analytic.storage.object_store.http]
pool_max_idle_per_host = 16
[analytic.wal]
type = "Obkv"
[analytic.wal.obkv]
full_user_name = "user@tenant#cluster"
param_url = "http://ocp/config"
[analytic.wal.data_namespace]
ttl = "365d"
[cluster_deployment]
mode = "WithMeta"
node_type = "CompactionServer"
[cluster_deployment.etcd_client]
server_addrs = ["10.0.0.1:2379", "10.0.0.2:2379"]
shard_lock_lease_ttl_sec = 60
tls = {enable = true, domain = "etcd", ca_cert_path = "ca.pem", client_key_path = "key.pem", client_cert_path = "cert.pem"}
`,
	"table wal": `
[analytic.wal]
type = "Table"
dsn = "horaedb:secret@tcp(127.0.0.1:3306)/horaedb"
[analytic.wal.data_namespace]
clean_period = "10m"
`,
}

func TestMarshalRoundTrip(t *testing.T) {
	cases := map[string]Config{"default": Default()}
	seed, _, err := Load("testdata/seed-complete.toml")
	if err != nil {
		t.Fatal(err)
	}
	cases["seed"] = seed
	for name, doc := range roundTripDocs {
		c, ws, err := Parse([]byte(doc))
		if err != nil || len(ws) != 0 {
			t.Fatalf("%s: Parse = %v, %v", name, ws, err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cases[name] = c
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := c.MarshalTOML()
			if err != nil {
				t.Fatal(err)
			}
			back, ws, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(MarshalTOML()) = %v\n%s", err, out)
			}
			if len(ws) != 0 {
				t.Errorf("warnings: %v", ws)
			}
			if !reflect.DeepEqual(back, c) {
				diffValues(t, "Config", reflect.ValueOf(c), reflect.ValueOf(back))
				t.Logf("rendered:\n%s", out)
			}
			again, err := back.MarshalTOML()
			if err != nil || string(again) != string(out) {
				t.Errorf("second MarshalTOML differs (err %v)", err)
			}
		})
	}
}

func TestMarshalWritesOnlyTheActiveVariant(t *testing.T) {
	c, _, err := Parse([]byte(roundTripDocs["table wal"]))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.MarshalTOML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"[analytic.wal]\n    type = 'Table'\n    disable_data = false\n    dsn = ", "[analytic.wal.data_namespace]", "clean_period = '10m'"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "segment_size") || strings.Contains(s, "boost_brokers") {
		t.Errorf("output has keys of inactive variants:\n%s", s)
	}
}

// diffValues reports the fields where want and got differ.
func diffValues(t *testing.T, path string, want, got reflect.Value) {
	t.Helper()
	if reflect.DeepEqual(want.Interface(), got.Interface()) {
		return
	}
	switch want.Kind() {
	case reflect.Struct:
		for i := range want.NumField() {
			diffValues(t, path+"."+want.Type().Field(i).Name, want.Field(i), got.Field(i))
		}
		return
	case reflect.Pointer:
		if !want.IsNil() && !got.IsNil() {
			diffValues(t, path, want.Elem(), got.Elem())
			return
		}
	}
	t.Errorf("%s: want %#v, got %#v after the round trip", path, want.Interface(), got.Interface())
}
