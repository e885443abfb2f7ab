package client_test

import (
	"errors"
	"testing"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/proto/metapb"
)

func TestEpochFence(t *testing.T) {
	var f client.EpochFence
	if err := f.Admit(3); err != nil {
		t.Fatal(err)
	}
	f.Observe(2) // lower: ignored
	if err := f.Admit(3); err != nil {
		t.Fatalf("same epoch refused: %v", err)
	}
	f.Observe(5)
	err := f.Admit(4)
	if !errors.Is(err, client.ErrStaleEpoch) {
		t.Fatalf("Admit(4) after 5 = %v, want stale epoch", err)
	}
	var e *client.Error
	if !errors.As(err, &e) || e.Detail.GetMetaEpoch() != 5 {
		t.Fatalf("detail = %v, want meta_epoch 5", err)
	}
	if err := f.Admit(6); err != nil || f.Epoch() != 6 {
		t.Fatalf("Admit(6) = %v, epoch %d", err, f.Epoch())
	}
}

func TestDecideOpenClose(t *testing.T) {
	for _, tc := range []struct {
		open       bool
		held, want uint64
		act        client.OpenAction
		close      bool
		mismatch   bool // of open
		closeFails bool
	}{
		{open: false, want: 3, act: client.OpenFresh},
		{open: true, held: 3, want: 3, act: client.OpenRepeat, close: true},
		{open: true, held: 2, want: 3, act: client.OpenReload, close: true},
		{open: true, held: 4, want: 3, mismatch: true, closeFails: true},
	} {
		act, err := client.DecideOpen(1, tc.open, tc.held, tc.want)
		if tc.mismatch != errors.Is(err, client.ErrShardVersionMismatch) || (!tc.mismatch && act != tc.act) {
			t.Errorf("DecideOpen(%v, %d, %d) = %v, %v", tc.open, tc.held, tc.want, act, err)
		}
		c, err := client.DecideClose(1, tc.open, tc.held, tc.want)
		if tc.closeFails != errors.Is(err, client.ErrShardVersionMismatch) || c != tc.close {
			t.Errorf("DecideClose(%v, %d, %d) = %v, %v", tc.open, tc.held, tc.want, c, err)
		}
	}
}

func TestDecideUpdate(t *testing.T) {
	u := &metapb.ShardVersionUpdate{ShardId: 1, PrevVersion: 4, Version: 5}
	for _, tc := range []struct {
		open    bool
		held    uint64
		applied bool
		apply   bool
		want    error
	}{
		{open: false, want: client.ErrShardNotFound},
		{open: true, held: 4, apply: true},
		{open: true, held: 5, applied: true},
		{open: true, held: 5, applied: false, want: client.ErrShardVersionMismatch},
		{open: true, held: 3, want: client.ErrShardVersionMismatch},
		{open: true, held: 6, applied: true, want: client.ErrShardVersionMismatch},
	} {
		apply, err := client.DecideUpdate("n", u, tc.open, tc.held, tc.applied)
		if apply != tc.apply || (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("DecideUpdate(open %v, held %d, applied %v) = %v, %v; want %v, %v",
				tc.open, tc.held, tc.applied, apply, err, tc.apply, tc.want)
		}
	}
}
