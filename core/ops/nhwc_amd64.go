//go:build amd64 && !purego

package ops

import "github.com/int8cal/int8cal/core/gemm"

//go:noescape
func dw3x3NHWCAVX512(r0, r1, r2 *float32, col0 int, w, bias, out *float32, n, c, step, skip int, lo, hi float32)

//go:noescape
func dw3x3NHWCAVX2(r0, r1, r2 *float32, col0 int, w, bias, out *float32, n, c, step, skip int, bounds *float32, mask *int32)

// dw3x3NHWCFast runs the assembly kernel of the GEMM's implementation
// (gemm.SetImpl forces both), reporting false where there is none; the
// caller checked the bounds.
func dw3x3NHWCFast(a *dw3Args) bool {
	switch gemm.CurrentImpl() {
	case gemm.ImplAVX512:
		dw3x3NHWCAVX512(&a.src[0][a.at[0]], &a.src[1][a.at[1]], &a.src[2][a.at[2]], a.col0,
			&a.w[0], &a.bias[0], &a.out[0], a.n, a.c, a.step, a.skip, a.lo, a.hi)
		return true
	case gemm.ImplAVX2:
		var bounds [16]float32
		for i := range 8 {
			bounds[i], bounds[8+i] = a.lo, a.hi
		}
		dw3x3NHWCAVX2(&a.src[0][a.at[0]], &a.src[1][a.at[1]], &a.src[2][a.at[2]], a.col0,
			&a.w[0], &a.bias[0], &a.out[0], a.n, a.c, a.step, a.skip, &bounds[0], &dwTailMask[0])
		return true
	}
	return false
}
