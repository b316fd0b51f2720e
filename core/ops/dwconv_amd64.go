//go:build amd64 && !purego

package ops

import "github.com/int8cal/int8cal/core/gemm"

//go:noescape
func depthwiseRowsAVX512(dst, src *float32, off *int, w *float32, taps, rows, n, srcPitch, dstPitch int, bias, lo, hi float32)

//go:noescape
func depthwiseRowsAVX2(dst, src *float32, off *int, w *float32, taps, rows, n, srcPitch, dstPitch int, bias, lo, hi float32, mask *int32)

// dwTailMask: 8 lanes on, then 8 off; the AVX2 kernel's store mask for
// the last r < 8 outputs of a row starts at dwTailMask[8-r].
var dwTailMask = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// depthwiseRowsFast runs the assembly kernel of the GEMM's implementation
// (gemm.SetImpl forces both), reporting false where there is none.
func depthwiseRowsFast(a *dwArgs) bool {
	switch gemm.CurrentImpl() {
	case gemm.ImplAVX512:
		depthwiseRowsAVX512(&a.dst[0], &a.src[0], &a.off[0], &a.w[0], len(a.off), a.rows, a.n, a.srcPitch, a.dstPitch, a.bias, a.lo, a.hi)
	case gemm.ImplAVX2:
		depthwiseRowsAVX2(&a.dst[0], &a.src[0], &a.off[0], &a.w[0], len(a.off), a.rows, a.n, a.srcPitch, a.dstPitch, a.bias, a.lo, a.hi, &dwTailMask[0])
	default:
		return false
	}
	return true
}
