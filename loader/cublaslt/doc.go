// Package cublaslt binds cuBLASLt (libcublasLt) through loader, without
// cgo: the matrix products of the cuda backend in FP32, FP16 (tensor
// cores, FP32 accumulation) and INT8 (int32 accumulation on tensor cores).
//
// cublasLtMatmul takes 16 arguments, which needs purego v0.11 or newer
// (v0.10 stops at 15). Descriptors, layouts and the algorithm are made
// once per product shape ([New]); [Matmul.Run] then only launches.
//
// Layouts are column-major, as cuBLASLt's. INT8 products on Hopper follow
// the IMMA rules for regular ordering: A transposed and B not ("TN"), m
// and k multiples of 4, leading dimensions multiples of 4, pointers
// 4-byte aligned; New checks them and says which one fails.
package cublaslt
