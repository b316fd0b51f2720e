//go:build linux

package pluginhost

import (
	"errors"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// detach puts the plugin in its own process group (so that killing the
// group also reaches anything it started) and asks the kernel to kill it
// if the host dies without cleaning up.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// reap waits for the plugin process to end, kills what it left in its
// process group, then collects its exit status. The group is killed
// while the exited plugin is still a zombie holding its process ID, so
// the group ID cannot have been reused by then.
func reap(cmd *exec.Cmd) error {
	pid := cmd.Process.Pid
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	killGroup(pid)
	return cmd.Wait()
}
