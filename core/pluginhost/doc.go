// Package pluginhost finds, starts and talks to int8cal's plugins, each a
// separate program started through hashicorp/go-plugin: calibrators named
// int8cal-calibrator-<name> and data sets named int8cal-batchstream-<name>.
//
// Plugins are searched in the --plugin-dir directory, then in each entry of
// $INT8CAL_PLUGIN_PATH, then in the directory of the running int8cal
// binary; the first program of a name wins. Every call to a plugin runs
// under a deadline, and every error names the plugin and its path, so a
// plugin that crashes, hangs or speaks another protocol version fails the
// run with a message that says which one and why.
package pluginhost
