// Package batchstreamrpc carries dataset.BatchStream over go-plugin and the
// int8cal.batchstream.v1 gRPC protocol, and dataset.TensorStream (named
// inputs of any element type) over int8cal.batchstream.v2: the handshake,
// the versioned plugin sets, server adapters wrapping a plugin's
// implementation and client adapters the host calls. It converts between
// the generated protobuf types and the dataset types so that neither
// plugin authors nor the host see protobuf.
//
// The host offers both versions (HostPlugins) and go-plugin settles on the
// highest the plugin serves: sdk.Serve serves v1 only, so every plugin
// built against it keeps speaking v1; sdk.ServeTensors serves v2.
//
// Batches travel one of two ways. Streamed (Batches, always available),
// each batch is cut into chunks of at most ChunkBytes, so that no message
// comes near gRPC's limits however large a sample is; the limits are
// raised on both sides all the same. Through shared memory
// (SharedBatches, Linux), the host hands the plugin process a memory file
// at start (Region), the plugin writes each batch into one of a few slots
// of it and only says where, and the host copies the batch out and
// releases the slot: the data never crosses the socket. v2 does both: a
// streamed batch is its inputs in turn, each cut into chunks of whole
// values; in a slot, each input starts at a multiple of 8 bytes.
//
// The generated code (internal/proto/batchstreamv1, v2) comes from
// proto/int8cal/batchstream with protoc 3.21, protoc-gen-go v1.36.12 and
// protoc-gen-go-grpc v1.6.2 on PATH:
//
//go:generate protoc -I ../../proto --go_out=../.. --go_opt=module=github.com/int8cal/int8cal --go-grpc_out=../.. --go-grpc_opt=module=github.com/int8cal/int8cal int8cal/batchstream/v1/batchstream.proto int8cal/batchstream/v2/batchstream.proto
package batchstreamrpc
