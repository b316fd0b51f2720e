//go:build !linux

package batchstreamrpc

import (
	"errors"
	"os/exec"
)

var errNoShm = errors.New("shared memory: only supported on Linux")

// Region is a shared memory region; on this system there is none and
// batches are always streamed.
type Region struct{}

// NewRegion reports that shared memory is not supported here.
func NewRegion() (*Region, error) { return nil, errNoShm }

// RegionFromEnv returns nil: shared memory is not supported here.
func RegionFromEnv() *Region { return nil }

// Attach does nothing.
func (r *Region) Attach(*exec.Cmd) {}

// Dup reports that shared memory is not supported here.
func (r *Region) Dup() (*Region, error) { return nil, errNoShm }

// Reserve reports that shared memory is not supported here.
func (r *Region) Reserve(int) ([]byte, error) { return nil, errNoShm }

// Map reports that shared memory is not supported here.
func (r *Region) Map(int) ([]byte, error) { return nil, errNoShm }

// Close does nothing.
func (r *Region) Close() error { return nil }
