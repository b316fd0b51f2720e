//go:build !linux

package pluginhost

import "os/exec"

// detach does nothing where process groups and parent-death signals are not
// available; go-plugin still kills the plugin on Close.
func detach(*exec.Cmd) {}
