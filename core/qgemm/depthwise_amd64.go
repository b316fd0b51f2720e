//go:build amd64 && !purego

package qgemm

//go:noescape
func depthwiseAVX512(acc *int32, x *int8, off *int, w *int32, taps int, chunks int)

//go:noescape
func depthwiseAVX2(acc *int32, x *int8, off *int, w *int32, taps int, chunks int)

// depthwiseFast runs DepthwiseSums' np (a multiple of 16) positions with
// AVX-512 or AVX2, as vectorKernels chooses, and reports whether it did.
func depthwiseFast(acc []int32, x []int8, off []int, w []int32, np int) bool {
	avx2, avx512 := vectorKernels()
	if len(off) == 0 || !avx2 {
		return false
	}
	if avx512 {
		depthwiseAVX512(&acc[0], &x[0], &off[0], &w[0], len(off), np/16)
	} else {
		depthwiseAVX2(&acc[0], &x[0], &off[0], &w[0], len(off), np/16)
	}
	return true
}

// DepthwiseVector reports whether DepthwiseSums has a vector kernel on
// this CPU and build (AVX-512 or AVX2); without one its Go loop is no
// faster than a GEMM, which callers may prefer.
func DepthwiseVector() bool { return hasAVX2() }
