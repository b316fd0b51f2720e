//go:build !amd64 || purego

package ops

// geluFast has no vector version here.
func geluFast(dst, src []float32) int { return 0 }

// erfFast has no vector version here.
func erfFast(dst, src []float32) int { return 0 }
