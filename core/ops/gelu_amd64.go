//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

//go:noescape
func geluAVX2(dst, src *float32, n int)

//go:noescape
func erfAVX2(dst, src *float32, n int)

// geluFast computes gelu over the leading multiple of 4 values of src
// into dst with AVX2, bit for bit, and returns how many it did.
func geluFast(dst, src []float32) int { return vector4(geluAVX2, dst, src) }

// erfFast is geluFast for erf.
func erfFast(dst, src []float32) int { return vector4(erfAVX2, dst, src) }

// vector4 runs kernel over the leading multiple of 4 values where there
// is AVX2, and returns how many it did.
func vector4(kernel func(dst, src *float32, n int), dst, src []float32) int {
	n := min(len(dst), len(src)) &^ 3
	if n == 0 || !cpu.X86.HasAVX2 {
		return 0
	}
	kernel(&dst[0], &src[0], n)
	return n
}
