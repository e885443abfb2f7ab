// Package integration_tests runs the real horaedb binary as a process: it
// builds ./cmd/horaedb once per test binary, starts it on loopback ports with
// a generated config and a temporary data directory, kills and restarts it,
// and checks over HTTP what a user would check (harness.go).
//
// cluster_harness.go does the same for WithMeta clusters: it builds
// ./cmd/horaemeta too and starts one or three HoraeMeta members and several
// data nodes, any of which can be SIGKILLed and restarted on the same ports
// and directories (cluster_test.go).
//
// The tests are behind the build tag "integration", so `go test ./...` stays
// fast:
//
//	go test -tags integration ./integration_tests/ -count=1 -v
package integration_tests
