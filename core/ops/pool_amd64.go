//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

//go:noescape
func maxPool2x2AVX2(dst, r0, r1 *float32, n int)

//go:noescape
func maxPool2x2Int8AVX2(dst, src *int8, n, rows, iw, ow int)

// maxPool2x2Int8Fast pools the leading multiple of 4 outputs of each of
// a plane's oh output rows (ow outputs, from input rows of iw) with AVX2,
// all rows in one call, and returns how many outputs of each row it did.
func maxPool2x2Int8Fast(out, src []int8, iw, oh, ow int) int {
	n := ow &^ 3
	if n == 0 || oh == 0 || !vectorPool || !cpu.X86.HasAVX2 {
		return 0
	}
	_, _ = src[(2*oh-1)*iw+2*n-1], out[(oh-1)*ow+n-1]
	maxPool2x2Int8AVX2(&out[0], &src[0], n, oh, iw, ow)
	return n
}

// maxPool2x2Fast pools the leading multiple of 4 outputs of one row with
// AVX2 and returns how many it did; r0 and r1 are the two input rows.
func maxPool2x2Fast(out, r0, r1 []float32) int {
	n := len(out) &^ 3
	if n == 0 || !vectorPool || !cpu.X86.HasAVX2 {
		return 0
	}
	_, _ = r0[2*n-1], r1[2*n-1]
	maxPool2x2AVX2(&out[0], &r0[0], &r1[0], n)
	return n
}

//go:noescape
func maxTapsInt8AVX2(dst, src *int8, offs *int, taps, n int)

// maxTapsFast is maxTaps with AVX2, for runs of at least 32 bytes; it
// reports whether it ran.
func maxTapsFast(dst, src []int8, offs []int, n int) bool {
	if n < 32 || len(offs) == 0 || !vectorPool || !cpu.X86.HasAVX2 {
		return false
	}
	for _, o := range offs {
		_ = src[o : o+n]
	}
	_ = dst[n-1]
	maxTapsInt8AVX2(&dst[0], &src[0], &offs[0], len(offs), n)
	return true
}
