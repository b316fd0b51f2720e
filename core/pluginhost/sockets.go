package pluginhost

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/int8cal/int8cal/internal/pidalive"
)

// socketDirPrefix starts the name of the directory, in the system's
// temporary directory ($TMPDIR), that holds a host's plugin sockets:
// int8cal-sock-<host pid>-<random>. It is created 0700 when the first
// plugin starts and removed when the last one is closed, by Shutdown, or,
// after a host that could not clean up (killed), by the next host that
// starts a plugin once that pid is no longer alive. Each plugin gets its
// own 0700 directory inside (go-plugin's), named to it in
// PLUGIN_UNIX_SOCKET_DIR, where it creates its socket.
const socketDirPrefix = "int8cal-sock-"

// The processes started and not yet released, and the socket directory
// they share.
var live struct {
	mu    sync.Mutex
	dir   string
	procs map[*process]bool
}

// register adds p to the live processes and returns the socket directory,
// creating it (after sweeping stale ones) for the first.
func register(p *process) (string, error) {
	live.mu.Lock()
	defer live.mu.Unlock()
	if live.dir == "" {
		sweepStale(os.TempDir())
		dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", socketDirPrefix, os.Getpid()))
		if err != nil {
			return "", fmt.Errorf("plugin socket directory: %w", err)
		}
		// MkdirTemp's 0700 is narrowed further by the umask.
		if err := os.Chmod(dir, 0o700); err != nil {
			os.Remove(dir)
			return "", fmt.Errorf("plugin socket directory: %w", err)
		}
		live.dir = dir
	}
	if live.procs == nil {
		live.procs = map[*process]bool{}
	}
	live.procs[p] = true
	return live.dir, nil
}

// release forgets p, which is dead; the last one out removes the socket
// directory.
func release(p *process) {
	live.mu.Lock()
	defer live.mu.Unlock()
	delete(live.procs, p)
	if len(live.procs) == 0 && live.dir != "" {
		os.RemoveAll(live.dir)
		live.dir = ""
	}
}

// Shutdown kills the process group of every plugin this process started
// and has not closed, and removes the plugins' socket directory. It
// returns at once (the plugins are reaped in the background), may be
// called any number of times and from any goroutine, and plugins may be
// started again after it. The int8cal command calls it before exiting
// and on SIGINT and SIGTERM (HandleSignals).
func Shutdown() {
	live.mu.Lock()
	defer live.mu.Unlock()
	for p := range live.procs {
		p.kill()
	}
	if live.dir != "" {
		os.RemoveAll(live.dir)
		live.dir = ""
	}
}

// HandleSignals makes SIGINT and SIGTERM run Shutdown, after which the
// signal takes its course: it ends the process as it would have without
// this handler, unless the program has other handlers for it. stop undoes
// it.
func HandleSignals() (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	var once sync.Once
	go func() {
		select {
		case sig := <-ch:
			Shutdown()
			signal.Stop(ch)
			raise(sig)
		case <-quit:
		}
	}()
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(quit)
		})
	}
}

// sweepStale removes the socket directories in tmp that belong to this
// user and were made by a host whose pid is no longer alive.
func sweepStale(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), socketDirPrefix)
		if !ok || !e.IsDir() { // IsDir is false for a symbolic link
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || pidalive.Alive(pid) {
			continue
		}
		path := filepath.Join(tmp, e.Name())
		if fi, err := os.Lstat(path); err != nil || !fi.IsDir() || !ownedByMe(fi) {
			continue
		}
		os.RemoveAll(path)
	}
}
