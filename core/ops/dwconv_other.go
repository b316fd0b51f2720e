//go:build !amd64 || purego

package ops

// depthwiseRowsFast has no vector version here.
func depthwiseRowsFast(a *dwArgs) bool { return false }

// deinterleaveFast has no vector version here.
func deinterleaveFast(even, odd, src []float32) int { return 0 }
