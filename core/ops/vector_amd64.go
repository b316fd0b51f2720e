//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

// The pointwise kernels' AVX2 entry points take the leading multiple of
// their step of a row and leave the rest to the Go loops.

// avx2Prefix returns how many of n values an AVX2 kernel of step values
// takes: the leading multiple of step, or 0 without AVX2.
func avx2Prefix(n, step int) int {
	if !cpu.X86.HasAVX2 {
		return 0
	}
	return n / step * step
}

// vector4 runs kernel over the leading multiple of 4 values where there
// is AVX2, and returns how many it did.
func vector4(kernel func(dst, src *float32, n int), dst, src []float32) int {
	n := avx2Prefix(min(len(dst), len(src)), 4)
	if n > 0 {
		kernel(&dst[0], &src[0], n)
	}
	return n
}
