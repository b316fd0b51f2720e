//go:build linux

package pluginhost

import (
	"os/exec"
	"syscall"
)

// detach puts the plugin in its own process group (so that killing it
// also reaches anything it started) and asks the kernel to kill it if the
// host dies without cleaning up.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
