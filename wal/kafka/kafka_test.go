package kafka

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/horaego/horaedb/wal"
	"github.com/horaego/horaedb/wal/waltest"
)

// testLogger shows errors of the WAL on stderr; everything, down to the
// Kafka client's debug lines, with WAL_TEST_DEBUG=1.
func testLogger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("WAL_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// newCluster starts an in-process kfake cluster, closed when the test
// ends.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// testOptions are quick to retry and to time out, and split appends over
// small messages, so that the multi-part path is exercised.
func testOptions(brokers []string) Options {
	return Options{
		Brokers:           brokers,
		Logger:            testLogger(),
		MaxMessageBytes:   64 << 10,
		MaxEntrySize:      testMaxEntrySize,
		AppendTimeout:     5 * time.Second,
		InitRetryInterval: 10 * time.Millisecond,
		MaxRetryInterval:  200 * time.Millisecond,
	}
}

// testMaxEntrySize is smaller than the default so that the suite's "too
// large" case stays cheap; the large-entry case still writes 8 MiB.
const testMaxEntrySize = 9 << 20

func openT(t testing.TB, opts Options) *WAL {
	t.Helper()
	w, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func TestConformance(t *testing.T) {
	for _, brokers := range []int{1, 3} {
		t.Run(map[int]string{1: "1broker", 3: "3brokers"}[brokers], func(t *testing.T) {
			if brokers > 1 && testing.Short() {
				t.Skip("short")
			}
			waltest.Run(t, func(t *testing.T) waltest.Harness {
				c := newCluster(t, kfake.NumBrokers(brokers))
				return waltest.Harness{
					Open: func(t *testing.T) wal.WAL {
						return openT(t, testOptions(c.ListenAddrs()))
					},
					// A crash cuts the WAL's connections: what the
					// brokers received stays, nothing more arrives.
					Crash: func(t *testing.T, w wal.WAL) {
						w.(*WAL).crash()
					},
					MaxEntrySize: testMaxEntrySize,
				}
			})
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(o *Options)
		ok   bool
	}{
		{"defaults", func(*Options) {}, true},
		{"no brokers", func(o *Options) { o.Brokers = nil }, false},
		{"bad topic prefix", func(o *Options) { o.TopicPrefix = "a b" }, false},
		{"small messages", func(o *Options) { o.MaxMessageBytes = 1000 }, false},
		{"retry intervals", func(o *Options) { o.InitRetryInterval, o.MaxRetryInterval = time.Second, time.Millisecond }, false},
		{"retry factor", func(o *Options) { o.RetryIntervalFactor = 0.5 }, false},
		{"replication", func(o *Options) { o.ReplicationFactor = -1 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Brokers: []string{"k:9092"}}
			tc.edit(&o)
			o.EnsureDefaults()
			if err := o.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	o := Options{Brokers: []string{"k:9092"}}
	o.EnsureDefaults()
	for try, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 50: 10 * time.Second} {
		if got := o.backoff(try); got != want {
			t.Errorf("backoff(%d) = %s, want %s", try, got, want)
		}
	}
}
