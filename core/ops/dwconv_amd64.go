//go:build amd64 && !purego

package ops

import "github.com/int8cal/int8cal/core/gemm"

//go:noescape
func depthwiseRowsAVX512(dst, src *float32, off *int, w *float32, taps, rows, n, srcPitch, dstPitch int, bias, lo, hi float32)

//go:noescape
func depthwiseRowsAVX2(dst, src *float32, off *int, w *float32, taps, rows, n, srcPitch, dstPitch int, bias, lo, hi float32, mask *int32)

//go:noescape
func deinterleaveAVX512(even, odd, src *float32, n int, idx *uint32)

//go:noescape
func deinterleaveAVX2(even, odd, src *float32, n int)

var deinterleaveIdx = [32]uint32{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
	1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}

// deinterleaveFast splits the leading pairs of src into even and odd
// with the implementation's vectors (16 or 8 pairs a step; AVX-512 does
// the remaining pairs under masks) and returns how many pairs it did.
func deinterleaveFast(even, odd, src []float32) int {
	pairs := min(len(even), len(odd), len(src)/2)
	switch gemm.CurrentImpl() {
	case gemm.ImplAVX512: // all pairs, the last ones under masks
		if pairs > 0 {
			deinterleaveAVX512(&even[0], &odd[0], &src[0], pairs, &deinterleaveIdx[0])
			return pairs
		}
	case gemm.ImplAVX2:
		if n := pairs / 8; n > 0 {
			deinterleaveAVX2(&even[0], &odd[0], &src[0], n)
			return 8 * n
		}
	}
	return 0
}

//go:noescape
func copyRowsAVX512(dst, src *float32, rows, n, dstPitch, srcPitch int)

//go:noescape
func copyRowsAVX2(dst, src *float32, rows, n, dstPitch, srcPitch int, mask *int32)

// copyRowsFast copies rows rows of n floats, src row r at r·srcPitch to
// dst row r at r·dstPitch (in floats), with the implementation's vectors,
// reporting false where there are none; the caller checked the bounds.
func copyRowsFast(dst, src []float32, rows, n, dstPitch, srcPitch int) bool {
	switch gemm.CurrentImpl() {
	case gemm.ImplAVX512:
		copyRowsAVX512(&dst[0], &src[0], rows, n, 4*dstPitch, 4*srcPitch)
	case gemm.ImplAVX2:
		copyRowsAVX2(&dst[0], &src[0], rows, n, 4*dstPitch, 4*srcPitch, &dwTailMask[8-n%8])
	default:
		return false
	}
	return true
}

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
