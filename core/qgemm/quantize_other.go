//go:build !amd64 || purego

package qgemm

// quantizeFast has no vector version here.
func quantizeFast(dst []int8, src []float32, scale float32) int { return 0 }
