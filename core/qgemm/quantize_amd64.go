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

//go:noescape
func dequantizeAVX512(dst *float32, src *int32, n int, scale *float32, step int, bias *float32)

// dequantizeFast converts the leading multiple of 16 values of src with
// AVX-512 when the CPU has it and the Go kernels are not forced, and
// returns how many it did (see scaleInts).
func dequantizeFast(dst []float32, src []int32, scale []float32, bias []float32, step int) int {
	n := len(src) &^ 15
	if n == 0 || !cpu.X86.HasAVX512F || CurrentImpl() == ImplGo {
		return 0
	}
	var b *float32
	if bias != nil {
		b = &bias[0]
	}
	_ = dst[n-1]
	if step == 1 {
		_ = scale[n-1]
		if bias != nil {
			_ = bias[n-1]
		}
	}
	dequantizeAVX512(&dst[0], &src[0], n, &scale[0], step, b)
	return n
}

//go:noescape
func depthwiseAVX512(acc *int32, x *int8, off *int, w *int32, taps int, chunks int)

// depthwiseFast runs DepthwiseSums' np (a multiple of 16) positions with
// AVX-512 when the CPU has it and the Go kernels are not forced, and
// reports whether it did.
func depthwiseFast(acc []int32, x []int8, off []int, w []int32, np int) bool {
	if len(off) == 0 || !cpu.X86.HasAVX512F || CurrentImpl() == ImplGo {
		return false
	}
	depthwiseAVX512(&acc[0], &x[0], &off[0], &w[0], len(off), np/16)
	return true
}

// DepthwiseVector reports whether DepthwiseSums has a vector kernel on
// this CPU and build (AVX-512); without one its Go loop is no faster than
// a GEMM, which callers may prefer.
func DepthwiseVector() bool { return cpu.X86.HasAVX512F }
