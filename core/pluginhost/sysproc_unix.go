//go:build unix

package pluginhost

import (
	"os"
	"syscall"
)

// killGroup kills the plugin's process group: the plugin and whatever it
// started that did not leave the group.
func killGroup(pid int) {
	if pid > 0 {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// ownedByMe reports whether a directory belongs to this user.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// raise ends this process with sig as its default action would, once the
// handler that caught it has stopped (or passes it to the other handlers
// the program has).
func raise(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), s)
		return
	}
	os.Exit(1)
}
