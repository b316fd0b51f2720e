package qgemm

import (
	"math/rand"
	"testing"
)

// DepthwiseSums against int64 sums, extreme values included, on the vector
// and the Go path, for lengths around the run of 16 and 1 to 25 taps.
func TestDepthwiseSums(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, n := range []int{1, 15, 16, 17, 100} {
				for _, taps := range []int{1, 9, 25} {
					np := DepthwisePadded(n)
					x := make([]int8, 3*np+40)
					for i := range x {
						x[i] = int8(r.Intn(256) - 128)
						if i%7 == 0 {
							x[i] = -128
						}
					}
					off, w := make([]int, taps), make([]int32, taps)
					for i := range off {
						off[i] = r.Intn(len(x) - np + 1)
						w[i] = int32(r.Intn(255) - 127)
					}
					w[0] = -127
					acc := make([]int32, np)
					DepthwiseSums(acc, x, off, w, n)
					for j := 0; j < n; j++ {
						var want int64
						for i, o := range off {
							want += int64(w[i]) * int64(x[o+j])
						}
						if int64(acc[j]) != want {
							t.Fatalf("%v n=%d taps=%d: acc[%d] = %d, want %d", im, n, taps, j, acc[j], want)
						}
					}
				}
			}
		})
	}
}
