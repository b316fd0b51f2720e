package ops

import (
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

// The ONNX spec's examples (DepthToSpace's DCR and CRD on 0..47 in
// 1×8×2×3) and their inverse by SpaceToDepth.
func TestDepthToSpace(t *testing.T) {
	x := iota64(1, 8, 2, 3)
	dcr := []int64{
		0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4, 16, 5, 17, 27, 39, 28, 40, 29, 41,
		6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47}
	crd := []int64{
		0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23,
		24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47}
	got := rtOne(t, 13, "DepthToSpace", []*tensor.Tensor{x}, aInt("blocksize", 2))
	checkI(t, got, tensor.Int64, sh(1, 2, 4, 6), dcr...)
	got = rtOne(t, 13, "DepthToSpace", []*tensor.Tensor{x}, aInt("blocksize", 2), aString("mode", "CRD"))
	checkI(t, got, tensor.Int64, sh(1, 2, 4, 6), crd...)

	// SpaceToDepth undoes DCR.
	back := rtOne(t, 13, "SpaceToDepth", []*tensor.Tensor{i64(sh(1, 2, 4, 6), dcr...)}, aInt("blocksize", 2))
	checkI(t, back, tensor.Int64, sh(1, 8, 2, 3), x.I64...)

	f := rtOne(t, 13, "SpaceToDepth", []*tensor.Tensor{iota32(1, 1, 2, 2)}, aInt("blocksize", 2))
	checkF(t, f, sh(1, 4, 1, 1), 1, 2, 3, 4)

	wantErr(t, rtErr(13, "DepthToSpace", []*tensor.Tensor{iota32(1, 6, 2, 2)}, aInt("blocksize", 2)), "multiple of blocksize")
	wantErr(t, rtErr(13, "SpaceToDepth", []*tensor.Tensor{iota32(1, 1, 3, 2)}, aInt("blocksize", 2)), "multiples of blocksize")
	wantErr(t, rtErr(13, "DepthToSpace", []*tensor.Tensor{iota32(1, 4, 2, 2)}), "blocksize is required")
	wantErr(t, rtErr(13, "DepthToSpace", []*tensor.Tensor{iota32(1, 4, 2, 2)}, aInt("blocksize", 2), aString("mode", "XYZ")), "XYZ")
	wantErr(t, rtErr(13, "DepthToSpace", []*tensor.Tensor{iota32(4, 2, 2)}, aInt("blocksize", 2)), "N,C,H,W")
}
