//go:build !amd64 || purego

package qgemm

// quantizeFast has no vector version here.
func quantizeFast(dst []int8, src []float32, scale float32) int { return 0 }

// epilogueFast has no vector version here.
func epilogueFast(a *epilogueArgs) int { return 0 }

// depthwiseFast has no vector version here.
func depthwiseFast(acc []int32, x []int8, off []int, w []int32, np int) bool { return false }

// DepthwiseVector reports whether DepthwiseSums has a vector kernel on
// this CPU and build: not here.
func DepthwiseVector() bool { return false }

// quantizeInterleavedFast has no vector version here.
func quantizeInterleavedFast(dst []int8, ldd int, src []float32, planeStride, lds, step, ch, rows, cols int, scale float32) int {
	return 0
}

// quantizeRowsFast has no vector version here.
func quantizeRowsFast(dst []int8, ldd int, src []float32, lds, step, rows, cols int, scale float32) int {
	return 0
}

// interleaveFast has no vector version here.
func interleaveFast(dst []int8, ldd int, src []int8, planeStride, lds, step, ch, rows, cols int) int {
	return 0
}

// gatherRowsFast has no vector version here.
func gatherRowsFast(dst []int8, ldd int, src []int8, lds, step, rows, cols int) int { return 0 }

// dwRowsVector: the row kernel is not built here.
func dwRowsVector() bool { return false }

// dwRowsFast has no vector version here.
func dwRowsFast(d *DepthwiseRows, acc []int32, x []int8, w *DepthwiseWeights, c0, n int) bool {
	return false
}

// requantizeBlocksFast has no vector version here.
func requantizeBlocksFast(c []int32, planes, n, ldc int, scales, bias []float32, act Activation, outScale float32, dst []int8, at, plane int) bool {
	return false
}

// BlocksVector: RequantizeBlocks has no vector kernel here.
func BlocksVector() bool { return false }
