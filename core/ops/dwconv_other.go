//go:build !amd64 || purego

package ops

// depthwiseRowsFast has no vector version here.
func depthwiseRowsFast(a *dwArgs) bool { return false }

// deinterleaveFast has no vector version here.
func deinterleaveFast(even, odd, src []float32) int { return 0 }

// copyRowsFast has no vector version here.
func copyRowsFast(dst, src []float32, rows, n, dstPitch, srcPitch int) bool { return false }

// dw3x3NHWCFast has no vector version here.
func dw3x3NHWCFast(a *dw3Args) bool { return false }
