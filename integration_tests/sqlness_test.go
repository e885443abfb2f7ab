//go:build integration

package integration_tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// The SQL cases are sqlness files, as upstream's integration tests
// (reference §5.2): cases/**/*.sql run against a real server, and the
// output, rendered the way upstream's runner rendered it, must equal the
// sibling .result file. `go test -tags integration -run TestSQLCases
// ./integration_tests/ -update` rewrites the .result files; review the diff.
//
// Differences from upstream's rendering, on purpose: NULL shows as Null
// (upstream's client printed the slot's zero value), dates and times show
// as Date("...") and Time("..."), and error messages are ours.
var update = flag.Bool("update", false, "rewrite the .result files of the SQL cases")

func TestSQLCases(t *testing.T) {
	files, err := filepath.Glob("cases/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("cases/*/*.sql")
	files = append(files, more...)
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no SQL cases found")
	}
	// The cases write timestamps from 1970 on, as upstream's do; upstream
	// kept expired rows visible until a compaction dropped them, we hide
	// them at read time, so the cases' tables default to no TTL
	// (28_ttl covers TTL itself).
	n := StartNode(t, NodeOptions{ExtraConfig: "[analytic.table_opts]\nenable_ttl = false\n"})
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "cases/"), ".sql")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := runCase(t, n, string(src))
			resultPath := strings.TrimSuffix(f, ".sql") + ".result"
			if *update {
				if err := os.WriteFile(resultPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(resultPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from its .result file (run with -update and review the diff):\n%s", f, diffLines(string(want), got))
			}
		})
	}
}

type replace struct {
	re   *regexp.Regexp
	with string
}

// runCase runs one sqlness file and returns its rendered output.
func runCase(t *testing.T, n *Node, src string) string {
	var out strings.Builder
	var comments []string
	var lines []string
	var preCmd string
	var replaces []replace
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "--"):
			comments = append(comments, line)
			if arg, ok := strings.CutPrefix(trimmed, "-- SQLNESS ARG pre_cmd="); ok {
				preCmd = strings.TrimSpace(arg)
			}
			if arg, ok := strings.CutPrefix(trimmed, "-- SQLNESS REPLACE "); ok {
				pattern, with, _ := strings.Cut(arg, " ")
				re, err := regexp.Compile(pattern)
				if err != nil {
					t.Fatalf("bad REPLACE pattern %q: %v", pattern, err)
				}
				replaces = append(replaces, replace{re, with})
			}
			continue
		case trimmed == "":
			continue
		}
		lines = append(lines, line)
		if !strings.HasSuffix(trimmed, ";") {
			continue
		}
		for _, c := range comments {
			out.WriteString(c + "\n")
		}
		out.WriteString(strings.Join(lines, "\n") + "\n\n")
		text := strings.TrimLeft(strings.Join(lines, "\n"), " \t\n")
		for _, stmt := range strings.Split(text, ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if preCmd != "" {
				path := map[string]string{"flush": "/debug/flush_memtable", "compact": "/debug/compact_table"}[preCmd]
				if code, body, err := n.Post(context.Background(), path, nil); err != nil || code != 200 {
					t.Fatalf("pre_cmd %s: %d %s %v", preCmd, code, body, err)
				}
			}
			res := queryRendered(t, n, stmt+";")
			for _, r := range replaces {
				res = r.re.ReplaceAllString(res, r.with)
			}
			out.WriteString(res + "\n\n")
		}
		comments, lines, preCmd, replaces = nil, nil, "", nil
	}
	return out.String()
}

// queryRendered runs a statement and renders its result as upstream's
// runner did.
func queryRendered(t *testing.T, n *Node, stmt string) string {
	req, err := http.NewRequest("POST", n.URL+"/sql", strings.NewReader(stmt))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.apache.arrow.stream")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Sprintf("Failed to execute query, err: Server(ServerError { code: %d, msg: %s })", resp.StatusCode, rustString(e.Message))
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.apache.arrow.stream") {
		var r struct {
			AffectedRows int64 `json:"affected_rows"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%s: %s", stmt, body)
		}
		return fmt.Sprintf("affected_rows: %d", r.AffectedRows)
	}
	rdr, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	defer rdr.Release()
	var b strings.Builder
	for _, f := range rdr.Schema().Fields() {
		b.WriteString(f.Name + ",")
	}
	b.WriteString("\n")
	rows := 0
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			for c := 0; c < int(rec.NumCols()); c++ {
				b.WriteString(renderCell(rec.Column(c), r) + ",")
			}
			b.WriteString("\n")
			rows++
		}
	}
	if err := rdr.Err(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s: %v", stmt, err)
	}
	if rows == 0 {
		return "affected_rows: 0"
	}
	return b.String()
}

// renderCell prints a value as the Rust client's Value Debug does.
func renderCell(a arrow.Array, i int) string {
	if a.IsNull(i) || a.DataType().ID() == arrow.NULL {
		return "Null"
	}
	switch a := a.(type) {
	case *array.Uint64:
		return fmt.Sprintf("UInt64(%d)", a.Value(i))
	case *array.Uint32:
		return fmt.Sprintf("UInt32(%d)", a.Value(i))
	case *array.Uint16:
		return fmt.Sprintf("UInt16(%d)", a.Value(i))
	case *array.Uint8:
		return fmt.Sprintf("UInt8(%d)", a.Value(i))
	case *array.Int64:
		return fmt.Sprintf("Int64(%d)", a.Value(i))
	case *array.Int32:
		return fmt.Sprintf("Int32(%d)", a.Value(i))
	case *array.Int16:
		return fmt.Sprintf("Int16(%d)", a.Value(i))
	case *array.Int8:
		return fmt.Sprintf("Int8(%d)", a.Value(i))
	case *array.Float64:
		return "Double(" + rustFloat(a.Value(i), 64) + ")"
	case *array.Float32:
		return "Float(" + rustFloat(float64(a.Value(i)), 32) + ")"
	case *array.String:
		return "String(" + rustString(a.Value(i)) + ")"
	case *array.Boolean:
		return fmt.Sprintf("Boolean(%t)", a.Value(i))
	case *array.Timestamp:
		return fmt.Sprintf("Timestamp(%d)", a.Value(i))
	case *array.Binary:
		parts := make([]string, len(a.Value(i)))
		for k, v := range a.Value(i) {
			parts[k] = strconv.Itoa(int(v))
		}
		return "Varbinary([" + strings.Join(parts, ", ") + "])"
	case *array.Date32:
		return fmt.Sprintf("Date(%q)", a.Value(i).ToTime().Format("2006-01-02"))
	case *array.Time64:
		ns := int64(a.Value(i))
		s := fmt.Sprintf("%02d:%02d:%02d", ns/3600e9, ns/60e9%60, ns/1e9%60)
		if frac := ns % 1e9; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%09d", frac), "0")
		}
		return fmt.Sprintf("Time(%q)", s)
	}
	return fmt.Sprintf("%s(%s)", a.DataType(), a.ValueStr(i))
}

// rustFloat prints a float as Rust's Debug does: the shortest digits that
// round-trip, always with a fraction or an exponent.
func rustFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs >= 1e16 || abs < 1e-4) {
		s := strconv.FormatFloat(f, 'e', -1, bits)
		mant, exp, _ := strings.Cut(s, "e")
		e, _ := strconv.Atoi(exp)
		return mant + "e" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(f, 'f', -1, bits)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// rustString prints a string as Rust's Debug does.
func rustString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// diffLines shows the first lines where two texts differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
