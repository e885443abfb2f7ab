package etcdutil

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestZapLogger(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	z := NewZapLogger(logger, slog.LevelInfo).With(zap.String("member", "m0"))
	z.Debug("dropped below the level")
	z.Info("applied", zap.Int("index", 7))
	z.Warn("slow", zap.Duration("took", 2e9))
	z.Error("broken", zap.Error(bytes.ErrTooLarge))
	z.Warn("simple token is not cryptographically signed")
	z.Warn("request stats", zap.String("response type", "/horaedb.meta.MetaService/CreateTable"))
	z.Warn("request stats", zap.String("response type", "/etcdserverpb.KV/Range"))
	out := buf.String()
	for _, want := range []string{
		`level=INFO msg=applied member=m0 index=7`,
		`level=WARN msg=slow member=m0 took=2s`,
		`level=ERROR msg=broken member=m0 error="bytes.Buffer: too large"`,
		`level=WARN msg="request stats" member=m0 "response type"=/etcdserverpb.KV/Range`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	for _, not := range []string{"dropped below", "simple token", "/horaedb.meta."} {
		if strings.Contains(out, not) {
			t.Errorf("%q logged at the info level:\n%s", not, out)
		}
	}
}
