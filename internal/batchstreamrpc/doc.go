// Package batchstreamrpc carries dataset.BatchStream over go-plugin and the
// int8cal.batchstream.v1 gRPC protocol: the handshake, the plugin set, a
// server adapter wrapping a plugin's implementation and a client adapter
// the host calls. It converts between the generated protobuf types and the
// dataset types so that neither plugin authors nor the host see protobuf.
//
// Batches travel one of two ways. Streamed (Batches, always available),
// each batch is cut into chunks of at most ChunkBytes, so that no message
// comes near gRPC's limits however large a sample is; the limits are
// raised on both sides all the same. Through shared memory
// (SharedBatches, Linux), the host hands the plugin process a memory file
// at start (Region), the plugin writes each batch into one of a few slots
// of it and only says where, and the host copies the batch out and
// releases the slot: the data never crosses the socket.
package batchstreamrpc
