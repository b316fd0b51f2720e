//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

//go:noescape
func expRowAVX2(y, x *float32, n int, maxv float32, part *[4]float64)

// expRowFast is expRow over the leading multiple of 4 values of a
// contiguous row with AVX2, adding to part; it returns how many it did.
func expRowFast(y, x []float32, maxv float32, part *[4]float64) int {
	n := min(len(y), len(x)) &^ 3
	if n == 0 || !cpu.X86.HasAVX2 {
		return 0
	}
	expRowAVX2(&y[0], &x[0], n, maxv, part)
	return n
}
