package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/horaego/horaedb/internal/units"
)

// Environment variables besides those in the env tags of Config's fields.
const (
	// EnvLevel sets log.level and, unless EnvEtcdLogLevel is set,
	// etcd-log.level (upstream's LEVEL sets both).
	EnvLevel = "LEVEL"
	// EnvEtcdLogLevel sets etcd-log.level.
	EnvEtcdLogLevel = "ETCD_LOG_LEVEL"
)

// ApplyEnv overrides the config with the environment variables read
// through getenv (os.Getenv in production); empty values are ignored. Every
// field's variable is in its env tag (upstream's names), plus LEVEL and
// ETCD_LOG_LEVEL. A value that does not parse is an error naming the
// variable.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	var errs []error
	if v := strings.TrimSpace(getenv(EnvLevel)); v != "" {
		c.Log.Level = v
		c.EtcdLog.Level = v
	}
	if v := strings.TrimSpace(getenv(EnvEtcdLogLevel)); v != "" {
		c.EtcdLog.Level = v
	}
	applyEnv(reflect.ValueOf(c).Elem(), getenv, &errs)
	return errors.Join(errs...)
}

// EnvVars lists every environment variable ApplyEnv reads, in field order.
func EnvVars() []string {
	out := []string{EnvLevel, EnvEtcdLogLevel}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("env")
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[units.Duration]() {
				walk(f.Type)
				continue
			}
			if tag != "" && tag != "-" {
				out = append(out, strings.Split(tag, ",")...)
			}
		}
	}
	walk(reflect.TypeFor[Config]())
	return out
}

func applyEnv(v reflect.Value, getenv func(string) string, errs *[]error) {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			applyEnv(fv, getenv, errs)
			continue
		}
		tag := f.Tag.Get("env")
		if tag == "" || tag == "-" {
			continue
		}
		for _, name := range strings.Split(tag, ",") {
			raw := strings.TrimSpace(getenv(name))
			if raw == "" {
				continue
			}
			if err := setValue(fv, raw); err != nil {
				*errs = append(*errs, &Error{Key: name, Msg: fmt.Sprintf("%q: %v", raw, err)})
			}
		}
	}
}

// setValue parses raw into the field v.
func setValue(v reflect.Value, raw string) error {
	if v.Type() == reflect.TypeFor[units.Duration]() {
		d, err := units.ParseDuration(raw)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("want true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return errors.New("want an integer")
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want an integer in 0..%d", uint64(1)<<v.Type().Bits()-1)
		}
		v.SetUint(n)
	default:
		return fmt.Errorf("unsupported kind %s", v.Kind())
	}
	return nil
}
