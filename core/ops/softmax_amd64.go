//go:build amd64 && !purego

package ops

import "math"

//go:noescape
func expRowAVX2(y, x *float32, n int, maxv float32, part *[4]float64)

// expRowFast is expRow over the leading multiple of 4 values of a
// contiguous row with AVX2, adding to part; it returns how many it did.
func expRowFast(y, x []float32, maxv float32, part *[4]float64) int {
	n := avx2Prefix(min(len(y), len(x)), 4)
	if n > 0 {
		expRowAVX2(&y[0], &x[0], n, maxv, part)
	}
	return n
}

//go:noescape
func maxRowAVX2(x *float32, n int) float32

//go:noescape
func divRowAVX2(y *float32, n int, sum float64)

// maxRowFast returns the largest of the leading multiple of 8 values of
// x, NaNs skipped (−Inf for none), and how many it looked at.
func maxRowFast(x []float32) (float32, int) {
	n := avx2Prefix(len(x), 8)
	if n == 0 {
		return float32(math.Inf(-1)), 0
	}
	return maxRowAVX2(&x[0], n), n
}

// divRowFast divides the leading multiple of 4 values of y by sum in
// float64 and returns how many it did.
func divRowFast(y []float32, sum float64) int {
	n := avx2Prefix(len(y), 4)
	if n > 0 {
		divRowAVX2(&y[0], n, sum)
	}
	return n
}
