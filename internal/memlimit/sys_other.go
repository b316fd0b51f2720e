//go:build !linux

package memlimit

import (
	"errors"
	"runtime"
)

// available is not implemented outside Linux: Default falls back to a
// fixed limit and says so.
func available(string) (int64, string, error) {
	return 0, "", errors.New("not read on " + runtime.GOOS)
}
