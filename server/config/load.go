package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// Load reads the TOML file at path and decodes it over Default(); see Parse.
// Errors and warnings carry the path.
func Load(path string) (Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, fmt.Errorf("config: %w", err)
	}
	cfg, warnings, err := Parse(data)
	for i := range warnings {
		warnings[i].File = path
	}
	if err != nil {
		setFile(err, path)
		return Config{}, nil, err
	}
	return cfg, warnings, nil
}

// setFile records path in every *Error of err.
func setFile(err error, path string) {
	switch e := err.(type) {
	case *Error:
		e.File = path
	case interface{ Unwrap() []error }:
		for _, e := range e.Unwrap() {
			setFile(e, path)
		}
	}
}

// Parse decodes a TOML document over Default(), the way upstream reads its
// config: keys that are absent keep their defaults, an unknown top-level
// section or key is an error, and an unknown nested key is ignored with a
// Warning naming its full dotted key. Syntax and type errors report the key
// and, where known, the line and column. Parse does not validate; call
// Validate (after ApplyEnv).
//
// The tagged unions ([analytic.wal], [analytic.storage.object_store],
// [cluster_deployment]) keep their default variant when their table is
// absent; when it is present, its tag (type, mode) is required and picks the
// variant, whose keys are decoded over that variant's defaults.
func Parse(data []byte) (Config, []Warning, error) {
	// The strict pass also reports the positions of unknown keys.
	v, unknown, err := decode(data, func() any { c := Default(); return &c })
	if err != nil {
		return Config{}, nil, decodeError(err)
	}
	cfg := v.(*Config)
	pos := newPositions(unknown)

	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return Config{}, nil, decodeError(err)
	}
	var errs []error
	for _, k := range sortedKeys(doc) {
		if slices.Contains(topLevel, k) {
			continue
		}
		line, col := pos.find([]string{k})
		msg := "unknown top-level section or key (want " + orList(topLevel) + ")"
		if k == "cluster" {
			msg = "unknown top-level section; did you mean cluster_deployment?"
		}
		errs = append(errs, &Error{Line: line, Column: col, Key: k, Msg: msg})
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b error) int { return a.(*Error).Line - b.(*Error).Line })
		return Config{}, nil, errors.Join(errs...)
	}

	for _, un := range unions {
		unknown, err := un.decodeInto(cfg, data, doc)
		if err != nil {
			return Config{}, nil, err
		}
		pos.add(unknown)
	}

	warnings, err := checkKeys(cfg, doc, pos)
	if err != nil {
		return Config{}, nil, err
	}
	cfg.normalize()
	return *cfg, warnings, nil
}

// topLevel lists the TOML names of Config's fields.
var topLevel = func() []string {
	var names []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		names = append(names, name)
	}
	return names
}()

// normalize folds alternative spellings into one and fills defaults that
// array elements do not inherit.
func (c *Config) normalize() {
	if k := c.Analytic.WAL.Kafka; k != nil {
		k.Kafka.Client.BoostBrokers = k.Kafka.Client.Brokers()
		k.Kafka.Client.BoostBroker = ""
	}
	if s := c.ClusterDeployment.NoMeta; s != nil {
		s.normalize()
	}
}

// decode decodes data into the pointer returned by fresh and returns it with
// the decoder's reports of the keys it has no field for (used for their
// positions; checkKeys decides what is unknown). It decodes strictly to get
// those reports, then again leniently into a fresh value, so the result never
// depends on how far the strict pass got.
func decode(data []byte, fresh func() any) (any, []toml.DecodeError, error) {
	v := fresh()
	err := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields().Decode(v)
	var missing *toml.StrictMissingError
	if !errors.As(err, &missing) {
		return v, nil, err
	}
	v = fresh()
	if err := toml.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return nil, nil, err
	}
	return v, missing.Errors, nil
}

// decodeAt decodes the table at path of the document over *newT(), and
// returns the document's keys it has no field for (anywhere in the
// document). It builds a struct type nesting T under path, so that the
// decoder reports positions and full keys as for the whole config.
func decodeAt[T any](data []byte, path []string, newT func() *T) (*T, []toml.DecodeError, error) {
	typ := reflect.TypeFor[T]()
	for i := len(path) - 1; i >= 0; i-- {
		typ = reflect.StructOf([]reflect.StructField{{
			Name: "F",
			Type: typ,
			Tag:  reflect.StructTag(`toml:"` + path[i] + `"`),
		}})
	}
	leaf := func(doc reflect.Value) reflect.Value {
		for range path {
			doc = doc.Field(0)
		}
		return doc
	}
	v, unknown, err := decode(data, func() any {
		doc := reflect.New(typ)
		leaf(doc.Elem()).Set(reflect.ValueOf(newT()).Elem())
		return doc.Interface()
	})
	if err != nil {
		return nil, nil, err
	}
	out := leaf(reflect.ValueOf(v).Elem()).Addr().Interface().(*T)
	return out, unknown, nil
}

// union describes a tagged union: a table whose tag key picks the Go type
// its other keys decode into.
type union struct {
	path   []string // of the table, e.g. analytic.wal
	tagKey string   // "type" or "mode"
	common []string // keys besides the tag that the main pass decodes
	tags   []string // the variants
	tag    func(*Config) string
	// decode decodes the variant named by the tag into c and returns the
	// document's keys it has no field for.
	decode func(c *Config, data []byte) ([]toml.DecodeError, error)
}

var (
	walPath         = []string{"analytic", "wal"}
	objectStorePath = []string{"analytic", "storage", "object_store"}
	clusterPath     = []string{"cluster_deployment"}
)

var unions = []*union{
	{
		path:   walPath,
		tagKey: "type",
		common: []string{"disable_data"},
		tags:   walTypes,
		tag:    func(c *Config) string { return c.Analytic.WAL.Type },
		decode: func(c *Config, data []byte) (unknown []toml.DecodeError, err error) {
			w := &c.Analytic.WAL
			*w = WALConfig{Type: w.Type, DisableData: w.DisableData}
			switch w.Type {
			case WALLocal:
				w.Local, unknown, err = decodeAt(data, walPath, defaultLocalWAL)
			case WALRocksDB:
				w.RocksDB, unknown, err = decodeAt(data, walPath, defaultRocksDBWAL)
			case WALKafka:
				w.Kafka, unknown, err = decodeAt(data, walPath, defaultKafkaWAL)
			case WALObkv:
				w.Obkv, unknown, err = decodeAt(data, walPath, defaultObkvWAL)
			case WALTable:
				w.Table, unknown, err = decodeAt(data, walPath, defaultTableWAL)
			}
			return unknown, err
		},
	},
	{
		path:   objectStorePath,
		tagKey: "type",
		tags:   objectStoreTypes,
		tag:    func(c *Config) string { return c.Analytic.Storage.ObjectStore.Type },
		decode: func(c *Config, data []byte) (unknown []toml.DecodeError, err error) {
			o := &c.Analytic.Storage.ObjectStore
			*o = ObjectStoreConfig{Type: o.Type}
			switch o.Type {
			case ObjectStoreLocal:
				o.Local, unknown, err = decodeAt(data, objectStorePath, defaultLocalObjectStore)
			case ObjectStoreAliyun:
				o.Aliyun, unknown, err = decodeAt(data, objectStorePath, defaultAliyunObjectStore)
			case ObjectStoreS3:
				o.S3, unknown, err = decodeAt(data, objectStorePath, defaultS3ObjectStore)
			}
			return unknown, err
		},
	},
	{
		path:   clusterPath,
		tagKey: "mode",
		tags:   modes,
		tag:    func(c *Config) string { return c.ClusterDeployment.Mode },
		decode: func(c *Config, data []byte) (unknown []toml.DecodeError, err error) {
			d := &c.ClusterDeployment
			*d = ClusterDeploymentConfig{Mode: d.Mode}
			switch d.Mode {
			case ModeNoMeta:
				d.NoMeta, unknown, err = decodeAt(data, clusterPath, defaultStaticRoute)
			case ModeWithMeta:
				d.WithMeta, unknown, err = decodeAt(data, clusterPath, defaultCluster)
			}
			return unknown, err
		},
	},
}

// unionAt returns the union whose table contains key, if any.
func unionAt(key []string) *union {
	for _, u := range unions {
		if len(key) > len(u.path) && slices.Equal(key[:len(u.path)], u.path) {
			return u
		}
	}
	return nil
}

// decodeInto decodes the union's variant into c if its table is present in
// doc (the document as maps). It returns the unknown keys the decoder
// reported, for their positions.
func (u *union) decodeInto(c *Config, data []byte, doc map[string]any) ([]toml.DecodeError, error) {
	table, ok := lookup(doc, u.path)
	if !ok {
		return nil, nil
	}
	dotted := strings.Join(u.path, ".")
	if _, ok := table[u.tagKey]; !ok {
		for k := range table {
			if !slices.Contains(u.common, k) {
				return nil, &Error{Key: dotted, Msg: fmt.Sprintf("missing key %q (want %s)", u.tagKey, orList(u.tags))}
			}
		}
		return nil, nil // only common keys: the default variant stays
	}
	if tag := u.tag(c); !slices.Contains(u.tags, tag) {
		return nil, &Error{Key: dotted + "." + u.tagKey, Msg: fmt.Sprintf("unknown %s %q (want %s)", u.tagKey, tag, orList(u.tags))}
	}
	unknown, err := u.decode(c, data)
	if err != nil {
		return nil, decodeError(err)
	}
	return unknown, nil
}

// lookup returns the table at path in doc.
func lookup(doc map[string]any, path []string) (map[string]any, bool) {
	t := doc
	for _, p := range path {
		next, ok := t[p].(map[string]any)
		if !ok {
			return nil, false
		}
		t = next
	}
	return t, true
}

var (
	typeMismatch = regexp.MustCompile(`cannot decode TOML (.+?) into struct field \S+ of type (\S+)`)
	goTypeNames  = map[string]string{
		"string": "a string", "bool": "a boolean", "float64": "a float", "float32": "a float",
		"int": "an integer", "int64": "an integer", "uint32": "an integer", "uint64": "an integer",
		"units.Duration": `a duration such as "10s"`, "units.Size": `a size such as "64MB" or an integer`,
		"[]string": "an array of strings", "[]uint32": "an array of integers",
		"map[string]interface {}": "a table",
	}
)

// decodeError turns a decoder error into an *Error naming the key and the
// position, in words a user knows.
func decodeError(err error) error {
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return &Error{Msg: strings.TrimPrefix(err.Error(), "toml: "), Err: err}
	}
	line, col := de.Position()
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	if m := typeMismatch.FindStringSubmatch(msg); m != nil {
		want, ok := goTypeNames[m[2]]
		switch {
		case ok:
		case strings.HasPrefix(m[2], "[]"):
			want = "an array"
		default:
			want = "a table"
		}
		msg = fmt.Sprintf("want %s, got a TOML %s", want, m[1])
	}
	return &Error{Line: line, Column: col, Key: strings.Join(de.Key(), "."), Msg: msg, Err: err}
}
