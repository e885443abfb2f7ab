package units

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"7d", 7 * Day},
		{"1d2h", Day + 2*time.Hour},
		{"36h", 36 * time.Hour},
		{"300ms", 300 * time.Millisecond},
		{"1.5h", 90 * time.Minute},
		{"5s", 5 * time.Second},
		{"0", 0},
		{"0s", 0},
		{"365d", 365 * Day},
		{"2h30m10s5ms", 2*time.Hour + 30*time.Minute + 10*time.Second + 5*time.Millisecond},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "d", "7", "7x", "1h1d", "1h1h", "-1d", "1 d"} {
		if _, err := ParseDuration(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseDuration(%q) err = %v, want ErrSyntax", bad, err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{7 * Day, "7d"},
		{2 * time.Hour, "2h"},
		{Day + 2*time.Hour, "1d2h"},
		{300 * time.Millisecond, "300ms"},
		{90 * time.Second, "1m30s"},
	} {
		if got := FormatDuration(tc.in); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseDuration(FormatDuration(tc.in))
		if err != nil || back != tc.in {
			t.Errorf("round trip of %v: %v, %v", tc.in, back, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"300M", 300 << 20},
		{"32MB", 32 << 20},
		{"1GiB", 1 << 30},
		{"4G", 4 << 30},
		{"20GB", 20 << 30},
		{"2097152", 2097152},
		{"1KB", 1024},
		{"0", 0},
		{"10b", 10},
		{"1.5k", 1536},
	} {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "MB", "12XB", "-1M"} {
		if _, err := ParseSize(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseSize(%q) err = %v, want ErrSyntax", bad, err)
		}
	}
	if got := Size(64 << 20).String(); got != "64MB" {
		t.Errorf("Size.String = %q", got)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"7d", "1d2h", "300ms", "1.5h", "0", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("negative duration %v from %q", d, s)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"32MB", "1GiB", "2097152", "1.5k", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseSize(s)
	})
}
