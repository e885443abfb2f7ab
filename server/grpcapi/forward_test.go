package grpcapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/horaego/horaedb/proto/storagepb"
	"github.com/horaego/horaedb/server/status"
)

type fakeForwarder map[string]string // table → owner, "" here

func (f fakeForwarder) Self() string { return "self:1" }
func (f fakeForwarder) Owner(_ context.Context, _, table string) (string, error) {
	return f[table], nil
}
func (f fakeForwarder) Forget(string, string) {}

func (f fakeForwarder) ForwardsDDL() bool { return false }
func (f fakeForwarder) Client(string) (storagepb.StorageServiceClient, error) {
	return nil, nil
}

func TestStatementOwner(t *testing.T) {
	f := fakeForwarder{"a": "", "b": "", "x": "n1:1", "y": "n1:1", "z": "n2:1"}
	for _, tc := range []struct {
		tables []string
		want   string
		spread bool
	}{
		{nil, "", false},
		{[]string{"a", "b"}, "", false},
		{[]string{"x", "y"}, "n1:1", false},
		{[]string{"a", "x"}, "", true},
		{[]string{"x", "z"}, "", true},
	} {
		got, err := StatementOwner(context.Background(), f, "public", tc.tables)
		if tc.spread {
			if status.Code(err) != http.StatusBadRequest || !strings.Contains(err.Error(), "different nodes") {
				t.Errorf("%v: %q %v, want 400 naming the nodes", tc.tables, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v: %q %v, want %q", tc.tables, got, err, tc.want)
		}
	}
}
