// Package ingest holds what the HTTP write protocols (InfluxDB line
// protocol, OpenTSDB put, …) share: reading a request body within
// server.http_max_body_size, gzip or not, and collecting the rows of a
// request into query.WriteTables for query.Executor.Write.
package ingest

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/horaego/horaedb/query"
)

// Errors of reading a body.
var (
	// ErrTooLarge is a body over the limit, before or after
	// decompression. HTTP 413.
	ErrTooLarge = errors.New("request body too large")
	// ErrBadBody is a body that cannot be read: not gzip although
	// Content-Encoding says so, or a broken connection. HTTP 400.
	ErrBadBody = errors.New("bad request body")
)

// DefaultMaxBodySize is the limit when none is configured (upstream's
// http_max_body_size default, 64 MiB).
const DefaultMaxBodySize = 64 << 20

// ReadBody reads a request body of at most limit bytes (<= 0:
// DefaultMaxBodySize), decompressing it when Content-Encoding is gzip; the
// decompressed body is held to the same limit, so a zip bomb stops there.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBodySize
	}
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: over server.http_max_body_size (%d bytes)", ErrTooLarge, limit)
	}
	var rd io.Reader = http.MaxBytesReader(w, r.Body, limit)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("%w: the body is not gzip: %v", ErrBadBody, err)
		}
		defer gz.Close()
		rd = io.LimitReader(gz, limit+1)
	}
	body, err := io.ReadAll(rd)
	switch {
	case errors.As(err, new(*http.MaxBytesError)):
		return nil, fmt.Errorf("%w: over server.http_max_body_size (%d bytes)", ErrTooLarge, limit)
	case err != nil:
		return nil, fmt.Errorf("%w: reading the body: %v", ErrBadBody, err)
	case int64(len(body)) > limit:
		return nil, fmt.Errorf("%w: decompressed, over server.http_max_body_size (%d bytes)", ErrTooLarge, limit)
	}
	return body, nil
}

// Table collects the rows of one table of a write request: the tag and
// field names in first-seen order, and rows whose cells index them.
type Table struct {
	Name string
	Rows []query.WriteRow

	tagIdx, fieldIdx map[string]uint32 // column name → index in tags/fields
	tags, fields     []string
}

// NewTable returns an empty Table.
func NewTable(name string) *Table {
	return &Table{Name: name, tagIdx: map[string]uint32{}, fieldIdx: map[string]uint32{}}
}

// Tag returns the index of tag column key, adding it on first sight.
func (t *Table) Tag(key []byte) uint32 { return index(t.tagIdx, &t.tags, key) }

// Field returns the index of field column key, adding it on first sight.
func (t *Table) Field(key []byte) uint32 { return index(t.fieldIdx, &t.fields, key) }

func index(m map[string]uint32, list *[]string, key []byte) uint32 {
	if i, ok := m[string(key)]; ok {
		return i
	}
	k := string(key)
	i := uint32(len(*list))
	m[k] = i
	*list = append(*list, k)
	return i
}

// WriteTable returns the table with its tag and field names sorted
// (upstream creates tables with columns in name order) and the rows' cells
// renumbered to match. It changes the rows in place.
func (t *Table) WriteTable() query.WriteTable {
	tags, tagMap := sortedNames(t.tags)
	fields, fieldMap := sortedNames(t.fields)
	for r := range t.Rows {
		for i := range t.Rows[r].Tags {
			t.Rows[r].Tags[i].Index = tagMap[t.Rows[r].Tags[i].Index]
		}
		for i := range t.Rows[r].Fields {
			t.Rows[r].Fields[i].Index = fieldMap[t.Rows[r].Fields[i].Index]
		}
	}
	return query.WriteTable{Table: t.Name, Tags: tags, Fields: fields, Rows: t.Rows}
}

// sortedNames returns names sorted and, for each old index, its new one.
func sortedNames(names []string) ([]string, []uint32) {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(names[x], names[y]) })
	newNames := make([]string, len(names))
	newIdx := make([]uint32, len(names))
	for pos, old := range order {
		newNames[pos] = names[old]
		newIdx[old] = uint32(pos)
	}
	return newNames, newIdx
}
