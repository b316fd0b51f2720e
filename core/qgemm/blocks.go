package qgemm

import "fmt"

// RequantizeBlocks is RequantizePlanes without a residual, writing the
// int8 output with its channels interleaved in blocks of four (NCHW4c:
// the layout MulTaps reads a convolution's input in, so that a 1×1
// convolution reading the tensor copies it instead of interleaving it):
// value j of plane p, c[p·ldc + j] for j < n, becomes, quantized as
// RequantizePlanes quantizes it with scales[p], bias[p] (bias nil: none),
// act and outScale,
//
//	dst[(p/4)·4·plane + (at+j)·4 + p%4]
//
// where plane is the output plane's size and at the first position
// written. planes must be a multiple of 4.
func RequantizeBlocks(c []int32, planes, n, ldc int, scales, bias []float32, act Activation, outScale float32, dst []int8, at, plane int) {
	if planes%4 != 0 || n < 0 || at < 0 || at+n > plane || ldc < n || len(scales) < planes || bias != nil && len(bias) < planes ||
		planes > 0 && n > 0 && (len(c) < (planes-1)*ldc+n || len(dst) < (planes/4-1)*4*plane+(at+n)*4) {
		panic(fmt.Sprintf("qgemm: RequantizeBlocks of %d planes of %d values %d apart (%d given) with %d scales, %d biases, into %d bytes at %d of planes of %d",
			planes, n, ldc, len(c), len(scales), len(bias), len(dst), at, plane))
	}
	if !(outScale > 0) {
		panic(fmt.Sprintf("qgemm: RequantizeBlocks with output scale %v", outScale))
	}
	if planes == 0 || n == 0 || requantizeBlocksFast(c, planes, n, ldc, scales, bias, act, outScale, dst, at, plane) {
		return
	}
	for p := 0; p < planes; p++ {
		out := dst[p/4*4*plane+at*4+p%4:]
		for j, v := range c[p*ldc : p*ldc+n] {
			f := float32(float32(v) * scales[p])
			if bias != nil {
				f += bias[p]
			}
			out[4*j] = quantize1(float32(act.apply(f)/outScale), -128)
		}
	}
}
