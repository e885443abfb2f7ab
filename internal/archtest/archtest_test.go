// Package archtest enforces the import direction of DESIGN.md §3: lower
// components never import higher ones.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/horaego/horaedb/"

// rank orders the components; a package may import packages of its own
// component or of a lower rank.
var rank = map[string]int{
	"internal": 0, "proto": 0,
	"objstore": 1,
	"wal":      2,
	"engine":   3,
	"query":    4,
	"cluster":  5, "router": 5,
	"server":            6,
	"cmd":               7,
	"integration_tests": 8,
}

func component(pkg string) string {
	rest := strings.TrimPrefix(pkg, module)
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		from := component(pkg)
		for _, imp := range imports {
			checked++
			if msg := violation(pkg, from, imp); msg != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, msg)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no imports checked")
	}
}

func violation(pkg, from, imp string) string {
	if strings.HasPrefix(imp, "go.etcd.io/") && from != "meta" && from != "cluster" && from != "router" && from != "integration_tests" {
		return "only meta, cluster and router may use etcd"
	}
	if !strings.HasPrefix(imp, module) {
		return ""
	}
	to := component(imp)
	if from == to {
		return ""
	}
	if from == "meta" {
		if to != "internal" && to != "proto" {
			return "meta imports only proto and internal"
		}
		return ""
	}
	if to == "meta" {
		client := strings.HasPrefix(imp, module+"meta/client")
		horaemeta := strings.HasPrefix(pkg, module+"cmd/horaemeta") || strings.HasPrefix(pkg, module+"cmd/horaectl")
		if !client && !horaemeta && from != "integration_tests" {
			return "import meta only through meta/client"
		}
		return ""
	}
	if from == "engine" && to == "proto" {
		return "the engine knows nothing of the wire protocol"
	}
	rf, okf := rank[from]
	rt, okt := rank[to]
	if !okf || !okt {
		return "component not in DESIGN.md §3 (add it to the rank table)"
	}
	if rt > rf {
		return "imports against the direction of DESIGN.md §3"
	}
	return ""
}

func TestViolationRules(t *testing.T) {
	for _, tc := range []struct {
		pkg, imp string
		bad      bool
	}{
		{module + "engine", module + "wal", false},
		{module + "wal/local", module + "engine", true},
		{module + "engine", module + "query", true},
		{module + "engine", module + "proto/storagepb", true},
		{module + "query", module + "engine/schema", false},
		{module + "server", module + "query", false},
		{module + "meta/server", module + "engine", true},
		{module + "cluster", module + "meta/client", false},
		{module + "cluster", module + "meta/server", true},
		{module + "engine", "go.etcd.io/etcd/client/v3", true},
	} {
		got := violation(tc.pkg, component(tc.pkg), tc.imp) != ""
		if got != tc.bad {
			t.Errorf("%s -> %s: violation = %v, want %v", tc.pkg, tc.imp, got, tc.bad)
		}
	}
}
