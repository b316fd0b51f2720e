package pluginhost

import "github.com/hashicorp/go-hclog"

// lifecycleLogger is the logger handed to go-plugin for one plugin. It
// demotes go-plugin's own notice that the plugin process exited, which it
// logs at INFO after every normal shutdown, to DEBUG; the plugin's lines
// and go-plugin's warnings and errors pass unchanged.
type lifecycleLogger struct{ hclog.Logger }

func pluginLogger(log hclog.Logger, name string) hclog.Logger {
	return lifecycleLogger{log.Named(name)}
}

func (l lifecycleLogger) Info(msg string, args ...interface{}) {
	if msg == "plugin process exited" {
		l.Logger.Debug(msg, args...)
		return
	}
	l.Logger.Info(msg, args...)
}
