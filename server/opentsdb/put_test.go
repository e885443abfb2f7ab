package opentsdb_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestPut(t *testing.T) {
	e := newEnv(t, 1<<20)
	// One point, seconds.
	e.put(t, `{"metric":"sys.cpu.user","timestamp":1700000000,"value":42.5,"tags":{"host":"web01","dc":"eu"}}`)
	// An array, milliseconds, a numeric string value, an integer value, a
	// string timestamp, a new tag on the same metric.
	e.put(t, `[{"metric":"sys.cpu.user","timestamp":1700000010123,"value":"12.5","tags":{"host":"web02","dc":"eu"}},
		{"metric":"sys.cpu.user","timestamp":"1700000020","value":7,"tags":{"host":"web01","dc":"eu","rack":"r1"}},
		{"metric":"sys.mem","timestamp":1700000000,"value":-1e3,"tags":{"host":"web01"}}]`)
	// gzip, and unicode names and values.
	body := `[{"metric":"température","timestamp":1700000030,"value":" 21.5 ","tags":{"lieu":"Zürich","capteur":"北"}}]`
	if code, out := e.post(t, "/opentsdb/api/put", gzipped(body), "Content-Encoding", "gzip"); code != 204 {
		t.Fatalf("gzip put: %d %s", code, out)
	}
	got := fmt.Sprint(e.sql(t, "public", "SELECT CAST(`timestamp` AS BIGINT), host, dc, rack, value FROM `sys.cpu.user` ORDER BY `timestamp`"))
	want := "[[1700000000000 web01 eu <nil> 42.5] [1700000010123 web02 eu <nil> 12.5] [1700000020000 web01 eu r1 7]]"
	if got != want {
		t.Errorf("sys.cpu.user:\n got %s\nwant %s", got, want)
	}
	if got := fmt.Sprint(e.sql(t, "public", "SELECT CAST(`timestamp` AS BIGINT), host, value FROM `sys.mem`")); got != "[[1700000000000 web01 -1000]]" {
		t.Errorf("sys.mem: %s", got)
	}
	if got := fmt.Sprint(e.sql(t, "public", "SELECT capteur, lieu, value FROM `température`")); got != "[[北 Zürich 21.5]]" {
		t.Errorf("température: %s", got)
	}
	// The table: tsid, the configured timestamp column, tags as TAG
	// columns in name order, value double.
	rows := e.sql(t, "public", "SHOW CREATE TABLE `sys.cpu.user`")
	ddl := fmt.Sprint(rows[0][1])
	for _, part := range []string{"`timestamp` timestamp NOT NULL", "`dc` string TAG", "`host` string TAG", "`rack` string TAG", "`value` double"} {
		if !strings.Contains(ddl, part) {
			t.Errorf("create table lacks %q:\n%s", part, ddl)
		}
	}
}

func TestPutSummary(t *testing.T) {
	e := newEnv(t, 1<<20)
	points := `[{"metric":"m","timestamp":1700000000,"value":1,"tags":{"h":"a"}},{"metric":"m","timestamp":1700000001,"value":2,"tags":{"h":"a"}}]`
	if code, out := e.post(t, "/opentsdb/api/put?summary", points); code != 200 || out != `{"success":2,"failed":0}`+"\n" {
		t.Errorf("summary: %d %s", code, out)
	}
	if code, out := e.post(t, "/opentsdb/api/put?details=true", points); code != 200 || out != `{"success":2,"failed":0,"errors":[]}`+"\n" {
		t.Errorf("details: %d %s", code, out)
	}
	bad := `[{"metric":"m","timestamp":1700000002,"value":3,"tags":{"h":"a"}},{"metric":"m","timestamp":1700000003,"value":"x","tags":{"h":"a"}}]`
	code, out := e.post(t, "/opentsdb/api/put?details", bad)
	want := `{"success":0,"failed":2,"errors":[{"datapoint":{"metric":"m","timestamp":1700000003,"value":"x","tags":{"h":"a"}},"index":1,"error":"invalid value \"x\": want a number or a numeric string"}]}` + "\n"
	if code != 400 || out != want {
		t.Errorf("details, a bad point:\n %d %s\nwant %s", code, out, want)
	}
	if got := fmt.Sprint(e.sql(t, "public", "SELECT count(*) FROM m")); got != "[[2]]" {
		t.Errorf("after the failed put: %s rows", got)
	}
}

func TestPutBadPoints(t *testing.T) {
	e := newEnv(t, 4096)
	e.put(t, `{"metric":"m","timestamp":1700000000,"value":1,"tags":{"h":"a"}}`)
	good := `{"metric":"m","timestamp":1700000001,"value":2,"tags":{"h":"b"}}`
	goodOther := `{"metric":"other","timestamp":1700000001,"value":2,"tags":{"h":"b"}}`
	for _, tc := range []struct {
		point, want string
	}{
		{`{"timestamp":1700000002,"value":1,"tags":{"h":"a"}}`, "missing metric"},
		{`{"metric":"","timestamp":1700000002,"value":1,"tags":{"h":"a"}}`, "empty metric"},
		{`{"metric":5,"timestamp":1700000002,"value":1,"tags":{"h":"a"}}`, "metric must be a string"},
		{`{"metric":"m","value":1,"tags":{"h":"a"}}`, "missing timestamp"},
		{`{"metric":"m","timestamp":1700000002.5,"value":1,"tags":{"h":"a"}}`, "invalid timestamp"},
		{`{"metric":"m","timestamp":4294967,"value":1,"tags":{"h":"a"}}`, "invalid timestamp 4294967"},
		{`{"metric":"m","timestamp":10000000000000,"value":1,"tags":{"h":"a"}}`, "invalid timestamp 10000000000000"},
		{`{"metric":"m","timestamp":-1700000002,"value":1,"tags":{"h":"a"}}`, "invalid timestamp"},
		{`{"metric":"m","timestamp":1700000002,"tags":{"h":"a"}}`, "missing value"},
		{`{"metric":"m","timestamp":1700000002,"value":"12abc","tags":{"h":"a"}}`, `invalid value "12abc"`},
		{`{"metric":"m","timestamp":1700000002,"value":true,"tags":{"h":"a"}}`, "invalid value true"},
		{`{"metric":"m","timestamp":1700000002,"value":"NaN","tags":{"h":"a"}}`, "NaN and infinite"},
		{`{"metric":"m","timestamp":1700000002,"value":1e999,"tags":{"h":"a"}}`, "NaN and infinite"},
		{`{"metric":"m","timestamp":1700000002,"value":1}`, "at least one tag"},
		{`{"metric":"m","timestamp":1700000002,"value":1,"tags":{}}`, "at least one tag"},
		{`{"metric":"m","timestamp":1700000002,"value":1,"tags":{"":"a"}}`, "empty tag name"},
		{`{"metric":"m","timestamp":1700000002,"value":1,"tags":{"h":""}}`, `tag "h": empty value`},
		{`{"metric":"m","timestamp":1700000002,"value":1,"tags":{"h":null}}`, `tag "h": the value must be a string`},
		{`{"metric":"m","timestamp":1700000002,"value":1,"tags":{"value":"x"}}`, `tag name "value" is reserved`},
		{`{"metric":"m","timestamp":1700000002,"value":1,"tags":{"Timestamp":"x"}}`, `tag name "Timestamp" is reserved`},
		{`{"metric":"m","timestamp":1700000002,"value":1,"tags":{"tsid":"x"}}`, `tag name "tsid" is reserved`},
		{`[1]`, "not a data point object"},
	} {
		body := "[" + good + "," + goodOther + "," + strings.Trim(tc.point, "[]") + "]"
		if tc.point == `[1]` {
			body = "[" + good + "," + goodOther + ",1]"
		}
		code, out := e.post(t, "/opentsdb/api/put", body)
		var eb struct{ Message string }
		_ = json.Unmarshal([]byte(out), &eb)
		if code != 400 || !strings.HasPrefix(eb.Message, "point at index 2: ") || !strings.Contains(eb.Message, tc.want) ||
			!strings.HasSuffix(eb.Message, "(nothing was written)") {
			t.Errorf("%s: %d %s, want 400 naming index 2 and %q", tc.point, code, out, tc.want)
		}
	}
	for _, tc := range []struct {
		body, header, want string
		code               int
	}{
		{"", "", "empty body", 400},
		{"{", "", "not a JSON data point", 400},
		{`[{"metric":"m"}`, "", "not a JSON array", 400},
		{`"m"`, "", "must be a JSON data point or an array", 400},
		{"not gzip", "gzip", "gzip", 400},
		{"[" + strings.Repeat(good+",", 100) + good + "]", "", "http_max_body_size", 413},
		{gzipped("[" + strings.Repeat(good+",", 100) + good + "]"), "gzip", "decompressed", 413},
	} {
		code, out := e.post(t, "/opentsdb/api/put", tc.body, "Content-Encoding", tc.header)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%.40q: %d %s, want %d and %q", tc.body, code, out, tc.code, tc.want)
		}
		var eb struct {
			Code  int
			Error struct{ Code int }
		}
		if err := json.Unmarshal([]byte(out), &eb); err != nil || eb.Code != tc.code || eb.Error.Code != tc.code {
			t.Errorf("error body %s: %v", out, err)
		}
	}
	// Nothing of any rejected request was written; the table "other" was
	// never created.
	if got := fmt.Sprint(e.sql(t, "public", "SELECT h, value FROM m")); got != "[[a 1]]" {
		t.Errorf("after the rejected puts: %s", got)
	}
	if got := fmt.Sprint(e.sql(t, "public", "SHOW TABLES")); strings.Contains(got, "other") {
		t.Errorf("tables after the rejected puts: %s", got)
	}
	// A point that does not fit the existing table (a tag that is a
	// double field there, a value column that is a string): 400, nothing
	// written.
	for _, ddl := range []string{
		"CREATE TABLE fx (ts timestamp NOT NULL, h string TAG, d double, value double, TIMESTAMP KEY(ts))",
		"CREATE TABLE sx (ts timestamp NOT NULL, h string TAG, value string, TIMESTAMP KEY(ts))",
	} {
		e.sql(t, "public", ddl)
	}
	for _, body := range []string{
		`[{"metric":"fx","timestamp":1700000001,"value":1,"tags":{"h":"a"}},{"metric":"fx","timestamp":1700000003,"value":1,"tags":{"h":"c","d":"x"}}]`,
		`[{"metric":"fx","timestamp":1700000001,"value":1,"tags":{"h":"a"}},{"metric":"sx","timestamp":1700000003,"value":1,"tags":{"h":"c"}}]`,
	} {
		code, out := e.post(t, "/opentsdb/api/put", body)
		if code != 400 {
			t.Errorf("%s: %d %s, want 400", body, code, out)
		}
	}
	for _, tbl := range []string{"fx", "sx"} {
		if got := fmt.Sprint(e.sql(t, "public", "SELECT count(*) FROM "+tbl)); got != "[[0]]" {
			t.Errorf("%s after the rejected puts: %s rows", tbl, got)
		}
	}
	// A new tag on an existing metric is added as a column.
	code, out := e.post(t, "/opentsdb/api/put", `[`+good+`,{"metric":"m","timestamp":1700000003,"value":1,"tags":{"h":"c","rack":"x"}}]`)
	if code != 204 {
		t.Fatalf("new tag: %d %s", code, out)
	}
	if got := fmt.Sprint(e.sql(t, "public", "SELECT h, rack, value FROM m ORDER BY `timestamp`")); got != "[[a <nil> 1] [b <nil> 2] [c x 1]]" {
		t.Errorf("after the new tag: %s", got)
	}
}
