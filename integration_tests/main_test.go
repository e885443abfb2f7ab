//go:build integration

package integration_tests

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	removeBinary()
	os.Exit(code)
}
