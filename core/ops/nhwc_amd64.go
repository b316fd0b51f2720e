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
