// Package units parses and prints HoraeDB's duration and size formats, the
// ones its config files and table options use ("7d", "1d2h", "300ms"; "32MB",
// "1GiB", "2097152"). Sizes are always 1024-based, as upstream's size_ext.
package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax is returned for a duration or size that does not parse.
var ErrSyntax = errors.New("units: invalid syntax")

// Day is 24 hours; HoraeDB durations allow a "d" unit.
const Day = 24 * time.Hour

var durationUnits = []struct {
	name string
	d    time.Duration
}{
	// Ordered from largest to smallest; a duration lists units in this order.
	{"d", Day},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
	{"us", time.Microsecond},
	{"ns", time.Nanosecond},
}

// ParseDuration parses a sequence of <number><unit> with units in strictly
// decreasing order (d > h > m > s > ms > us > ns), such as "7d", "1d2h",
// "1.5h" or "300ms". A bare "0" is zero.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%w: empty duration", ErrSyntax)
	}
	if s == "0" {
		return 0, nil
	}
	var total float64
	last := -1
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("%w: duration %q: expected a number", ErrSyntax, orig)
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("%w: duration %q: %v", ErrSyntax, orig, err)
		}
		s = s[i:]
		j := 0
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		unit := s[:j]
		s = s[j:]
		idx := -1
		for k, u := range durationUnits {
			if u.name == unit {
				idx = k
				break
			}
		}
		if idx < 0 {
			return 0, fmt.Errorf("%w: duration %q: unknown unit %q (use d, h, m, s, ms)", ErrSyntax, orig, unit)
		}
		if idx <= last {
			return 0, fmt.Errorf("%w: duration %q: units must go from larger to smaller", ErrSyntax, orig)
		}
		last = idx
		total += n * float64(durationUnits[idx].d)
	}
	if total > math.MaxInt64 {
		return 0, fmt.Errorf("%w: duration %q is too large", ErrSyntax, orig)
	}
	return time.Duration(total), nil
}

// FormatDuration prints d in HoraeDB's style: "7d", "2h", "1d2h", "300ms",
// "0s". Sub-millisecond parts are printed in us/ns only when present.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range durationUnits {
		if d >= u.d {
			n := d / u.d
			d -= n * u.d
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
		}
	}
	return b.String()
}

var sizeUnits = map[string]uint64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
	"p": 1 << 50, "pb": 1 << 50, "pib": 1 << 50,
}

// ParseSize parses <number><unit> where unit is one of B, K, KB, KiB, M, MB,
// MiB, G, GB, GiB, T, TB, TiB, P, PB, PiB or empty (bytes), case-insensitive;
// all units are 1024-based.
func ParseSize(s string) (uint64, error) {
	orig := s
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%w: size %q: expected a number", ErrSyntax, orig)
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("%w: size %q: %v", ErrSyntax, orig, err)
	}
	mult, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("%w: size %q: unknown unit %q", ErrSyntax, orig, s[i:])
	}
	v := n * float64(mult)
	if v >= math.MaxUint64 {
		return 0, fmt.Errorf("%w: size %q is too large", ErrSyntax, orig)
	}
	return uint64(v), nil
}

// Duration is a time.Duration that reads and writes HoraeDB's format in TOML
// and JSON ("10s", "7d").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// String implements fmt.Stringer.
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// Size is a byte count that reads "64MB"-style strings or plain integers.
type Size uint64

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = Size(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler; sizes print as byte counts
// with the largest exact binary unit ("64MB", "1GB", "1000B").
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// String prints the size with the largest binary unit that divides it exactly.
func (s Size) String() string {
	v := uint64(s)
	for _, u := range []struct {
		name string
		m    uint64
	}{{"PB", 1 << 50}, {"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if v != 0 && v%u.m == 0 {
			return strconv.FormatUint(v/u.m, 10) + u.name
		}
	}
	return strconv.FormatUint(v, 10) + "B"
}
