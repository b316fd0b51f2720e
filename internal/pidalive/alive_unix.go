//go:build unix

package pidalive

import (
	"errors"
	"syscall"
)

// Alive reports whether a process with this ID exists (it may be another
// process than the one that used the ID before).
func Alive(pid int) bool {
	if pid <= 0 {
		return true // not a process of its own: never swept
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
