package jsonenc

import (
	"encoding/json"
	"math"
	"testing"
	"unicode/utf8"
)

func TestFloat(t *testing.T) {
	cases := []struct {
		f       float64
		bitSize int
		want    string
	}{
		{1, 64, "1.0"},
		{-1, 64, "-1.0"},
		{0, 64, "0.0"},
		{math.Copysign(0, -1), 64, "-0.0"},
		{0.1, 64, "0.1"},
		{0.3, 64, "0.3"},
		{123456.789, 64, "123456.789"},
		{1e15, 64, "1000000000000000.0"},
		{1234567890123456, 64, "1234567890123456.0"},
		{1e16, 64, "1e16"},
		{1.5e17, 64, "1.5e17"},
		{0.0001, 64, "0.0001"},
		{0.00001, 64, "0.00001"},
		{0.000001, 64, "1e-6"},
		{1.25e-7, 64, "1.25e-7"},
		{math.MaxFloat64, 64, "1.7976931348623157e308"},
		{5e-324, 64, "5e-324"},
		{float64(float32(0.1)), 32, "0.1"},
		{float64(float32(16777216)), 32, "16777216.0"},
		{1e12, 32, "1000000000000.0"},
		{1e13, 32, "1e13"},
		{float64(float32(1e-5)), 32, "0.00001"},
		{float64(float32(1e-6)), 32, "0.000001"},
		{float64(float32(1e-7)), 32, "1e-7"},
		{math.NaN(), 64, "null"},
		{math.Inf(-1), 32, "null"},
	}
	for _, c := range cases {
		got := string(Float(nil, c.f, c.bitSize))
		if got != c.want {
			t.Errorf("Float(%v, %d) = %s, want %s", c.f, c.bitSize, got, c.want)
		}
		if got != "null" {
			var back float64
			if err := json.Unmarshal([]byte(got), &back); err != nil || (back != c.f && float32(back) != float32(c.f)) {
				t.Errorf("Float(%v) = %s does not read back (%v, %v)", c.f, got, back, err)
			}
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "\x00\x1f\x7f", "é世", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := String(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, b, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q round-trips to %q", s, back)
		}
	})
}
