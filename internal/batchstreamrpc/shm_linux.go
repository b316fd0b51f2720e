//go:build linux

package batchstreamrpc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Region is a shared memory file (an anonymous memfd) and this process's
// mapping of it. The host creates one per plugin process and hands it
// over at start; both processes map the same pages, so a batch the plugin
// writes there reaches the host without passing through the socket.
type Region struct {
	mu  sync.Mutex
	f   *os.File
	mem []byte
}

// NewRegion creates an empty region (host side).
func NewRegion() (*Region, error) {
	fd, err := unix.MemfdCreate("int8cal-batchstream", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("shared memory: memfd_create: %w", err)
	}
	return &Region{f: os.NewFile(uintptr(fd), "int8cal-batchstream-shm")}, nil
}

// RegionFromEnv returns the region the host handed this plugin process,
// or nil when it handed none (or what it handed is not a file this
// process can map, in which case batches are streamed).
func RegionFromEnv() *Region {
	v := os.Getenv(ShmFDEnv)
	if v == "" {
		return nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	unix.CloseOnExec(fd)
	return &Region{f: os.NewFile(uintptr(fd), "int8cal-batchstream-shm")}
}

// Attach hands the region to the plugin process cmd will start, as
// descriptor 3+len(ExtraFiles) named in $INT8CAL_BATCHSTREAM_SHM_FD.
func (r *Region) Attach(cmd *exec.Cmd) {
	fd := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, r.f)
	cmd.Env = append(cmd.Env, ShmFDEnv+"="+strconv.Itoa(fd))
}

// Dup returns a second, independent mapping of the same memory, as the
// plugin process has (for serving in process, in tests).
func (r *Region) Dup() (*Region, error) {
	fd, err := unix.FcntlInt(r.f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, fmt.Errorf("shared memory: dup: %w", err)
	}
	return &Region{f: os.NewFile(uintptr(fd), r.f.Name())}, nil
}

// Reserve makes the region at least size bytes long and returns this
// process's mapping of it (host side). The file only ever grows, so the
// plugin's mapping stays valid. Slices of an earlier mapping must no
// longer be in use.
func (r *Region) Reserve(size int) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var st unix.Stat_t
	if err := unix.Fstat(int(r.f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("shared memory: %w", err)
	}
	if st.Size < int64(size) {
		if err := unix.Ftruncate(int(r.f.Fd()), int64(size)); err != nil {
			return nil, fmt.Errorf("shared memory: growing to %d bytes: %w", size, err)
		}
	}
	return r.mapLocked(size)
}

// Map returns this process's mapping of the first size bytes (plugin
// side), refusing when the file is shorter, which would fault on access.
// Slices of an earlier mapping must no longer be in use.
func (r *Region) Map(size int) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var st unix.Stat_t
	if err := unix.Fstat(int(r.f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("shared memory: %w", err)
	}
	if st.Size < int64(size) {
		return nil, fmt.Errorf("shared memory: the region holds %d bytes, %d announced", st.Size, size)
	}
	return r.mapLocked(size)
}

func (r *Region) mapLocked(size int) ([]byte, error) {
	if size <= 0 {
		return nil, errors.New("shared memory: empty region")
	}
	if len(r.mem) >= size {
		return r.mem[:size], nil
	}
	if r.mem != nil {
		if err := unix.Munmap(r.mem); err != nil {
			return nil, fmt.Errorf("shared memory: %w", err)
		}
		r.mem = nil
	}
	mem, err := unix.Mmap(int(r.f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("shared memory: mapping %d bytes: %w", size, err)
	}
	r.mem = mem
	return mem, nil
}

// Close unmaps the region and closes the file; the memory is freed once
// the other process closes its side too.
func (r *Region) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
	return r.f.Close()
}
