package config

import (
	"bytes"

	toml "github.com/pelletier/go-toml/v2"
)

// MarshalTOML renders c as a TOML document that Parse reads back into the
// same config; GET /debug/config serves it. The tagged unions are written the
// way they are read: the tag and the active variant's keys in one table.
func (c *Config) MarshalTOML() ([]byte, error) {
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.SetIndentTables(true)
	if err := enc.Encode(c.tomlView()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tomlView returns c in the shape of its TOML document.
func (c *Config) tomlView() configTOML {
	return configTOML{
		Node:        c.Node,
		Server:      c.Server,
		Runtime:     c.Runtime,
		Logger:      c.Logger,
		Tracing:     c.Tracing,
		QueryEngine: c.QueryEngine,
		Limiter:     c.Limiter,
		Analytic: analyticTOML{
			AnalyticConfig: c.Analytic,
			Storage: storageTOML{
				StorageConfig: c.Analytic.Storage,
				ObjectStore:   c.Analytic.Storage.ObjectStore.flat(),
			},
			WAL: c.Analytic.WAL.flat(),
		},
		ClusterDeployment: c.ClusterDeployment.flat(),
	}
}

// configTOML is Config with the unions replaced by their flat form. Fields
// of the embedded structs are shadowed by the shallower fields of the same
// TOML name.
type configTOML struct {
	Node              NodeConfig        `toml:"node"`
	Server            ServerConfig      `toml:"server"`
	Runtime           RuntimeConfig     `toml:"runtime"`
	Logger            LoggerConfig      `toml:"logger"`
	Tracing           TracingConfig     `toml:"tracing"`
	QueryEngine       QueryEngineConfig `toml:"query_engine"`
	Limiter           LimiterConfig     `toml:"limiter"`
	Analytic          analyticTOML      `toml:"analytic"`
	ClusterDeployment any               `toml:"cluster_deployment"`
}

type analyticTOML struct {
	AnalyticConfig
	Storage storageTOML `toml:"storage"`
	WAL     any         `toml:"wal"`
}

type storageTOML struct {
	StorageConfig
	ObjectStore any `toml:"object_store"`
}

// flat returns the WAL table: type, disable_data and the variant's keys.
func (w *WALConfig) flat() any {
	type head struct {
		Type        string `toml:"type"`
		DisableData bool   `toml:"disable_data"`
	}
	h := head{w.Type, w.DisableData}
	switch {
	case w.Type == WALLocal && w.Local != nil:
		return struct {
			head
			*LocalWALConfig
		}{h, w.Local}
	case w.Type == WALRocksDB && w.RocksDB != nil:
		return struct {
			head
			*RocksDBWALConfig
		}{h, w.RocksDB}
	case w.Type == WALKafka && w.Kafka != nil:
		return struct {
			head
			*KafkaWALConfig
		}{h, w.Kafka}
	case w.Type == WALObkv && w.Obkv != nil:
		return struct {
			head
			*ObkvWALConfig
		}{h, w.Obkv}
	case w.Type == WALTable && w.Table != nil:
		return struct {
			head
			*TableWALConfig
		}{h, w.Table}
	}
	return h
}

// flat returns the object store table: type and the variant's keys.
func (o *ObjectStoreConfig) flat() any {
	type head struct {
		Type string `toml:"type"`
	}
	h := head{o.Type}
	switch {
	case o.Type == ObjectStoreLocal && o.Local != nil:
		return struct {
			head
			*LocalObjectStoreConfig
		}{h, o.Local}
	case o.Type == ObjectStoreAliyun && o.Aliyun != nil:
		return struct {
			head
			*AliyunObjectStoreConfig
		}{h, o.Aliyun}
	case o.Type == ObjectStoreS3 && o.S3 != nil:
		return struct {
			head
			*S3ObjectStoreConfig
		}{h, o.S3}
	}
	return h
}

// flat returns the cluster_deployment table: mode and the variant's keys.
func (c *ClusterDeploymentConfig) flat() any {
	type head struct {
		Mode string `toml:"mode"`
	}
	h := head{c.Mode}
	switch {
	case c.Mode == ModeNoMeta && c.NoMeta != nil:
		return struct {
			head
			*StaticRouteConfig
		}{h, c.NoMeta}
	case c.Mode == ModeWithMeta && c.WithMeta != nil:
		return struct {
			head
			*ClusterConfig
		}{h, c.WithMeta}
	}
	return h
}
