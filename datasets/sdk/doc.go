// Package sdk turns a dataset.BatchStream into an int8cal data set plugin:
// a program whose main calls Serve. The host starts the program as its own
// process (hashicorp/go-plugin), speaks int8cal.batchstream.v1 to it over
// gRPC, reads batches from it (through shared memory on Linux, streamed
// otherwise) and shows what it logs through Logger in its own log. A
// dataset.TensorStream (named inputs of any element type) is served by
// ServeTensors over int8cal.batchstream.v2, the same ways.
//
// Build the program as int8cal-batchstream-<name> and put it in the plugin
// directory (--plugin-dir, $INT8CAL_PLUGIN_PATH, or next to the int8cal
// binary); `int8cal plugins` lists it. Its Info name must be <name>: the
// host refuses a plugin that calls itself otherwise. The host connects
// with mutual TLS and keeps the socket in a private directory; Serve takes
// care of both. The host never needs rebuilding.
// docs/writing-a-dataset.md walks through a complete plugin
// (datasets/plugins/mnist is another), and package batchstreamtest checks
// an implementation before it ships.
package sdk
