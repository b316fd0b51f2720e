// Package atomicfile writes files so that readers never see half of one:
// the data goes to a new temporary file in the same directory, which is
// synced, given the permissions of the file it replaces (0644 for a new
// one) and renamed over the target; the directory is then synced where the
// system allows it. If anything fails the temporary file is removed and an
// existing file is left as it was. A symbolic link at the target is itself
// replaced.
package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Test hooks: wrapWriter wraps the temporary file's writer, beforeRename runs
// after the temporary file is synced and closed.
var (
	testHookWrapWriter   func(io.Writer) io.Writer
	testHookBeforeRename func(tmp string) error
)

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return errors.New("no file name")
	}
	perm := fs.FileMode(0o644)
	if fi, err := os.Lstat(path); err == nil {
		if fi.IsDir() {
			return errors.New("is a directory")
		}
		if fi.Mode().IsRegular() {
			perm = fi.Mode().Perm()
		}
	}

	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()

	var w io.Writer = f
	if testHookWrapWriter != nil {
		w = testHookWrapWriter(w)
	}
	n, err := w.Write(data)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	closed = true
	if err = f.Close(); err != nil {
		return err
	}
	if testHookBeforeRename != nil {
		if err = testHookBeforeRename(tmp); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is done; make it durable where directories can be synced
	// (not on every system, hence best effort).
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
