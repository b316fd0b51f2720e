package qgemm

import "fmt"

// DepthwiseSums computes, for j < n, the exact int32 sums
//
//	acc[j] = Σ_t w[t]·x[off[t]+j]
//
// the products of a depthwise convolution of one channel laid out so that
// every tap reads a contiguous run: the quantized input in zero-padded
// planes (split into stride×stride phases for strides above 1), output
// position j at a fixed pitch. Weights are int8 values widened to int32
// (anything else panics). The work goes in runs of 32 positions: acc
// needs DepthwisePadded(n) values and x at least off[t] +
// DepthwisePadded(n) for every tap; the values computed past n are
// garbage. The vector kernels (depthwise_amd64.s: AVX-512 VNNI four taps
// to an instruction, AVX2 one or two) give the Go loop's sums exactly.
func DepthwiseSums(acc []int32, x []int8, off []int, w []int32, n int) {
	np := DepthwisePadded(n)
	if len(off) != len(w) || len(acc) < np {
		panic(fmt.Sprintf("qgemm: DepthwiseSums of %d positions with %d offsets, %d weights, %d sums", n, len(off), len(w), len(acc)))
	}
	for _, o := range off {
		if o < 0 || o+np > len(x) {
			panic(fmt.Sprintf("qgemm: DepthwiseSums tap at %d reads past the input's %d values", o, len(x)))
		}
	}
	for _, v := range w {
		if v != int32(int8(v)) {
			panic(fmt.Sprintf("qgemm: DepthwiseSums weight %d is not an int8 value", v))
		}
	}
	if n == 0 {
		return
	}
	if depthwiseFast(acc, x, off, w, np) {
		return
	}
	clear(acc[:n])
	for t, o := range off {
		wt, src := w[t], x[o:o+n]
		for j, v := range src {
			acc[j] += wt * int32(v)
		}
	}
}

// DepthwisePadded returns n rounded up to the run of 32 positions
// DepthwiseSums computes at a time.
func DepthwisePadded(n int) int { return (n + 31) &^ 31 }
