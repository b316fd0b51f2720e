//go:build amd64 && !purego

package qgemm

import "golang.org/x/sys/cpu"

// depthwiseBatch is the most taps one kernel call takes: their weights,
// prepared in the kernel's frame, must fit it.
const depthwiseBatch = 32

//go:noescape
func depthwiseVNNI(acc *int32, x *int8, off *int, w *int32, taps int, runs int, add bool)

//go:noescape
func depthwiseAVX2(acc *int32, x *int8, off *int, w *int32, taps int, runs int, add bool)

// depthwiseFast runs DepthwiseSums' np (a multiple of 32) positions with
// AVX-512 VNNI or AVX2, as vectorKernels chooses, and reports whether it
// did. The AVX-512 kernel interleaves taps with VPERMB (AVX512_VBMI);
// without it the AVX2 one runs. Taps go depthwiseBatch at a time, each
// batch after the first adding its sums to acc.
func depthwiseFast(acc []int32, x []int8, off []int, w []int32, np int) bool {
	avx2, avx512 := vectorKernels()
	if len(off) == 0 || !avx2 {
		return false
	}
	vnni := avx512 && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512VBMI
	for t := 0; t < len(off); t += depthwiseBatch {
		taps := min(depthwiseBatch, len(off)-t)
		if vnni {
			depthwiseVNNI(&acc[0], &x[0], &off[t], &w[t], taps, np/32, t > 0)
		} else {
			depthwiseAVX2(&acc[0], &x[0], &off[t], &w[t], taps, np/32, t > 0)
		}
	}
	return true
}

// DepthwiseVector reports whether DepthwiseSums has a vector kernel on
// this CPU and build (AVX-512 or AVX2); without one its Go loop is no
// faster than a GEMM, which callers may prefer.
func DepthwiseVector() bool { return hasAVX2() }
