package histogram

import (
	"math"
	"math/rand/v2"
	"testing"
)

// boundsRef is Bounds by its definition: ok only for non-empty, finite
// x; the extremes in the order -0 < +0.
func boundsRef(x []float32) (lo, hi float32, ok bool) {
	if len(x) == 0 {
		return 0, 0, false
	}
	lo, hi = x[0], x[0]
	for _, v := range x {
		if v != v || math.IsInf(float64(v), 0) {
			return 0, 0, false
		}
		if v < lo || v == 0 && lo == 0 && math.Signbit(float64(v)) {
			lo = v
		}
		if v > hi || v == 0 && hi == 0 && !math.Signbit(float64(v)) {
			hi = v
		}
	}
	return lo, hi, true
}

func TestBounds(t *testing.T) {
	check := func(t *testing.T, name string, x []float32) {
		lo, hi, ok := Bounds(x)
		wlo, whi, wok := boundsRef(x)
		if ok != wok || ok && (math.Float32bits(lo) != math.Float32bits(wlo) || math.Float32bits(hi) != math.Float32bits(whi)) {
			t.Fatalf("%s (%d values): Bounds = %v, %v, %v; want %v, %v, %v", name, len(x), lo, hi, ok, wlo, whi, wok)
		}
	}
	run := func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 3))
		for name, data := range fillCases(r) {
			for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, len(data)} {
				for _, off := range []int{0, 1, 5} {
					if off+n <= len(data) {
						check(t, name, data[off:off+n])
					}
				}
			}
		}
		// Signed zeros alone, in either order, at every position.
		for n := 1; n <= 40; n++ {
			for at := 0; at < n; at++ {
				x := make([]float32, n)
				x[at] = negZero
				check(t, "zeros", x)
				for i := range x {
					x[i] = negZero
				}
				x[at] = 0
				check(t, "zeros", x)
			}
		}
	}
	t.Run("go", func(t *testing.T) {
		prev, _ := SetImpl(ImplGo)
		defer SetImpl(prev)
		run(t)
	})
	withImpl(t, run)
}
