package local

import (
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// hookFS wraps a file system and calls a hook before every sync of a
// Pebble WAL file (*.log): the hook can block the sync (to hold a group
// commit in flight) or fail it.
type hookFS struct {
	vfs.FS
	hook atomic.Pointer[func(name string) error]
}

func (fs *hookFS) setHook(h func(name string) error) {
	if h == nil {
		fs.hook.Store(nil)
		return
	}
	fs.hook.Store(&h)
}

func (fs *hookFS) beforeSync(name string) error {
	if !strings.HasSuffix(name, ".log") {
		return nil
	}
	if h := fs.hook.Load(); h != nil {
		return (*h)(name)
	}
	return nil
}

func (fs *hookFS) wrap(f vfs.File, name string, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &hookFile{File: f, fs: fs, name: name}, nil
}

func (fs *hookFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(f, name, err)
}

func (fs *hookFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.wrap(f, newname, err)
}

func (fs *hookFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := fs.FS.OpenReadWrite(name, c, opts...)
	return fs.wrap(f, name, err)
}

type hookFile struct {
	vfs.File
	fs   *hookFS
	name string
}

func (f *hookFile) Sync() error {
	if err := f.fs.beforeSync(f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *hookFile) SyncData() error {
	if err := f.fs.beforeSync(f.name); err != nil {
		return err
	}
	return f.File.SyncData()
}

func (f *hookFile) SyncTo(length int64) (bool, error) {
	if err := f.fs.beforeSync(f.name); err != nil {
		return false, err
	}
	return f.File.SyncTo(length)
}
