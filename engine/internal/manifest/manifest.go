// Package manifest keeps the durable metadata of one table in object
// storage: identity, schema, options, the SST files and the WAL sequence up
// to which the table's data is in those files. Changes are written as edits,
// one object each, and folded into a snapshot every N edits. The format is
// documented in engine/docs/format/manifest.md.
package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/horaego/horaedb/engine/internal/sst"
	"github.com/horaego/horaedb/engine/options"
	"github.com/horaego/horaedb/engine/schema"
	"github.com/horaego/horaedb/objstore"
)

// ErrCorrupt means the stored manifest cannot be read back.
var ErrCorrupt = errors.New("manifest: corrupt")

// TableMeta identifies a table.
type TableMeta struct {
	ID       uint64 `json:"id"`
	Name     string `json:"name"`
	Database string `json:"database"`
	ShardID  uint32 `json:"shard_id"`
}

// State is everything the manifest records about a table.
type State struct {
	Table      TableMeta
	Schema     *schema.Schema
	Options    options.Table
	Files      []sst.Meta
	FlushedSeq uint64 // WAL entries up to here are in Files
	NextFileID uint64
	EditSeq    uint64 // the last edit folded in
}

// Edit is one change; zero fields change nothing.
type Edit struct {
	AddFiles    []sst.Meta     `json:"add_files,omitempty"`
	RemoveFiles []uint64       `json:"remove_files,omitempty"`
	FlushedSeq  uint64         `json:"flushed_seq,omitempty"`
	Schema      *schema.Schema `json:"schema,omitempty"`
	Options     *options.Table `json:"-"`
}

// stored forms
type storedState struct {
	Version    int               `json:"version"`
	Table      TableMeta         `json:"table"`
	Schema     *schema.Schema    `json:"schema"`
	Options    map[string]string `json:"options"`
	Files      []sst.Meta        `json:"files"`
	FlushedSeq uint64            `json:"flushed_seq"`
	NextFileID uint64            `json:"next_file_id"`
	EditSeq    uint64            `json:"edit_seq"`
}

type storedEdit struct {
	Seq     uint64            `json:"seq"`
	Edit                      // embedded fields
	Options map[string]string `json:"options,omitempty"`
}

const formatVersion = 1

// Prefix returns the key prefix of everything stored for a table.
func Prefix(tableID uint64) string { return fmt.Sprintf("tables/%020d/", tableID) }

func snapshotKey(tableID uint64) string { return Prefix(tableID) + "manifest/snapshot" }
func editPrefix(tableID uint64) string  { return Prefix(tableID) + "manifest/edit-" }
func editKey(tableID, seq uint64) string {
	return fmt.Sprintf("%s%020d", editPrefix(tableID), seq)
}

// Manifest is the manifest of one open table. Safe for concurrent use.
type Manifest struct {
	bucket        objstore.Bucket
	snapshotEvery int
	mu            struct {
		sync.Mutex
		state          State
		sinceSnapshot  int
		pendingCleanup uint64 // edits up to here may be deleted
	}
}

// Create writes the first snapshot of a new table.
func Create(ctx context.Context, bucket objstore.Bucket, st State, snapshotEvery int) (*Manifest, error) {
	m := &Manifest{bucket: bucket, snapshotEvery: max(snapshotEvery, 1)}
	if st.NextFileID == 0 {
		st.NextFileID = 1
	}
	m.mu.state = st
	if err := m.writeSnapshotLocked(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Load reads a table's manifest: the snapshot, then the edits after it.
func Load(ctx context.Context, bucket objstore.Bucket, tableID uint64, snapshotEvery int) (*Manifest, error) {
	data, err := bucket.Get(ctx, snapshotKey(tableID))
	if err != nil {
		return nil, err
	}
	var ss storedState
	if err := json.Unmarshal(data, &ss); err != nil {
		return nil, fmt.Errorf("%w: snapshot of table %d: %v", ErrCorrupt, tableID, err)
	}
	if ss.Version != formatVersion || ss.Schema == nil {
		return nil, fmt.Errorf("%w: snapshot of table %d: version %d", ErrCorrupt, tableID, ss.Version)
	}
	ss.Schema.Init()
	opts, err := options.Default().Apply(ss.Options, true)
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot of table %d: %v", ErrCorrupt, tableID, err)
	}
	m := &Manifest{bucket: bucket, snapshotEvery: max(snapshotEvery, 1)}
	m.mu.state = State{Table: ss.Table, Schema: ss.Schema, Options: opts, Files: ss.Files,
		FlushedSeq: ss.FlushedSeq, NextFileID: ss.NextFileID, EditSeq: ss.EditSeq}

	edits, err := bucket.List(ctx, editPrefix(tableID))
	if err != nil {
		return nil, err
	}
	for _, obj := range edits {
		seq, err := strconv.ParseUint(strings.TrimPrefix(obj.Key, editPrefix(tableID)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: unexpected object %s", ErrCorrupt, obj.Key)
		}
		if seq <= m.mu.state.EditSeq {
			m.mu.pendingCleanup = max(m.mu.pendingCleanup, seq) // folded into the snapshot already
			continue
		}
		if seq != m.mu.state.EditSeq+1 {
			return nil, fmt.Errorf("%w: table %d: edit %d follows edit %d", ErrCorrupt, tableID, seq, m.mu.state.EditSeq)
		}
		data, err := bucket.Get(ctx, obj.Key)
		if err != nil {
			return nil, err
		}
		var se storedEdit
		if err := json.Unmarshal(data, &se); err != nil || se.Seq != seq {
			return nil, fmt.Errorf("%w: edit %s: %v", ErrCorrupt, obj.Key, err)
		}
		e := se.Edit
		if se.Options != nil {
			o, err := options.Default().Apply(se.Options, true)
			if err != nil {
				return nil, fmt.Errorf("%w: edit %s: %v", ErrCorrupt, obj.Key, err)
			}
			e.Options = &o
		}
		if e.Schema != nil {
			e.Schema.Init()
		}
		m.applyLocked(seq, e)
		m.mu.sinceSnapshot++
	}
	return m, nil
}

// State returns a copy of the current state.
func (m *Manifest) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.mu.state
	st.Files = slices.Clone(st.Files)
	return st
}

// AllocFileID reserves a file id. Ids are durable once an edit that adds
// the file is applied; an id reserved by a flush that then failed is
// simply skipped.
func (m *Manifest) AllocFileID() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.mu.state.NextFileID
	m.mu.state.NextFileID++
	return id
}

// Apply makes an edit durable, then applies it to the state. It writes a
// snapshot when enough edits have accumulated.
func (m *Manifest) Apply(ctx context.Context, e Edit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	seq := m.mu.state.EditSeq + 1
	se := storedEdit{Seq: seq, Edit: e}
	if e.Options != nil {
		se.Options = e.Options.Map()
	}
	data, err := json.Marshal(se)
	if err != nil {
		return fmt.Errorf("manifest: encode edit: %w", err)
	}
	if err := m.bucket.Put(ctx, editKey(m.mu.state.Table.ID, seq), data); err != nil {
		return err
	}
	m.applyLocked(seq, e)
	m.mu.sinceSnapshot++
	if m.mu.sinceSnapshot >= m.snapshotEvery {
		// The edit is durable; a failed snapshot is retried with the next.
		_ = m.writeSnapshotLocked(ctx)
	}
	return nil
}

func (m *Manifest) applyLocked(seq uint64, e Edit) {
	st := &m.mu.state
	st.EditSeq = seq
	if len(e.RemoveFiles) > 0 {
		st.Files = slices.DeleteFunc(st.Files, func(f sst.Meta) bool { return slices.Contains(e.RemoveFiles, f.ID) })
	}
	for _, f := range e.AddFiles {
		st.Files = append(st.Files, f)
		st.NextFileID = max(st.NextFileID, f.ID+1)
	}
	st.FlushedSeq = max(st.FlushedSeq, e.FlushedSeq)
	if e.Schema != nil {
		st.Schema = e.Schema
	}
	if e.Options != nil {
		st.Options = *e.Options
	}
}

func (m *Manifest) writeSnapshotLocked(ctx context.Context) error {
	st := m.mu.state
	data, err := json.Marshal(storedState{Version: formatVersion, Table: st.Table, Schema: st.Schema,
		Options: st.Options.Map(), Files: st.Files, FlushedSeq: st.FlushedSeq, NextFileID: st.NextFileID, EditSeq: st.EditSeq})
	if err != nil {
		return fmt.Errorf("manifest: encode snapshot: %w", err)
	}
	if err := m.bucket.Put(ctx, snapshotKey(st.Table.ID), data); err != nil {
		return err
	}
	m.mu.sinceSnapshot = 0
	// Edits folded into the snapshot are garbage now; deleting them is best
	// effort, Load skips leftovers.
	for s := m.mu.pendingCleanup + 1; s <= st.EditSeq; s++ {
		if err := m.bucket.Delete(ctx, editKey(st.Table.ID, s)); err != nil {
			return nil
		}
		m.mu.pendingCleanup = s
	}
	return nil
}

// Delete removes everything stored under a table's prefix: manifest and SSTs.
func Delete(ctx context.Context, bucket objstore.Bucket, tableID uint64) error {
	objs, err := bucket.List(ctx, Prefix(tableID))
	if err != nil {
		return err
	}
	// The snapshot last: a crash midway leaves a loadable, if stale, table
	// that the next drop removes.
	slices.SortFunc(objs, func(a, b objstore.ObjectInfo) int {
		as, bs := strings.HasSuffix(a.Key, "/snapshot"), strings.HasSuffix(b.Key, "/snapshot")
		if as != bs {
			if as {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Key, b.Key)
	})
	for _, o := range objs {
		if err := bucket.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}
