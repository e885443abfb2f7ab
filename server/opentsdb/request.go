package opentsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The query body (OpenTSDB's /api/query):
//
//	{"start":"1h-ago","end":1700003600,"msResolution":false,
//	 "queries":[{"aggregator":"sum","metric":"sys.cpu","downsample":"1m-avg-zero",
//	   "rate":true,"rateOptions":{"counter":true,"counterMax":65535,"resetValue":0,"dropResets":false},
//	   "tags":{"host":"*"},
//	   "filters":[{"type":"literal_or","tagk":"dc","filter":"eu|us","groupBy":true}]}]}
//
// ParseQuery turns it into a Query, checking everything that needs no
// table; plan (plan.go) turns each sub-query into SQL for its table.

// Query is a parsed query request.
type Query struct {
	Start, End   int64 // milliseconds, both inclusive
	MsResolution bool  // dps keys in milliseconds (else seconds)
	Subs         []Sub
}

// Sub is one sub-query: one metric.
type Sub struct {
	Metric       string
	Agg          Aggregator
	Downsample   *Downsample // nil: none
	Rate         bool
	RateOptions  RateOptions
	Filters      []Filter
	ExplicitTags bool // only series whose tags are exactly the filters' tag keys
}

// RateOptions are OpenTSDB's rateOptions.
type RateOptions struct {
	Counter    bool
	CounterMax float64 // default math.MaxInt64
	ResetValue float64 // a counter rate above it reads 0; 0: no limit
	DropResets bool
}

// Downsample is "<interval>-<function>[-<fill>]".
type Downsample struct {
	Interval int64 // milliseconds; 0: "0all", one bucket for the whole range
	Fn       string
	Fill     FillPolicy
}

// FillPolicy says what an empty downsample bucket holds.
type FillPolicy int

// Fill policies.
const (
	FillNone FillPolicy = iota // empty buckets are skipped
	FillNaN                    // NaN ("NaN" in JSON)
	FillNull                   // null
	FillZero                   // 0
)

// Filter is one tag filter.
type Filter struct {
	Tagk    string
	Type    string // canonical: literal_or, not_literal_or, wildcard, regexp, iliteral_or, not_iliteral_or, iwildcard
	Expr    string // the filter as given
	GroupBy bool
}

// Aggregator is an OpenTSDB aggregator.
type Aggregator string

// Aggregators we answer.
var aggregators = map[string]bool{"none": true, "sum": true, "count": true, "avg": true, "min": true,
	"max": true, "dev": true, "zimsum": true, "mimmin": true, "mimmax": true}

// downsampleFns are the downsample functions and their SQL aggregates.
var downsampleFns = map[string]string{"avg": "avg", "sum": "sum", "min": "min", "max": "max",
	"count": "count", "dev": "stddev_pop", "first": "first", "last": "last",
	"zimsum": "sum", "mimmin": "min", "mimmax": "max"}

var filterTypes = map[string]bool{"literal_or": true, "not_literal_or": true, "wildcard": true,
	"regexp": true, "iliteral_or": true, "not_iliteral_or": true, "iwildcard": true}

// requestJSON is the body as sent.
type requestJSON struct {
	Start        json.RawMessage `json:"start"`
	End          json.RawMessage `json:"end"`
	Queries      []subJSON       `json:"queries"`
	MsResolution bool            `json:"msResolution"`
	Ms           bool            `json:"ms"`
	Timezone     string          `json:"timezone"`
}

type subJSON struct {
	Aggregator  string            `json:"aggregator"`
	Metric      string            `json:"metric"`
	Tsuids      []string          `json:"tsuids"`
	Downsample  string            `json:"downsample"`
	Rate        bool              `json:"rate"`
	RateOptions *rateJSON         `json:"rateOptions"`
	Tags        map[string]string `json:"tags"`
	Filters     []filterJSON      `json:"filters"`
	Explicit    bool              `json:"explicitTags"`
}

type rateJSON struct {
	Counter    bool     `json:"counter"`
	CounterMax *float64 `json:"counterMax"`
	ResetValue float64  `json:"resetValue"`
	DropResets bool     `json:"dropResets"`
}

type filterJSON struct {
	Type    string `json:"type"`
	Tagk    string `json:"tagk"`
	Filter  string `json:"filter"`
	GroupBy bool   `json:"groupBy"`
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, args...)...)
}

// ParseQuery parses a query body; now anchors relative times and is the
// default end. Errors wrap ErrBadRequest.
func ParseQuery(body []byte, now time.Time) (*Query, error) {
	var rj requestJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&rj); err != nil {
		return nil, badf("the body is not an OpenTSDB query: %v", err)
	}
	loc := time.UTC
	if rj.Timezone != "" {
		l, err := time.LoadLocation(rj.Timezone)
		if err != nil {
			return nil, badf("timezone %q: %v", rj.Timezone, err)
		}
		loc = l
	}
	q := &Query{MsResolution: rj.MsResolution || rj.Ms}
	if len(rj.Start) == 0 || string(rj.Start) == "null" {
		return nil, badf("missing start time")
	}
	var err error
	if q.Start, err = parseTime(rj.Start, now, loc); err != nil {
		return nil, badf("start: %v", err)
	}
	q.End = now.UnixMilli()
	if len(rj.End) > 0 && string(rj.End) != "null" && string(rj.End) != `""` {
		if q.End, err = parseTime(rj.End, now, loc); err != nil {
			return nil, badf("end: %v", err)
		}
	}
	if q.End < q.Start {
		return nil, badf("the end time (%d) is before the start time (%d)", q.End, q.Start)
	}
	if len(rj.Queries) == 0 {
		return nil, badf("missing queries: want at least one sub-query")
	}
	for i, sj := range rj.Queries {
		s, err := parseSub(&sj)
		if err != nil {
			return nil, badf("queries[%d]: %v", i, err)
		}
		q.Subs = append(q.Subs, s)
	}
	return q, nil
}

func parseSub(sj *subJSON) (Sub, error) {
	var s Sub
	if len(sj.Tsuids) > 0 {
		return s, fmt.Errorf("tsuids are not supported: query by metric and tags")
	}
	if sj.Metric == "" {
		return s, fmt.Errorf("missing metric")
	}
	s.Metric = sj.Metric
	agg := strings.ToLower(sj.Aggregator)
	if agg == "" {
		return s, fmt.Errorf("missing aggregator")
	}
	if !aggregators[agg] {
		return s, fmt.Errorf("no such aggregator %q: want none, sum, count, avg, min, max, dev, zimsum, mimmin or mimmax", sj.Aggregator)
	}
	s.Agg = Aggregator(agg)
	if sj.Downsample != "" {
		ds, err := parseDownsample(sj.Downsample)
		if err != nil {
			return s, err
		}
		s.Downsample = ds
	}
	s.Rate = sj.Rate
	s.RateOptions.CounterMax = math.MaxInt64
	if ro := sj.RateOptions; ro != nil {
		s.RateOptions.Counter = ro.Counter
		s.RateOptions.DropResets = ro.DropResets
		s.RateOptions.ResetValue = ro.ResetValue
		if ro.CounterMax != nil {
			s.RateOptions.CounterMax = *ro.CounterMax
		}
		if s.RateOptions.CounterMax <= 0 || math.IsNaN(s.RateOptions.CounterMax) {
			return s, fmt.Errorf("rateOptions.counterMax must be positive")
		}
		if s.RateOptions.ResetValue < 0 {
			return s, fmt.Errorf("rateOptions.resetValue must not be negative")
		}
	}
	s.ExplicitTags = sj.Explicit
	// Legacy tags first, in name order so that plans are deterministic.
	keys := make([]string, 0, len(sj.Tags))
	for k := range sj.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f, err := legacyFilter(k, sj.Tags[k])
		if err != nil {
			return s, err
		}
		s.Filters = append(s.Filters, f)
	}
	for i, fj := range sj.Filters {
		typ := strings.ToLower(fj.Type)
		if !filterTypes[typ] {
			return s, fmt.Errorf("filters[%d]: no such filter type %q: want literal_or, not_literal_or, wildcard, regexp, iliteral_or, not_iliteral_or or iwildcard", i, fj.Type)
		}
		f := Filter{Tagk: fj.Tagk, Type: typ, Expr: fj.Filter, GroupBy: fj.GroupBy}
		if err := f.check(); err != nil {
			return s, fmt.Errorf("filters[%d]: %v", i, err)
		}
		s.Filters = append(s.Filters, f)
	}
	return s, nil
}

// legacyFilter reads a "tags" entry: "*" groups by every value,
// "a|b" by those values, "type(expr)" is a filter of that type, anything
// else one value; every one groups by its tag.
func legacyFilter(k, v string) (Filter, error) {
	f := Filter{Tagk: k, Type: "literal_or", Expr: v, GroupBy: true}
	if open := strings.IndexByte(v, '('); open > 0 && strings.HasSuffix(v, ")") {
		if typ := strings.ToLower(v[:open]); filterTypes[typ] {
			f.Type, f.Expr = typ, v[open+1:len(v)-1]
		}
	} else if strings.Contains(v, "*") {
		f.Type = "wildcard"
	}
	if err := f.check(); err != nil {
		return f, fmt.Errorf("tags[%q]: %v", k, err)
	}
	return f, nil
}

func (f *Filter) check() error {
	if f.Tagk == "" {
		return fmt.Errorf("missing tagk")
	}
	if f.Expr == "" {
		return fmt.Errorf("tag %q: empty filter", f.Tagk)
	}
	if f.Type == "regexp" {
		if _, err := regexp.Compile(f.Expr); err != nil {
			return fmt.Errorf("tag %q: bad regular expression: %v", f.Tagk, err)
		}
	}
	return nil
}

// parseDownsample reads "<interval>-<function>[-<fill>]".
func parseDownsample(s string) (*Downsample, error) {
	parts := strings.Split(strings.ToLower(s), "-")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("downsample %q: want <interval>-<function>[-<fill policy>], e.g. 1m-avg or 1h-sum-zero", s)
	}
	ds := &Downsample{Fn: parts[1]}
	if parts[0] != "0all" && parts[0] != "all" {
		iv, err := parseDuration(parts[0])
		if err != nil {
			return nil, fmt.Errorf("downsample %q: %v", s, err)
		}
		ds.Interval = iv
	}
	if _, ok := downsampleFns[ds.Fn]; !ok {
		return nil, fmt.Errorf("downsample %q: no such function %q: want avg, sum, min, max, count, dev, first, last, zimsum, mimmin or mimmax", s, parts[1])
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "none":
		case "nan":
			ds.Fill = FillNaN
		case "null":
			ds.Fill = FillNull
		case "zero":
			ds.Fill = FillZero
		default:
			return nil, fmt.Errorf("downsample %q: no such fill policy %q: want none, nan, null or zero", s, parts[2])
		}
	}
	return ds, nil
}

// units are OpenTSDB's duration units in milliseconds (n: 30 days, y: 365
// days, as OpenTSDB counts them outside calendar downsampling).
var units = map[string]int64{"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
	"w": 7 * 86_400_000, "n": 30 * 86_400_000, "y": 365 * 86_400_000}

// parseDuration reads "<positive integer><unit>".
func parseDuration(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	unit, ok := units[s[i:]]
	if i == 0 || !ok {
		return 0, fmt.Errorf("bad duration %q: want a number and a unit (ms, s, m, h, d, w, n, y)", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("bad duration %q: out of range", s)
	}
	return n * unit, nil
}

// absoluteFormats are OpenTSDB's date formats, in the request's time
// zone (timezone; default UTC).
var absoluteFormats = []string{"2006/01/02-15:04:05", "2006/01/02 15:04:05", "2006/01/02-15:04",
	"2006/01/02 15:04", "2006/01/02"}

// parseTime reads a start or end: "now", "<duration>-ago", a date
// ("2006/01/02-15:04:05"), or a number: seconds when it has at most 10
// digits (a fraction gives milliseconds), else milliseconds, as OpenTSDB
// tells them apart.
func parseTime(raw json.RawMessage, now time.Time, loc *time.Location) (int64, error) {
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	}
	s = strings.TrimSpace(s)
	ls := strings.ToLower(s)
	switch {
	case s == "":
		return 0, fmt.Errorf("empty time")
	case ls == "now":
		return now.UnixMilli(), nil
	case strings.HasSuffix(ls, "-ago"):
		d, err := parseDuration(strings.TrimSuffix(ls, "-ago"))
		if err != nil {
			return 0, err
		}
		return now.UnixMilli() - d, nil
	case strings.Contains(s, "/"):
		for _, f := range absoluteFormats {
			if t, err := time.ParseInLocation(f, s, loc); err == nil {
				return t.UnixMilli(), nil
			}
		}
		return 0, fmt.Errorf("bad date %q: want yyyy/MM/dd[-HH:mm[:ss]]", s)
	}
	whole, frac, dotted := strings.Cut(s, ".")
	if !allDigits(whole) || dotted && !allDigits(frac) {
		return 0, fmt.Errorf("bad time %q: want seconds or milliseconds since the epoch, \"<n><unit>-ago\", \"now\" or yyyy/MM/dd-HH:mm:ss", s)
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad time %q: out of range", s)
	}
	if dotted || len(whole) <= 10 { // seconds
		if n > math.MaxInt64/1000-1000 {
			return 0, fmt.Errorf("bad time %q: out of range", s)
		}
		ms := n * 1000
		if dotted {
			if len(frac) > 3 {
				frac = frac[:3]
			}
			for len(frac) < 3 {
				frac += "0"
			}
			f, _ := strconv.ParseInt(frac, 10, 64)
			ms += f
		}
		return ms, nil
	}
	return n, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
