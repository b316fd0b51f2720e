//go:build !amd64 || purego

package ops

import "math"

// expRowFast has no vector version here.
func expRowFast(y, x []float32, maxv float32, part *[4]float64) int { return 0 }

// maxRowFast has no vector version here.
func maxRowFast(x []float32) (float32, int) { return float32(math.Inf(-1)), 0 }

// divRowFast has no vector version here.
func divRowFast(y []float32, sum float64) int { return 0 }
