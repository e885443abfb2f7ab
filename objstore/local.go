package objstore

import (
	"fmt"
	"os"
	"path/filepath"

	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
)

// OpenLocal opens a bucket of plain files under dir, creating it if needed.
// Writes go to a temporary file next to the target and are renamed into
// place, then the file and its directory are fsynced, so a Put that returned
// survives a machine crash.
func OpenLocal(dir string) (Bucket, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("objstore: local dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("objstore: local dir: %w", err)
	}
	b, err := fileblob.OpenBucket(abs, &fileblob.Options{
		NoTempDir: true, // temp files beside the target: rename never crosses devices
		Metadata:  fileblob.MetadataDontWrite,
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: open local dir %s: %w", abs, err)
	}
	return &blobBucket{
		b:    b,
		name: "local:" + abs,
		afterPut: func(key string) error {
			// CheckKey guarantees keys need no escaping, so the file is at
			// dir/key.
			path := filepath.Join(abs, filepath.FromSlash(key))
			if err := syncPath(path); err != nil {
				return err
			}
			return syncPath(filepath.Dir(path))
		},
	}, nil
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// NewMemory returns an empty in-memory bucket.
func NewMemory() Bucket {
	return &blobBucket{b: memblob.OpenBucket(nil), name: "memory"}
}
