package opentsdb

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/horaego/horaedb/internal/jsonenc"
)

// Suggest is GET /opentsdb/api/suggest?type=metrics|tagk&q=<prefix>&max=25:
// the sorted names of that type starting with q. Metrics are the tables
// with a value column; tag keys the tag columns of those tables. Tag values
// (type=tagv) would need a scan of every table and are refused.
func (h *Handler) Suggest(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	typ, prefix := params.Get("type"), params.Get("q")
	limit := 25
	if m := params.Get("max"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "max must be a positive integer")
			return
		}
		limit = n
	}
	db := h.o.Database(r)
	seen := map[string]bool{}
	var names []string
	add := func(name string) {
		if strings.HasPrefix(name, prefix) && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	switch typ {
	case "metrics", "tagk":
		for _, tbl := range h.o.Executor.TableNames(db) {
			sch, err := h.o.Executor.TableSchema(db, tbl)
			if err != nil {
				continue
			}
			if _, err := tableOf(tbl, sch); err != nil {
				continue
			}
			if typ == "metrics" {
				add(tbl)
				continue
			}
			for _, c := range sch.Columns {
				if c.IsTag && c.Name != "tsid" {
					add(c.Name)
				}
			}
		}
	case "tagv":
		writeError(w, http.StatusBadRequest, "suggest type tagv is not supported: use SHOW or SELECT DISTINCT through /sql")
		return
	default:
		writeError(w, http.StatusBadRequest, "suggest type must be metrics or tagk, got "+strconv.Quote(typ))
		return
	}
	slices.Sort(names)
	if len(names) > limit {
		names = names[:limit]
	}
	out := []byte{'['}
	for i, n := range names {
		if i > 0 {
			out = append(out, ',')
		}
		out = jsonenc.String(out, n)
	}
	writeJSON(w, http.StatusOK, append(out, "]\n"...))
}
