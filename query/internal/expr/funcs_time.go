package expr

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// ParseInterval turns an INTERVAL literal into milliseconds: a number with
// a unit ("30", "second"), or a string holding both ("1 hour", "2 days
// 3 hours"). Months and years have no fixed length and are refused.
func ParseInterval(value, unit string) (int64, error) {
	text := strings.TrimSpace(value)
	if unit != "" {
		text += " " + unit
	}
	f := strings.Fields(strings.ToLower(text))
	if len(f) == 0 || len(f)%2 != 0 {
		return 0, fmt.Errorf("invalid interval %q (want e.g. '30 seconds')", text)
	}
	var total float64
	for i := 0; i < len(f); i += 2 {
		var n float64
		if _, err := fmt.Sscanf(f[i], "%g", &n); err != nil {
			return 0, fmt.Errorf("invalid interval %q: %q is not a number", text, f[i])
		}
		ms, ok := intervalUnits[f[i+1]]
		if !ok {
			ms, ok = intervalUnits[strings.TrimSuffix(f[i+1], "s")]
		}
		if !ok {
			if u := strings.TrimSuffix(f[i+1], "s"); u == "month" || u == "year" || u == "mon" {
				return 0, fmt.Errorf("interval %q: months and years have no fixed length; use days", text)
			}
			return 0, fmt.Errorf("invalid interval %q: unknown unit %q", text, f[i+1])
		}
		total += n * ms
	}
	if math.Abs(total) > math.MaxInt64/2 {
		return 0, fmt.Errorf("interval %q is too large", text)
	}
	return int64(total), nil
}

var intervalUnits = map[string]float64{
	"millisecond": 1, "m": 60_000, "ms": 1, "second": 1000, "sec": 1000, "minute": 60_000, "min": 60_000,
	"hour": 3_600_000, "h": 3_600_000, "day": 86_400_000, "d": 86_400_000, "week": 604_800_000, "w": 604_800_000,
}

func timestampArg(name string, args []Expr, i int) error {
	if t := args[i].Type(); t.ID() != arrow.TIMESTAMP && t.ID() != arrow.NULL {
		return fmt.Errorf("%s needs a timestamp as argument %d, got %s", name, i+1, typeDisplayName(t))
	}
	return nil
}

// truncTime truncates t to the start of unit in its location.
func truncTime(t time.Time, unit string) (time.Time, error) {
	y, m, d := t.Date()
	loc := t.Location()
	switch strings.ToLower(unit) {
	case "millisecond", "milliseconds":
		return t.Truncate(time.Millisecond), nil
	case "second", "seconds":
		return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, loc), nil
	case "minute", "minutes":
		return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, loc), nil
	case "hour", "hours":
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, loc), nil
	case "day", "days":
		return time.Date(y, m, d, 0, 0, 0, 0, loc), nil
	case "week", "weeks":
		wd := (int(t.Weekday()) + 6) % 7
		return time.Date(y, m, d-wd, 0, 0, 0, 0, loc), nil
	case "month", "months":
		return time.Date(y, m, 1, 0, 0, 0, 0, loc), nil
	case "quarter", "quarters":
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc), nil
	case "year", "years":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), nil
	}
	return time.Time{}, fmt.Errorf("unknown unit %q (want second, minute, hour, day, week, month, quarter or year)", unit)
}

// datePart extracts a field of t.
func datePart(t time.Time, field string) (float64, error) {
	switch strings.ToLower(field) {
	case "year", "years":
		return float64(t.Year()), nil
	case "quarter":
		return float64((int(t.Month())-1)/3 + 1), nil
	case "month", "months":
		return float64(t.Month()), nil
	case "week":
		_, w := t.ISOWeek()
		return float64(w), nil
	case "day", "days":
		return float64(t.Day()), nil
	case "hour", "hours":
		return float64(t.Hour()), nil
	case "minute", "minutes":
		return float64(t.Minute()), nil
	case "second", "seconds":
		return float64(t.Second()) + float64(t.Nanosecond())/1e9, nil
	case "millisecond", "milliseconds":
		return float64(t.Second()*1000) + float64(t.Nanosecond())/1e6, nil
	case "dow":
		return float64(t.Weekday()), nil
	case "doy":
		return float64(t.YearDay()), nil
	case "epoch":
		return float64(t.UnixMilli()) / 1000, nil
	}
	return 0, fmt.Errorf("unknown field %q", field)
}

// NewDatePart binds date_part(field, ts), also what EXTRACT(field FROM ts)
// becomes.
func NewDatePart(field string, x Expr, c *Ctx) (Expr, error) {
	return NewFunc("date_part", []Expr{&Literal{Val: String(field)}, x}, c)
}

func init() {
	register(funcDef{2, 2, func(name string, args []Expr, c *Ctx) (Expr, error) {
		unit, ok := constString(args[0])
		if !ok {
			return nil, fmt.Errorf("%s: the unit must be a constant string", name)
		}
		if err := timestampArg(name, args, 1); err != nil {
			return nil, err
		}
		if _, err := truncTime(time.Unix(0, 0), unit); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		return rowFunc(name, args, TimestampType, true, func(c *Ctx, v []Scalar) (Scalar, error) {
			t, _ := truncTime(time.UnixMilli(v[1].I).In(c.TimeZone), unit)
			return Timestamp(t.UnixMilli()), nil
		}), nil
	}}, "date_trunc")
	register(funcDef{2, 2, func(name string, args []Expr, c *Ctx) (Expr, error) {
		field, ok := constString(args[0])
		if !ok {
			return nil, fmt.Errorf("%s: the field must be a constant string", name)
		}
		if t := args[1].Type(); !IsTemporal(t) && t.ID() != arrow.NULL {
			return nil, fmt.Errorf("%s needs a timestamp or date, got %s", name, typeDisplayName(t))
		}
		if _, err := datePart(time.Unix(0, 0), field); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		return rowFunc(name, args, arrow.PrimitiveTypes.Float64, true, func(c *Ctx, v []Scalar) (Scalar, error) {
			ms := convertTemporal(v[1].Type, TimestampType, v[1].I)
			f, _ := datePart(time.UnixMilli(ms).In(c.TimeZone), field)
			return Float64(f), nil
		}), nil
	}}, "date_part", "datepart")
	// date_bin(interval, ts [, origin]) puts ts into interval-wide bins
	// aligned at origin (default the Unix epoch).
	register(funcDef{2, 3, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if args[0].Type().ID() != arrow.DURATION {
			return nil, fmt.Errorf("%s: the stride must be an INTERVAL, e.g. INTERVAL '15 minutes'", name)
		}
		if err := timestampArg(name, args, 1); err != nil {
			return nil, err
		}
		if len(args) == 3 {
			if err := timestampArg(name, args, 2); err != nil {
				return nil, err
			}
		}
		return rowFunc(name, args, TimestampType, true, func(_ *Ctx, v []Scalar) (Scalar, error) {
			stride := v[0].I
			if stride <= 0 {
				return Scalar{}, Errorf("date_bin: the stride must be positive")
			}
			origin := int64(0)
			if len(v) == 3 {
				origin = v[2].I
			}
			return Timestamp(origin + floorDivInt(v[1].I-origin, stride)*stride), nil
		}), nil
	}}, "date_bin")
	toTS := func(scale float64) funcDef {
		return funcDef{1, 1, func(name string, args []Expr, c *Ctx) (Expr, error) {
			t := args[0].Type()
			if !IsNumeric(t) && t.ID() != arrow.STRING && t.ID() != arrow.TIMESTAMP && t.ID() != arrow.NULL {
				return nil, fmt.Errorf("%s needs a number or a string, got %s", name, typeDisplayName(t))
			}
			return rowFunc(name, args, TimestampType, true, func(c *Ctx, v []Scalar) (Scalar, error) {
				switch classOf(v[0].Type) {
				case classString:
					ms, err := ParseTimestamp(v[0].S, c.TimeZone)
					return Timestamp(ms), err
				case classFloat:
					return Timestamp(int64(math.Floor(v[0].F * scale))), nil
				case classUint:
					return Timestamp(int64(float64(v[0].U) * scale)), nil
				}
				if v[0].Type.ID() == arrow.TIMESTAMP {
					return v[0], nil
				}
				return Timestamp(int64(math.Floor(float64(v[0].I) * scale))), nil
			}), nil
		}}
	}
	register(toTS(1000), "to_timestamp", "to_timestamp_seconds", "from_unixtime")
	register(toTS(1), "to_timestamp_millis")
	register(toTS(0.001), "to_timestamp_micros")
	register(toTS(0.000001), "to_timestamp_nanos")
	register(funcDef{1, 1, func(name string, args []Expr, c *Ctx) (Expr, error) {
		if err := timestampArg(name, args, 0); err != nil {
			return nil, err
		}
		return rowFunc(name, args, arrow.PrimitiveTypes.Int64, true, func(_ *Ctx, v []Scalar) (Scalar, error) {
			return Int64(floorDivInt(v[0].I, 1000)), nil
		}), nil
	}}, "to_unixtime")
}
