package pluginhost

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
)

// pluginLog is the logger handed to go-plugin for one plugin. Every line
// the plugin writes to its stderr comes through it (go-plugin parses JSON
// lines into a message and arguments), so it cleans the message and every
// argument (Clean) before they reach the host's log: a plugin cannot put
// escape sequences or extra lines on the user's terminal. It also demotes
// go-plugin's own notices that the plugin process exited (INFO after every
// normal shutdown, ERROR with its exit status) or was killed, to DEBUG:
// the host's error for the call that failed says so, with the exit status.
type pluginLog struct{ hclog.Logger }

func pluginLogger(log hclog.Logger, name string) hclog.Logger {
	return pluginLog{log.Named(name)}
}

func cleanArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case nil, bool, int, int64, uint64, float64, float32, int32, uint32:
			out[i] = v
		case string:
			out[i] = Clean(v, MaxLogText)
		case error:
			out[i] = Clean(v.Error(), MaxLogText)
		default:
			out[i] = Clean(fmt.Sprint(v), MaxLogText)
		}
	}
	return out
}

// lifecycle are go-plugin's notices about the plugin process.
var lifecycle = map[string]bool{"plugin process exited": true, "plugin failed to exit gracefully": true}

func (l pluginLog) Log(level hclog.Level, msg string, args ...any) {
	if lifecycle[msg] && level > hclog.Debug {
		level = hclog.Debug
	}
	l.Logger.Log(level, Clean(msg, MaxLogText), cleanArgs(args)...)
}

func (l pluginLog) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l pluginLog) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l pluginLog) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l pluginLog) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l pluginLog) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

// The loggers derived from this one clean too (go-plugin names one after
// the plugin's path for the stderr lines).

func (l pluginLog) With(args ...any) hclog.Logger {
	return pluginLog{l.Logger.With(cleanArgs(args)...)}
}
func (l pluginLog) Named(name string) hclog.Logger {
	return pluginLog{l.Logger.Named(Clean(name, 256))}
}
func (l pluginLog) ResetNamed(name string) hclog.Logger {
	return pluginLog{l.Logger.ResetNamed(Clean(name, 256))}
}
