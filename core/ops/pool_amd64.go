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

// maxWindowsAvailable reports whether maxWindowsFast has a vector kernel.
func maxWindowsAvailable() bool { return vectorPool && cpu.X86.HasAVX2 }

//go:noescape
func maxWindowsAVX2(dst, src *float32, offs *int, taps, n, stride int)

// maxWindowsFast computes, with AVX2, the leading multiple of 8 of n
// float max-pooling windows inside the input: output j of dst the max of
// src[offs[t] + j·stride] in maxInside's order, for stride 1 or 2. It
// returns how many it did: none where the CPU has no AVX2, for other
// strides, or where the last group's read (stride 2 reads a value past
// its last window) would leave src.
func maxWindowsFast(dst, src []float32, offs []int, n, stride int) int {
	if !maxWindowsAvailable() || stride != 1 && stride != 2 || len(offs) == 0 {
		return 0
	}
	n8 := min(n, len(dst)) &^ 7
	last := 0
	for _, o := range offs {
		last = max(last, o)
	}
	for n8 > 0 && last+(n8-1)*stride+stride-1 >= len(src) {
		n8 -= 8
	}
	if n8 == 0 {
		return 0
	}
	maxWindowsAVX2(&dst[0], &src[0], &offs[0], len(offs), n8, stride)
	return n8
}
