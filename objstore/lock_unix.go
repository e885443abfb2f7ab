//go:build unix

package objstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir/LOCK, so that two processes never
// share a disk cache, and returns the function that releases it.
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("objstore: disk cache lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: disk cache dir %s is in use by another process or cache", ErrInvalidOptions, dir)
		}
		return nil, fmt.Errorf("objstore: disk cache lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
