//go:build amd64 && !purego

package ops

import "github.com/int8cal/int8cal/core/gemm"

//go:generate go run gen_nhwc.go

//go:noescape
func dwLast3x3AVX512(rows *[5]*float32, col0 int, w, bias, out *float32, n, c, step, skip int, lo, hi float32, mask *int32)

//go:noescape
func dwLast5x5AVX512(rows *[5]*float32, col0 int, w, bias, out *float32, n, c, step, skip int, lo, hi float32, mask *int32)

//go:noescape
func dwLast3x3AVX2(rows *[5]*float32, col0 int, w, bias, out *float32, n, c, step, skip int, lo, hi float32, mask *int32)

//go:noescape
func dwLast5x5AVX2(rows *[5]*float32, col0 int, w, bias, out *float32, n, c, step, skip int, lo, hi float32, mask *int32)

// dwLastFast runs the assembly kernel of the GEMM's implementation
// (gemm.SetImpl forces both), reporting false where there is none; the
// caller checked the bounds.
func dwLastFast(a *dwLastArgs) bool {
	impl := gemm.CurrentImpl()
	if impl != gemm.ImplAVX512 && impl != gemm.ImplAVX2 {
		return false
	}
	var rows [5]*float32
	for ky := 0; ky < a.k; ky++ {
		rows[ky] = &a.src[ky][a.at[ky]]
	}
	kernel := dwLast3x3AVX2
	switch {
	case a.k == 3 && impl == gemm.ImplAVX512:
		kernel = dwLast3x3AVX512
	case a.k == 5 && impl == gemm.ImplAVX512:
		kernel = dwLast5x5AVX512
	case a.k == 5:
		kernel = dwLast5x5AVX2
	}
	kernel(&rows, a.col0, &a.w[0], &a.bias[0], &a.out[0], a.n, a.c, a.step, a.skip, a.lo, a.hi, &dwTailMask[0])
	return true
}

//go:noescape
func transposeBlocksAVX2(dst, src *float32, blocks, srcStride, dstStride int)

// transposeFast transposes the leading rows×cols block of whole 8×8
// blocks of the rows×cols matrix src into dst (see transposeMatrix) and
// returns how many rows and columns it did, 0, 0 where the CPU has no
// AVX2 (gemm's choice, which SetImpl forces).
func transposeFast(dst, src []float32, rows, cols int) (int, int) {
	if impl := gemm.CurrentImpl(); impl != gemm.ImplAVX512 && impl != gemm.ImplAVX2 {
		return 0, 0
	}
	r8, c8 := rows/8*8, cols/8*8
	if c8 == 0 {
		return 0, 0
	}
	for r := 0; r < r8; r += 8 {
		transposeBlocksAVX2(&dst[r], &src[r*cols], c8/8, 4*cols, 4*rows)
	}
	return r8, c8
}
