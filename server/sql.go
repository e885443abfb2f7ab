package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/horaego/horaedb/internal/jsonenc"
	"github.com/horaego/horaedb/internal/units"
	"github.com/horaego/horaedb/query"
)

// HeaderSchema selects the database (schema) of a request; default
// "public".
const HeaderSchema = "x-horaedb-schema"

// maxLoggedSQL is how much of a statement's text a log line carries.
const maxLoggedSQL = 1024

// sql is POST /sql. The body is {"query":"<sql>"} or, when it is not a JSON
// object, the SQL text itself. The answer is {"affected_rows":N} for DDL and
// writes, {"rows":[{...},...]} for queries (see writeRows), or an error.
func (a *api) sql(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	text, err := a.readSQL(w, r)
	if err != nil {
		writeErr(w, err)
		return
	}
	db := requestDatabase(r)
	res, err := a.exec.Execute(r.Context(), query.Session{Database: db}, text)
	if took := time.Since(began); took > a.slow {
		a.log.Info("slow query", "sql", truncate(text, maxLoggedSQL), "database", db, "took", took, "err", err)
	}
	if err != nil {
		status := statusOf(err)
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelWarn
		}
		a.log.Log(r.Context(), level, "sql failed", "status", status, "err", err,
			"sql", truncate(text, maxLoggedSQL), "database", db)
		writeErr(w, err)
		return
	}
	if res == nil {
		res = &query.Result{}
	}
	defer res.Release()
	if !res.IsQuery() {
		buf := append([]byte(`{"affected_rows":`), jsonenc.Int(nil, res.AffectedRows)...)
		writeJSON(w, http.StatusOK, append(buf, '}'))
		return
	}
	if wantsArrow(r) {
		w.Header().Set("Content-Type", ArrowStreamType)
		w.WriteHeader(http.StatusOK)
		if err := writeArrow(w, res); err != nil {
			a.log.Debug("sql: writing the response failed", "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if err := writeRows(w, res.Records); err != nil {
		// The status is sent; the client sees a truncated body.
		a.log.Debug("sql: writing the response failed", "err", err)
	}
}

// ArrowStreamType is the media type of an Arrow IPC stream. A client that
// sends it in Accept gets query results as such a stream (the schema, then
// the record batches), with exact types, instead of JSON. DDL and writes
// still answer {"affected_rows":N}.
const ArrowStreamType = "application/vnd.apache.arrow.stream"

func wantsArrow(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), ArrowStreamType)
}

func writeArrow(w io.Writer, res *query.Result) error {
	iw := ipc.NewWriter(w, ipc.WithSchema(res.Schema))
	for _, rec := range res.Records {
		if err := iw.Write(rec); err != nil {
			iw.Close()
			return err
		}
	}
	return iw.Close()
}

// readSQL reads the body, within server.http_max_body_size, and returns the
// statement in it.
func (a *api) readSQL(w http.ResponseWriter, r *http.Request) (string, error) {
	tooLarge := func() error {
		return fmt.Errorf("%w: the body is larger than server.http_max_body_size = %s",
			errTooLarge, units.Size(a.maxBody))
	}
	if r.ContentLength > a.maxBody {
		return "", tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return "", tooLarge()
		}
		return "", fmt.Errorf("%w: reading the body: %v", errBadRequest, err)
	}
	return parseSQLBody(body)
}

// parseSQLBody returns the statement of a /sql body: the "query" of a JSON
// object, or else the body itself (invalid UTF-8 replaced, as upstream's
// from_utf8_lossy does).
func parseSQLBody(body []byte) (string, error) {
	var text string
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		var req struct {
			Query *string `json:"query"`
		}
		if err := json.Unmarshal(trimmed, &req); err != nil {
			return "", fmt.Errorf(`%w: malformed JSON body (want {"query": "<sql>"} or the SQL text): %v`,
				errBadRequest, err)
		}
		if req.Query == nil {
			return "", fmt.Errorf(`%w: the JSON body has no "query" (want {"query": "<sql>"})`, errBadRequest)
		}
		text = *req.Query
	} else {
		text = strings.ToValidUTF8(string(body), "\uFFFD")
	}
	if strings.TrimSpace(text) == "" {
		return "", fmt.Errorf("%w: empty query", errBadRequest)
	}
	return text, nil
}

// requestDatabase is the database (schema) a request names in the
// x-horaedb-schema header; default "public".
func requestDatabase(r *http.Request) string {
	if db := r.Header.Get(HeaderSchema); db != "" {
		return db
	}
	return query.DefaultDatabase
}
