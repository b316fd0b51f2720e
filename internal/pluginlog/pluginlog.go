// Package pluginlog is the logger every int8cal plugin SDK hands its
// plugins: JSON lines on the plugin's original standard error, which the
// host parses and re-emits, with their level, in its own log.
package pluginlog

import (
	"os"

	"github.com/hashicorp/go-hclog"
)

// stderr is the process's standard error as it was at start-up: once a
// plugin serves, go-plugin swaps os.Stderr for a pipe the host does not
// read by default, so loggers must hold on to the original.
var stderr = os.Stderr

// New returns a plugin's logger named name. Nothing may be written to
// stdout: it carries the go-plugin handshake.
func New(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.Trace,
		Output:     stderr,
		JSONFormat: true,
	})
}
