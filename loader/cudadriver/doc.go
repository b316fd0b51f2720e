// Package cudadriver binds the CUDA driver API (libcuda.so.1) through
// loader, without cgo: devices, the primary context, device memory,
// modules (PTX or CUBIN from NVRTC) and kernel launches, the calls the
// cuda backend (core/cuda) and int8cal doctor need and no more.
//
// The driver exports versioned entry points; the _v2 names that cuda.h
// maps its public names to (cuMemAlloc → cuMemAlloc_v2, ...) are the ones
// bound. Every failing call returns an *Error with the call, the CUresult
// and the driver's own name and description of it.
//
// CUDA's current context belongs to an OS thread, and goroutines move
// between threads: run driver calls inside [Context.Enter], which locks
// the goroutine to its thread and makes the context current there.
package cudadriver
