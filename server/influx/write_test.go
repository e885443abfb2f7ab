package influx

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/query"
)

// render prints a parsed table as "table tags|fields" and one line per row.
func render(tables []query.WriteTable) string {
	var b strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&b, "%s %v|%v\n", t.Table, t.Tags, t.Fields)
		for _, r := range t.Rows {
			fmt.Fprintf(&b, "  %d", r.Timestamp)
			for _, c := range r.Tags {
				fmt.Fprintf(&b, " %s=%q", t.Tags[c.Index], c.Value.S)
			}
			for _, c := range r.Fields {
				v := c.Value
				var s string
				switch v.Kind {
				case schema.Int64:
					s = fmt.Sprintf("%di", v.I)
				case schema.UInt64:
					s = fmt.Sprintf("%du", v.U)
				case schema.Double:
					s = fmt.Sprint(v.F)
				case schema.String:
					s = fmt.Sprintf("%q", v.S)
				case schema.Boolean:
					s = fmt.Sprint(v.B)
				}
				fmt.Fprintf(&b, " %s:%s", t.Fields[c.Index], s)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestParseLines(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_123)
	body := "cpu,region=eu,host=a usage=0.5,count=3i 1700000000000000000\n" +
		"\n# a comment\n" +
		"mem,host=b free=10u,ok=true,note=\"hi \\\"there\\\"\"\n" +
		"cpu,host=b,zone=z1 usage=1.5 1700000001000000000\n" +
		"cpu\\ load,host\\,x=a\\ b value=-1e3 1700000002000000000\n" +
		"température,lieu=Zürich valeur=21.5 1700000003000000000\n"
	tables, n, err := ParseLines([]byte(body), "", now)
	if err != nil {
		t.Fatal(err)
	}
	want := `cpu [host region zone]|[count usage]
  1700000000000 region="eu" host="a" usage:0.5 count:3i
  1700000001000 host="b" zone="z1" usage:1.5
mem [host]|[free note ok]
  1700000000123 host="b" free:10u ok:true note:"hi \"there\""
cpu load [host,x]|[value]
  1700000002000 host,x="a b" value:-1000
température [lieu]|[valeur]
  1700000003000 lieu="Zürich" valeur:21.5
`
	if got := render(tables); got != want || n != 5 {
		t.Errorf("%d points:\n%s\nwant:\n%s", n, got, want)
	}
}

func TestPrecision(t *testing.T) {
	for _, tc := range []struct {
		precision string
		ts        string
		want      int64
	}{
		{"", "1700000000123456789", 1700000000123},
		{"ns", "-1", -1},
		{"n", "1700000000123456789", 1700000000123},
		{"u", "1700000000123456", 1700000000123},
		{"ms", "1700000000123", 1700000000123},
		{"s", "1700000000", 1700000000000},
		{"m", "28333333", 1699999980000},
		{"h", "472222", 1699999200000},
	} {
		tables, _, err := ParseLines([]byte("m v=1 "+tc.ts), tc.precision, time.Now())
		if err != nil {
			t.Errorf("precision %q: %v", tc.precision, err)
			continue
		}
		if got := tables[0].Rows[0].Timestamp; got != tc.want {
			t.Errorf("precision %q, %s: %d, want %d", tc.precision, tc.ts, got, tc.want)
		}
	}
	if _, _, err := ParseLines([]byte("m v=1 1"), "days", time.Now()); !errors.Is(err, ErrBadRequest) {
		t.Errorf("unknown precision: %v", err)
	}
	if _, _, err := ParseLines([]byte(fmt.Sprintf("m v=1 %d", int64(math.MaxInt64/100))), "s", time.Now()); err == nil {
		t.Errorf("an overflowing timestamp was accepted")
	}
}

func TestParseLinesErrors(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{"cpu usage=1\ncpu,host=a\n", "line 2"},
		{"cpu usage=1\ncpu usage=\n", "line 2"},
		{"cpu usage=1i2\n", "line 1"},
		{"cpu usage=1 12ab\n", "line 1"},
		{",host=a usage=1\n", "line 1"},
		{"cpu usage=\"unterminated\n", "line 1"},
	} {
		_, _, err := ParseLines([]byte(tc.body), "ms", time.Now())
		if err == nil || !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error naming %s", tc.body, err, tc.want)
		}
	}
}

func FuzzParseLines(f *testing.F) {
	f.Add([]byte("cpu,host=a usage=0.5,count=3i 1700000000000000000\nmem free=1u"), "")
	f.Add([]byte("a\\ b,c\\=d=e\\,f g=\"h\\\"i\" -1"), "s")
	f.Add([]byte("m v=t,w=F"), "h")
	f.Fuzz(func(t *testing.T, body []byte, precision string) {
		tables, n, err := ParseLines(body, precision, time.UnixMilli(0))
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		rows := 0
		for _, tb := range tables {
			for _, r := range tb.Rows {
				rows++
				for _, c := range r.Tags {
					if int(c.Index) >= len(tb.Tags) {
						t.Fatalf("tag index %d of %d", c.Index, len(tb.Tags))
					}
				}
				for _, c := range r.Fields {
					if int(c.Index) >= len(tb.Fields) {
						t.Fatalf("field index %d of %d", c.Index, len(tb.Fields))
					}
				}
			}
		}
		if rows != n {
			t.Fatalf("%d rows, %d points", rows, n)
		}
	})
}
