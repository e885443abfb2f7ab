package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, and that what it accepts (and
// Validate passes) renders to TOML it accepts again.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "configs", "horaedb*.toml"))
	paths = append(paths, "testdata/seed-complete.toml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, doc := range roundTripDocs {
		f.Add([]byte(doc))
	}
	f.Add([]byte("[analytic.wal]\ntype = \"Foo\"\n"))
	f.Add([]byte("[foo]\nx = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := Parse(data)
		if err != nil || c.Validate() != nil {
			return
		}
		out, err := c.MarshalTOML()
		if err != nil {
			t.Fatalf("MarshalTOML: %v", err)
		}
		if _, _, err := Parse(out); err != nil {
			t.Fatalf("Parse(MarshalTOML()) = %v\n%s", err, out)
		}
	})
}
