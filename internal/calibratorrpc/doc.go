// Package calibratorrpc carries calib.Calibrator over go-plugin and the
// int8cal.calibrator.v1 gRPC protocol: the handshake, the plugin set, a
// server adapter wrapping a plugin's implementation and a client adapter
// the host calls. It converts between the generated protobuf types and the
// calib types so that neither plugin authors nor the host see protobuf.
//
// Statistics travel as a client stream of chunks (a header per tensor, then
// its histogram counts and raw values in pieces of at most ChunkValues), so
// that no message comes near gRPC's limits however large a tensor's
// statistics are; the limits are raised on both sides all the same.
package calibratorrpc
