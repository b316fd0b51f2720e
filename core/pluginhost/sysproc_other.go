//go:build !unix

package pluginhost

import (
	"os"
	"os/exec"
)

// detach does nothing where process groups are not available; the plugin
// itself is still killed on Close and on every failure.
func detach(*exec.Cmd) {}

func reap(cmd *exec.Cmd) error { return cmd.Wait() }

// killGroup: no process groups here; process.kill kills the plugin.
func killGroup(int) {}

func ownedByMe(os.FileInfo) bool { return false }

func raise(os.Signal) { os.Exit(1) }
