// Package sdk turns a calib.Calibrator into an int8cal calibrator plugin:
// a program whose main calls Serve. The host starts the program as its own
// process (hashicorp/go-plugin), speaks int8cal.calibrator.v1 to it over
// gRPC, and shows what it logs through Logger in its own log.
//
// Build the program as int8cal-calibrator-<name> and put it in the plugin
// directory (--plugin-dir, $INT8CAL_PLUGIN_PATH, or next to the int8cal
// binary); `int8cal plugins` lists it. Its Info name must be <name>: the
// host refuses a plugin that calls itself otherwise. The host connects
// with mutual TLS and keeps the socket in a private directory; Serve takes
// care of both. The host never needs rebuilding.
// docs/writing-a-calibrator.md walks through a complete plugin, and
// package calibratortest checks an implementation before it ships.
package sdk
