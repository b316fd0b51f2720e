package qgemm

import (
	"fmt"
	"math/rand"
	"testing"
)

// depthwiseWant is DepthwiseSums' definition in int64.
func depthwiseWant(x []int8, off []int, w []int32, j int) int64 {
	var s int64
	for t, o := range off {
		s += int64(w[t]) * int64(x[o+j])
	}
	return s
}

// DepthwiseSums against int64 sums on every implementation: 1 to 40 taps
// (every group remainder of the AVX-512 kernel, several batches of
// depthwiseBatch), lengths around the run of 32, random offsets and data
// with runs of the extreme values, weights -128 and 127 among them. The
// sums past n must not reach past DepthwisePadded(n).
func TestDepthwiseSums(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, n := range []int{1, 15, 16, 17, 31, 32, 33, 64, 100} {
				for taps := 1; taps <= 40; taps++ {
					np := DepthwisePadded(n)
					x := make([]int8, 3*np+40)
					for i := range x {
						switch r.Intn(4) {
						case 0:
							x[i] = -128
						case 1:
							x[i] = 127
						default:
							x[i] = int8(r.Intn(256) - 128)
						}
					}
					off, w := make([]int, taps), make([]int32, taps)
					for i := range off {
						off[i] = r.Intn(len(x) - np + 1)
						w[i] = int32(r.Intn(256) - 128)
					}
					w[0] = -128
					w[taps-1] = 127
					acc := make([]int32, np+1)
					acc[np] = 12345
					DepthwiseSums(acc[:np], x, off, w, n)
					for j := 0; j < n; j++ {
						if want := depthwiseWant(x, off, w, j); int64(acc[j]) != want {
							t.Fatalf("%v n=%d taps=%d: acc[%d] = %d, want %d", im, n, taps, j, acc[j], want)
						}
					}
					if acc[np] != 12345 {
						t.Fatalf("%v n=%d taps=%d: wrote past the padded sums", im, n, taps)
					}
				}
			}
		})
	}
}

// The extremes: every input -128 (or 127) under every weight -128 (or
// 127), 25 taps, so the sums reach ±25·2^14 with every product at its
// bound.
func TestDepthwiseSumsExtremes(t *testing.T) {
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, xv := range []int8{-128, 127} {
				for _, wv := range []int32{-128, 127} {
					const taps, n = 25, 70
					np := DepthwisePadded(n)
					x := make([]int8, np+taps)
					for i := range x {
						x[i] = xv
					}
					off, w := make([]int, taps), make([]int32, taps)
					for i := range off {
						off[i], w[i] = i, wv
					}
					acc := make([]int32, np)
					DepthwiseSums(acc, x, off, w, n)
					for j := 0; j < n; j++ {
						if want := int64(taps) * int64(wv) * int64(xv); int64(acc[j]) != want {
							t.Fatalf("%v x=%d w=%d: acc[%d] = %d, want %d", im, xv, wv, j, acc[j], want)
						}
					}
				}
			}
		})
	}
}

// BenchmarkDepthwiseSums times one channel of MobileNetV2-like 3×3
// layers (the phase layout of core/ops: stride 1 over a 112×112 plane,
// stride 2 over 112×112 into 56×56, and 7×7's small plane) under each
// implementation.
func BenchmarkDepthwiseSums(b *testing.B) {
	for _, l := range []struct {
		name       string
		in, stride int
	}{{"112s1", 112, 1}, {"112s2", 112, 2}, {"56s1", 56, 1}, {"7s1", 7, 1}} {
		padded := l.in + 2
		sub := (padded + l.stride - 1) / l.stride
		phase := sub * sub
		out := (padded-3)/l.stride + 1
		wideN := (out-1)*sub + out
		var off []int
		for ky := range 3 {
			for kx := range 3 {
				off = append(off, ((ky%l.stride)*l.stride+kx%l.stride)*phase+ky/l.stride*sub+kx/l.stride)
			}
		}
		np := DepthwisePadded(wideN)
		x := make([]int8, l.stride*l.stride*phase+np+2*sub+2)
		for i := range x {
			x[i] = int8(i * 7)
		}
		w := []int32{3, -7, 11, 127, -128, 5, 9, -1, 0}
		acc := make([]int32, np)
		for _, im := range Available() {
			b.Run(fmt.Sprintf("%s/%v", l.name, im), func(b *testing.B) {
				withImpl(b, im, func() {
					for b.Loop() {
						DepthwiseSums(acc, x, off, w, wideN)
					}
				})
			})
		}
	}
}
