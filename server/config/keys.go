package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/horaego/horaedb/internal/units"
)

// checkKeys walks the document (as maps) alongside the decoded config, in the
// shape of its TOML (unions flattened to their active variant). It returns a
// warning for every key that has no field, and an error for every integer
// given for a duration: the decoder would store it as nanoseconds
// (units.Duration is an int64), so `lease = 10` would silently mean 10ns;
// upstream rejects such values too.
//
// The walk, not the decoder's strict mode, decides which keys are unknown:
// the decoder loses the path of keys inside inline tables. Its reports only
// supply positions.
func checkKeys(c *Config, doc map[string]any, pos *positions) ([]Warning, error) {
	w := &keyWalker{cfg: c, pos: pos}
	w.walk(reflect.ValueOf(c.tomlView()), doc, nil, "")
	slices.SortStableFunc(w.warnings, func(a, b Warning) int {
		// Document order; keys without a position last.
		la, lb := a.Line, b.Line
		if la == 0 {
			la = 1 << 30
		}
		if lb == 0 {
			lb = 1 << 30
		}
		if la != lb {
			return la - lb
		}
		return a.Column - b.Column
	})
	return w.warnings, errors.Join(w.errs...)
}

type keyWalker struct {
	cfg      *Config
	pos      *positions
	warnings []Warning
	errs     []error
}

var durationType = reflect.TypeFor[units.Duration]()

// walk compares doc with v. path is the key path without array indexes (as
// the decoder reports keys), shown the dotted key with them.
func (w *keyWalker) walk(v reflect.Value, doc any, path []string, shown string) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch d := doc.(type) {
	case map[string]any:
		if v.Kind() != reflect.Struct {
			return // a map such as table_opts takes any key
		}
		for _, k := range sortedKeys(d) {
			p := append(slices.Clip(path), k)
			s := k
			if shown != "" {
				s = shown + "." + k
			}
			f, ok := fieldByTOMLName(v, k)
			if !ok {
				w.unknown(p, s, d[k])
				continue
			}
			w.walk(f, d[k], p, s)
		}
	case []any:
		if v.Kind() != reflect.Slice {
			return
		}
		for i := range min(len(d), v.Len()) {
			w.walk(v.Index(i), d[i], path, fmt.Sprintf("%s[%d]", shown, i))
		}
	case int64:
		if v.Type() == durationType {
			w.errs = append(w.errs, &Error{Key: shown, Msg: `want a duration such as "10s", got a TOML integer`})
		}
	}
}

func (w *keyWalker) unknown(path []string, shown string, value any) {
	what := "key"
	if _, ok := value.(map[string]any); ok {
		what = "table"
	}
	if u := unionAt(path); u != nil {
		what += fmt.Sprintf(" for %s %q", u.tagKey, u.tag(w.cfg))
	}
	line, col := w.pos.find(path)
	w.warnings = append(w.warnings, Warning{Line: line, Column: col, Key: shown, Msg: "unknown " + what + ", ignored"})
}

// fieldByTOMLName finds the field of struct v that the TOML key name decodes
// into: a tagged field of v itself first, then one of its embedded structs
// (as the decoder and encoder resolve them).
func fieldByTOMLName(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	var embedded []reflect.Value
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		switch {
		case tag == "-":
		case f.Anonymous && tag == "":
			embedded = append(embedded, v.Field(i))
		case tag == name:
			return v.Field(i), true
		}
	}
	for _, e := range embedded {
		if e.Kind() == reflect.Pointer {
			if e.IsNil() {
				continue
			}
			e = e.Elem()
		}
		if e.Kind() == reflect.Struct {
			if f, ok := fieldByTOMLName(e, name); ok {
				return f, true
			}
		}
	}
	return reflect.Value{}, false
}

// positions indexes the unknown keys the decoder reported, for their line
// and column.
type positions struct {
	reports []toml.DecodeError
}

func newPositions(reports []toml.DecodeError) *positions {
	return &positions{reports: reports}
}

func (p *positions) add(reports []toml.DecodeError) {
	p.reports = append(p.reports, reports...)
}

// find returns the position of the key at path: the decoder's report of that
// key; else its report of the key inside an inline table (which names only
// the enclosing [table] and the key); else the report of the nearest
// enclosing table; else the first report inside the key's table. 0, 0 if
// there is none.
func (p *positions) find(path []string) (line, col int) {
	for _, r := range p.reports {
		if slices.Equal(r.Key(), path) {
			return r.Position()
		}
	}
	last := len(path) - 1
	for _, r := range p.reports {
		k := r.Key()
		if n := len(k) - 1; n >= 0 && n <= last && k[n] == path[last] && slices.Equal(k[:n], path[:n]) {
			return r.Position()
		}
	}
	for n := last; n > 0; n-- {
		for _, r := range p.reports {
			if slices.Equal(r.Key(), path[:n]) {
				return r.Position()
			}
		}
	}
	for _, r := range p.reports {
		if k := r.Key(); len(k) > len(path) && slices.Equal(k[:len(path)], path) {
			l, c := r.Position()
			if line == 0 || l < line || l == line && c < col {
				line, col = l, c
			}
		}
	}
	return line, col
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
