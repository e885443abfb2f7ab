package engine

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/horaego/horaedb/engine/internal/manifest"
	"github.com/horaego/horaedb/engine/internal/sst"
)

// snapshot returns the current version with a reference on each of its
// SSTs; call release when done reading them. A file replaced by compaction
// is deleted only once no snapshot refers to it.
func (t *Table) snapshot() (*version, func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.mu.v
	for _, f := range v.files {
		t.mu.refs[f.ID]++
	}
	var once sync.Once
	return v, func() { once.Do(func() { t.unref(v.files) }) }
}

func (t *Table) unref(files []sst.Meta) {
	var dead []uint64
	t.mu.Lock()
	for _, f := range files {
		t.mu.refs[f.ID]--
		if t.mu.refs[f.ID] <= 0 {
			delete(t.mu.refs, f.ID)
			if t.mu.obsolete[f.ID] {
				delete(t.mu.obsolete, f.ID)
				dead = append(dead, f.ID)
			}
		}
	}
	t.mu.Unlock()
	t.deleteFiles(dead)
}

// replaceFiles swaps SSTs in the version: removed ones go (deleted now, or
// when their last reader finishes), added ones come.
func (t *Table) replaceFiles(removed []uint64, added []sst.Meta) {
	var dead []uint64
	t.mu.Lock()
	v := t.mu.v
	files := slices.DeleteFunc(slices.Clone(v.files), func(f sst.Meta) bool { return slices.Contains(removed, f.ID) })
	t.mu.v = &version{mutable: v.mutable, immutables: v.immutables, files: append(files, added...)}
	for _, id := range removed {
		if t.mu.refs[id] > 0 {
			t.mu.obsolete[id] = true
		} else {
			dead = append(dead, id)
		}
	}
	t.mu.Unlock()
	t.deleteFiles(dead)
}

// deleteFiles removes SSTs no version refers to any more. A failure leaves
// an orphan that the next open of the shard removes.
func (t *Table) deleteFiles(ids []uint64) {
	for _, id := range ids {
		if err := t.e.o.Store.Delete(context.Background(), sstKey(t.ID(), id)); err != nil {
			t.e.log.Warn("deleting an obsolete SST failed", "table", t.Name(), "file", id, "err", err)
		}
	}
}

// removeOrphans deletes SSTs of the table that its manifest does not list:
// left by a crash between writing an SST and recording it, or between
// replacing files and deleting the old ones. Run while the shard opens,
// before any flush or compaction.
func (t *Table) removeOrphans(ctx context.Context) (int, error) {
	objs, err := t.e.o.Store.List(ctx, manifest.Prefix(t.ID())+"sst/")
	if err != nil {
		return 0, err
	}
	known := map[string]bool{}
	for _, f := range t.version().files {
		known[sstKey(t.ID(), f.ID)] = true
	}
	n := 0
	for _, o := range objs {
		if known[o.Key] || !strings.HasSuffix(o.Key, ".parquet") {
			continue
		}
		if err := t.e.o.Store.Delete(ctx, o.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// releaser calls release once all n users are done.
type releaser struct {
	left    atomic.Int32
	release func()
}

func newReleaser(n int, release func()) *releaser {
	r := &releaser{release: release}
	r.left.Store(int32(n))
	return r
}

func (r *releaser) done() {
	if r.left.Add(-1) == 0 {
		r.release()
	}
}
