//go:build unix && !linux

package pluginhost

import (
	"os/exec"
	"syscall"
)

// detach puts the plugin in its own process group, so that killing the
// group also reaches anything it started.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// reap waits for the plugin process to end, then kills what it left in
// its process group.
func reap(cmd *exec.Cmd) error {
	err := cmd.Wait()
	killGroup(cmd.Process.Pid)
	return err
}
