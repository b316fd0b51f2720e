//go:build !amd64 || purego

package ops

// maxPool2x2Fast has no vector version here.
func maxPool2x2Fast(out, r0, r1 []float32) int { return 0 }

// maxPool2x2Int8Fast has no vector version here.
func maxPool2x2Int8Fast(out, src []int8, iw, oh, ow int) int { return 0 }

// maxTapsFast has no vector version here.
func maxTapsFast(dst, src []int8, offs []int, n int) bool { return false }

// maxWindowsFast has no vector version here.
func maxWindowsFast(dst, src []float32, offs []int, n, stride int) int { return 0 }

// maxWindowsAvailable reports that there is no vector kernel here.
func maxWindowsAvailable() bool { return false }
