//go:build amd64 && !purego

package qgemm

import "golang.org/x/sys/cpu"

//go:noescape
func quantizeAVX512(dst *int8, src *float32, n int, scale float32)

// quantizeFast quantizes the leading multiple of 16 values with AVX-512
// when the CPU has it and the Go kernels are not forced, and returns how
// many it did.
func quantizeFast(dst []int8, src []float32, scale float32) int {
	n := len(src) &^ 15
	if n == 0 || !cpu.X86.HasAVX512F || !cpu.X86.HasAVX512BW || CurrentImpl() == ImplGo {
		return 0
	}
	quantizeAVX512(&dst[0], &src[0], n, scale)
	return n
}
