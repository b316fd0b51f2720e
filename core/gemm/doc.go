// Package gemm is a single-precision matrix multiply (placeholder doc).
package gemm

//go:generate go run gen_kernels.go
