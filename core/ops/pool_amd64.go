//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

//go:noescape
func maxPool2x2AVX2(dst, r0, r1 *float32, n int)

//go:noescape
func maxPool2x2Int8AVX2(dst, r0, r1 *int8, n int)

// maxPool2x2Int8Fast is maxPool2x2Fast for int8 rows: the leading
// multiple of 4 outputs.
func maxPool2x2Int8Fast(out, r0, r1 []int8) int {
	n := len(out) &^ 3
	if n == 0 || !vectorPool || !cpu.X86.HasAVX2 {
		return 0
	}
	_, _ = r0[2*n-1], r1[2*n-1]
	maxPool2x2Int8AVX2(&out[0], &r0[0], &r1[0], n)
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
