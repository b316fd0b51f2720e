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
// depthwiseBatch), lengths around the run of 32, random offsets (anywhere,
// close together, or at gaps around the vectors' 16 and 32 bytes) and
// data with the extreme values frequent, weights -128 and 127 among them.
// The sums past n must not reach past DepthwisePadded(n).
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
					limit := len(x) - np + 1
					for i := range off {
						// Offsets anywhere, near each other (runs a byte
						// apart: the AVX2 kernel's pairs; repeats), or a
						// vector's width apart, give or take one.
						switch taps % 3 {
						case 0:
							off[i] = r.Intn(limit)
						case 1:
							off[i] = r.Intn(taps/2 + 2)
						default:
							off[i] = r.Intn(limit)
							if i > 0 {
								gaps := []int{0, 1, 15, 16, 17, 31, 32, 33}
								off[i] = (off[i-1] + gaps[r.Intn(len(gaps))]) % limit
							}
						}
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

// The phase layouts of core/ops (dwGeometry): kernels 1×1 to 5×5 at
// strides 1 to 3 over a 9×11 plane, random data, on every implementation.
func TestDepthwiseSumsLayouts(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for _, im := range Available() {
		withImpl(t, im, func() {
			for k := 1; k <= 5; k++ {
				for s := 1; s <= 3; s++ {
					sub := [2]int{(9 + 2 + s - 1) / s, (11 + 2 + s - 1) / s}
					phase := sub[0] * sub[1]
					var off []int
					for ky := range k {
						for kx := range k {
							off = append(off, ((ky%s)*s+kx%s)*phase+ky/s*sub[1]+kx/s)
						}
					}
					n := (sub[0]-1)*sub[1] + sub[1] - (k-1)/s
					np := DepthwisePadded(n)
					x := make([]int8, s*s*phase+np+k*sub[1])
					for i := range x {
						x[i] = int8(r.Intn(256) - 128)
					}
					w := make([]int32, len(off))
					for i := range w {
						w[i] = int32(r.Intn(256) - 128)
					}
					acc := make([]int32, np)
					DepthwiseSums(acc, x, off, w, n)
					for j := 0; j < n; j++ {
						if want := depthwiseWant(x, off, w, j); int64(acc[j]) != want {
							t.Fatalf("%v %d×%d stride %d: acc[%d] = %d, want %d", im, k, k, s, j, acc[j], want)
						}
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
