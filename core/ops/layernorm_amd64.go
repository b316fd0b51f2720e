//go:build amd64 && !purego

package ops

//go:noescape
func sumsAVX2(x *float32, n int, part *[4]float64)

//go:noescape
func squaresAVX2(x *float32, n int, mean float64, part *[4]float64)

//go:noescape
func normalizeAVX2(dst, src, scale, bias *float32, n int, mean, invStd float64)

// sumsFast adds the leading multiple of 4 values of x into part (value
// i's into part[i mod 4], in order) with AVX2 and returns how many.
func sumsFast(x []float32, part *[4]float64) int {
	n := avx2Prefix(len(x), 4)
	if n > 0 {
		sumsAVX2(&x[0], n, part)
	}
	return n
}

// squaresFast is sumsFast for the squares of x's values less mean.
func squaresFast(x []float32, mean float64, part *[4]float64) int {
	n := avx2Prefix(len(x), 4)
	if n > 0 {
		squaresAVX2(&x[0], n, mean, part)
	}
	return n
}

// normalizeFast is normalizeRow over the leading multiple of 4 values
// with AVX2; it returns how many it did.
func normalizeFast(dst, src, scale, bias []float32, mean, invStd float64) int {
	n := avx2Prefix(len(src), 4)
	if n > 0 {
		_, _, _ = dst[n-1], scale[n-1], bias[n-1]
		normalizeAVX2(&dst[0], &src[0], &scale[0], &bias[0], n, mean, invStd)
	}
	return n
}
