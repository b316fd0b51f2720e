//go:build !amd64 || purego

package ops

// depthwiseRowsFast has no vector version here.
func depthwiseRowsFast(a *dwArgs) bool { return false }

// deinterleaveFast has no vector version here.
func deinterleaveFast(even, odd, src []float32) int { return 0 }

// copyRowsFast has no vector version here.
func copyRowsFast(dst, src []float32, rows, n, dstPitch, srcPitch int) bool { return false }

// dwLastFast has no vector version here.
func dwLastFast(a *dwLastArgs) bool { return false }
