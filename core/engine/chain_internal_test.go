package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/core/gemm"
)

// chainData returns n values among which every kind the kernels must
// treat as the Go loop does: NaNs of both signs with payloads, quiet and
// signalling, ±Inf, ±0, subnormals, and ordinary values of both signs.
func chainData(r *rand.Rand, n int) []float32 {
	specials := []uint32{0x7fc00001, 0xffc00123, 0x7f800001, 0xff800005, 0x80000000, 0, 0x7f800000, 0xff800000, 0x00000001, 0x80000001, 0x7f7fffff, 0xff7fffff}
	x := make([]float32, n)
	for i := range x {
		if r.IntN(4) == 0 {
			x[i] = math.Float32frombits(specials[r.IntN(len(specials))])
		} else {
			x[i] = float32(r.NormFloat64())
		}
	}
	return x
}

// Every chain kernel (the GEMM implementation's: gemm.SetImpl forces it)
// gives the Go loop's bits, for Relu alone and for
// Add then Relu, at every length up to 70 and longer odd ones, writing
// nothing past the end; only the NaN of NaN + NaN may differ (IEEE leaves
// it open), and is a NaN.
func TestChainKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	const sentinel = 0x12345678
	for _, impl := range gemm.Available() {
		t.Run(impl.String(), func(t *testing.T) {
			prev, err := gemm.SetImpl(impl)
			if err != nil {
				t.Fatal(err)
			}
			defer gemm.SetImpl(prev)
			for _, n := range append([]int{0, 1, 7, 8, 9, 15, 16, 17, 33, 70}, 1001, 4099) {
				for _, add := range []bool{false, true} {
					x, y := chainData(r, n), chainData(r, n)
					wantA, wantO := make([]float32, n), make([]float32, n)
					gotA, gotO := make([]float32, n+16), make([]float32, n+16)
					for i := range gotA {
						gotA[i], gotO[i] = math.Float32frombits(sentinel), math.Float32frombits(sentinel)
					}
					var ga, wa, yy []float32
					if add {
						ga, wa, yy = gotA[:n], wantA, y
					}
					chainGo(wa, wantO, x, yy)
					chainValues(ga, gotO[:n], x, yy)
					for i := 0; i < n+16; i++ {
						if i >= n {
							if math.Float32bits(gotO[i]) != sentinel || math.Float32bits(gotA[i]) != sentinel {
								t.Fatalf("n=%d add=%v: wrote past the end at %d", n, add, i)
							}
							continue
						}
						bothNaN := add && x[i] != x[i] && y[i] != y[i]
						check := func(what string, got, want float32) {
							if bothNaN {
								if got == got {
									t.Fatalf("n=%d: %s[%d] = %v from NaN + NaN", n, what, i, got)
								}
								return
							}
							if math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("n=%d add=%v: %s[%d] = %#x from %#x (+ %#x), the Go loop gives %#x", n, add, what, i,
									math.Float32bits(got), math.Float32bits(x[i]), math.Float32bits(y[i]), math.Float32bits(want))
							}
						}
						check("o", gotO[i], wantO[i])
						if add {
							check("a", gotA[i], wantA[i])
						} else if math.Float32bits(gotA[i]) != sentinel {
							t.Fatalf("n=%d: Relu alone wrote the Add's output", n)
						}
					}
				}
			}
		})
	}
}
