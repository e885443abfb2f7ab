package config

import (
	"os"
	"testing"

	toml "github.com/pelletier/go-toml/v2"
)

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }

// FuzzParse: Parse never panics; what it accepts and Validate passes
// renders to TOML that parses to the same config.
func FuzzParse(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input it finds, which is
	// slow for whole sample files (those are TestSampleConfigs' job).
	f.Add([]byte("node-name = \"m0\"\nclient-urls = \"http://127.0.0.1:2379\"\ninitial-cluster = \"m0=http://127.0.0.1:2380\"\n"))
	f.Add([]byte("lease-sec = 3\n[log]\nlevel = \"debug\"\n"))
	f.Add([]byte("procedure-timeout = \"1m\"\n"))
	f.Add([]byte("client-urls = \"http://127.0.0.1:1,http://[::1]:2\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil || c.Validate() != nil {
			return
		}
		out, err := toml.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal()) = %v\n%s", err, out)
		}
		if c2.Validate() != nil {
			t.Fatalf("round trip no longer valid:\n%s", out)
		}
	})
}
