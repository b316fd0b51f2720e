//go:build amd64 && !purego

package ops

import "github.com/int8cal/int8cal/core/gemm"

//go:noescape
func winoInputAVX512(dst, src *float32, idx *int32, bits *uint16, groups, chans, inPlane, width, vStride int)

//go:noescape
func winoInputPairsAVX512(dst, src *float32, idx *int32, pairs *uint16, groups, chans, inPlane, width, vStride int)

//go:noescape
func winoInputAVX2(dst, src *float32, idx *int32, bytes *int8, groups, chans, inPlane, width, vStride int)

//go:noescape
func winoOutputAVX512(dst, res, m, bias *float32, out *int32, n, groups, chans, mStride, ldm, outPlane, ldo int, lo, hi float32, tmp *float32)

//go:noescape
func winoOutputAVX2(dst, res, m, bias *float32, out *int32, n, groups, chans, mStride, ldm, outPlane, ldo int, lo, hi float32, tmp *float32)

// winoInputFast runs the input transform's assembly kernel of the GEMM's
// implementation (gemm.SetImpl forces both), reporting false where there
// is none. The gathers read only the lanes whose masks are set, inside
// src; their offsets were checked against the tensors by the plan.
func winoInputFast(a *winoInArgs) bool {
	if a.groups == 0 || a.chans == 0 {
		return true
	}
	switch gemm.CurrentImpl() {
	case gemm.ImplAVX512:
		// Pairs of values where their reads stay inside the tensor
		// (pairsOut), one by one elsewhere: runs of groups.
		for lo := 0; lo < a.groups; {
			hi := lo + 1
			for hi < a.groups && a.pairsOut[hi] == a.pairsOut[lo] {
				hi++
			}
			d, x, idx := &a.dst[16*a.chans*lo], &a.src[0], &a.idx[16*lo]
			if a.pairsOut[lo] {
				winoInputAVX512(d, x, idx, &a.bits[12*lo], hi-lo, a.chans, a.inPlane, a.width, a.vStride)
			} else {
				winoInputPairsAVX512(d, x, idx, &a.pairs[54*lo], hi-lo, a.chans, a.inPlane, a.width, a.vStride)
			}
			lo = hi
		}
	case gemm.ImplAVX2:
		winoInputAVX2(&a.dst[0], &a.src[0], &a.idx[0], &a.bytes[0], a.groups, a.chans, a.inPlane, a.width, a.vStride)
	default:
		return false
	}
	return true
}

// winoOutputFast runs the output transform's assembly kernel of the
// GEMM's implementation, reporting false where there is none.
func winoOutputFast(a *winoOutArgs) bool {
	if a.groups == 0 || a.chans == 0 {
		return true
	}
	var res *float32
	if a.res != nil {
		res = &a.res[0]
	}
	switch gemm.CurrentImpl() {
	case gemm.ImplAVX512:
		winoOutputAVX512(&a.dst[0], res, &a.m[0], &a.bias[0], &a.out[0], a.n, a.groups, a.chans, a.mStride, a.ldm, a.outPlane, a.ldo, a.lo, a.hi, &a.tmp[0])
	case gemm.ImplAVX2:
		winoOutputAVX2(&a.dst[0], res, &a.m[0], &a.bias[0], &a.out[0], a.n, a.groups, a.chans, a.mStride, a.ldm, a.outPlane, a.ldo, a.lo, a.hi, &a.tmp[0])
	default:
		return false
	}
	return true
}
