// Package pluginhost finds, starts and talks to int8cal's plugins, each a
// separate program started through hashicorp/go-plugin: calibrators named
// int8cal-calibrator-<name> and data sets named int8cal-batchstream-<name>.
//
// Plugins are searched in the --plugin-dir directory, then in each entry of
// $INT8CAL_PLUGIN_PATH, then in the directory of the running int8cal
// binary; the first program of a name wins, and runs by its absolute path
// (never looked up on $PATH). Its Info must carry that name. A lock file
// (Lock) can pin each plugin to the SHA-256 of its program, checked right
// before it starts.
//
// Each plugin runs in a process group of its own; when it ends, for any
// reason, the group is killed, so nothing it started outlives it, and the
// host does not wait on a pipe a leftover holds. go-plugin connects with
// automatic mutual TLS over a Unix socket in a private 0700 directory
// removed when the last plugin closes; Shutdown (run on exit, and on
// SIGINT and SIGTERM through HandleSignals) kills every plugin left and
// removes the directory, and one left by a host that was killed is swept
// by the next.
//
// Every call to a plugin runs under a deadline, every reply is checked,
// and every error names the plugin and its path, so a plugin that crashes,
// hangs, dies before its handshake (its exit status and the end of its
// stderr are shown) or speaks another protocol version fails the run with
// a message that says which one and why. Text from a plugin (errors, log
// lines, descriptions) is cleaned (Clean) before it reaches the terminal.
package pluginhost
