//go:build !amd64 || purego

package ops

// sumsFast has no vector version here.
func sumsFast(x []float32, part *[4]float64) int { return 0 }

// squaresFast has no vector version here.
func squaresFast(x []float32, mean float64, part *[4]float64) int { return 0 }

// normalizeFast has no vector version here.
func normalizeFast(dst, src, scale, bias []float32, mean, invStd float64) int { return 0 }
