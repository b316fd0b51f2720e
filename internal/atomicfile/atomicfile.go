// Package atomicfile writes files so that readers never see half of one:
// the data goes to a new temporary file in the same directory, which is
// synced, given the permissions of the file it replaces (0644 for a new
// one) and renamed over the target; the directory is then synced where the
// system allows it. If anything fails the temporary file is removed and an
// existing file is left as it was. A symbolic link at the target is itself
// replaced.
//
// The temporary file of target NAME is ".NAME.tmp<pid>-<random>", pid
// being the writing process's. A process killed while writing (SIGKILL,
// or a signal whose default action ends it) cannot remove its temporary
// file; the next write of the same target removes those of processes that
// no longer exist.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/int8cal/int8cal/internal/pidalive"
)

// Test hooks: wrapWriter wraps the temporary file's writer, beforeRename runs
// after the temporary file is synced and closed.
var (
	testHookWrapWriter   func(io.Writer) io.Writer
	testHookBeforeRename func(tmp string) error
)

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) (err error) {
	dir, base, perm, err := target(path)
	if err != nil {
		return err
	}
	sweep(dir, base)
	f, err := os.CreateTemp(dir, tempPattern(base))
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

// CheckWritable reports whether WriteFile can write path: path is not a
// directory and a file can be created in its directory (it creates and
// removes one). Commands call it before work whose result they would
// otherwise fail to save. Errors name path.
func CheckWritable(path string) error {
	dir, base, _, err := target(path)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, tempPattern(base))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is the temporary file's, not one the user knows
		}
		return fmt.Errorf("cannot write %s: %w (in directory %s)", path, err, dir)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// target splits path and returns the permissions its file gets.
func target(path string) (dir, base string, perm fs.FileMode, err error) {
	dir, base = filepath.Split(path)
	dir = filepath.Clean(dir) // "" becomes "."
	if base == "" {
		return "", "", 0, errors.New("no file name")
	}
	perm = 0o644
	if fi, err := os.Lstat(path); err == nil {
		if fi.IsDir() {
			return "", "", 0, errors.New("is a directory")
		}
		if fi.Mode().IsRegular() {
			perm = fi.Mode().Perm()
		}
	}
	return dir, base, perm, nil
}

// tempPattern is os.CreateTemp's pattern for a temporary file of base.
func tempPattern(base string) string {
	return tempPrefix(base) + strconv.Itoa(os.Getpid()) + "-*"
}

func tempPrefix(base string) string { return "." + base + ".tmp" }

// sweep removes the temporary files of base left in dir by processes that
// no longer exist. Names without a process ID (older int8cal versions)
// are left alone: their writer is unknown.
func sweep(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(base)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pid, _, ok := strings.Cut(rest, "-")
		n, err := strconv.Atoi(pid)
		if ok && err == nil && n > 0 && !pidalive.Alive(n) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
