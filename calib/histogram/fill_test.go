package histogram

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withImpl runs f with each vector implementation this CPU and build has
// (none under purego or on other architectures), restoring the default.
func withImpl(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, i := range Available() {
		if i == ImplGo {
			continue
		}
		t.Run(i.String(), func(t *testing.T) {
			prev, err := SetImpl(i)
			if err != nil {
				t.Fatal(err)
			}
			defer SetImpl(prev)
			f(t)
		})
	}
}

// fillCases returns data sets meant to reach every path of the fill
// kernels: dense values, ReLU outputs (runs of +0), -0, subnormals, exact
// powers of two (values equal to the range), NaN and ±Inf at every lane
// position, and magnitudes that grow the range inside one vector and from
// one vector to the next.
func fillCases(r *rand.Rand) map[string][]float32 {
	cases := map[string][]float32{}
	cases["mixed"] = testData(r, 5000)
	relu := make([]float32, 4133)
	for i := range relu {
		relu[i] = float32(max(0, r.NormFloat64()))
	}
	cases["relu"] = relu
	zeros := make([]float32, 1000)
	for i := range zeros {
		if r.IntN(7) == 0 {
			zeros[i] = negZero
		}
	}
	cases["zeros"] = zeros
	grow := make([]float32, 700)
	for i := range grow {
		grow[i] = float32(math.Ldexp(1+r.Float64(), i/5-60))
		if i%3 == 0 {
			grow[i] = -grow[i]
		}
	}
	cases["growing"] = grow
	pow := make([]float32, 300)
	for i := range pow {
		pow[i] = float32(math.Ldexp(1, r.IntN(8)))
		if r.IntN(2) == 0 {
			pow[i] = -pow[i]
		}
	}
	cases["powers of two"] = pow
	for _, special := range []float32{nan, posInf, negInf, math.MaxFloat32, -math.MaxFloat32, 1e30} {
		x := make([]float32, 256)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for _, at := range []int{0, 5, 15, 16, 17, 31, 100, 255} {
			x[at] = special
		}
		cases[fmt.Sprint("specials ", special)] = x
	}
	sub := make([]float32, 333)
	for i := range sub {
		sub[i] = math.Float32frombits(uint32(r.IntN(1<<23)) | uint32(r.IntN(2))<<31)
	}
	cases["subnormals"] = sub
	return cases
}

// Every vector implementation fills the same histograms as the Go loop,
// byte for byte: streaming, signed and fixed-range layouts, every length
// from 0 to 70 (tails, single vectors) and longer ones, from unaligned
// starts, whole and in batches.
func TestFillImplsIdentical(t *testing.T) {
	// Power-of-two scales (bins/R) take the kernels' float32 path, others
	// the float64 one; fixed ranges both.
	layouts := []Config{{}, {Bins: 8}, {Bins: 3}, {Signed: true}, {Bins: 6, Signed: true}, {Range: 1.5}, {Bins: 100, Range: 0.001}, {Range: 2}, {Bins: 16, Range: 0.25}}
	withImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 7))
		for name, data := range fillCases(r) {
			for _, c := range layouts {
				for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 47, 64, 70, 255, 256, 257, 511, 600, len(data)} {
					for _, off := range []int{0, 1, 3} {
						if off+n > len(data) {
							continue
						}
						x := data[off : off+n]
						got := filled(t, c, x, func(h *Histogram) { h.Add(x) })
						prev, _ := SetImpl(ImplGo)
						want := filled(t, c, x, func(h *Histogram) { h.Add(x) })
						SetImpl(prev)
						if !bytes.Equal(got, want) {
							t.Fatalf("%s, %+v, values [%d:%d]: the histogram differs from the Go loop's", name, c, off, off+n)
						}
						// The same values in random batches: same bytes.
						got = filled(t, c, x, func(h *Histogram) {
							for rest := x; len(rest) > 0; {
								k := r.IntN(min(len(rest), 80) + 1)
								h.Add(rest[:k])
								rest = rest[k:]
							}
						})
						if !bytes.Equal(got, want) {
							t.Fatalf("%s, %+v, values [%d:%d] in batches: the histogram differs from the Go loop's", name, c, off, off+n)
						}
					}
				}
			}
		}
	})
}

func filled(t *testing.T, c Config, x []float32, add func(*Histogram)) []byte {
	t.Helper()
	h, err := NewConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	add(h)
	return encode(t, h)
}

// The kernels add in blocks of fillBlock values: counts reaching one slot
// from several blocks, and one slot hit by every value, add up exactly.
func TestFillOneSlot(t *testing.T) {
	withImpl(t, func(t *testing.T) {
		for _, v := range []float32{0, negZero, 1, -1, 0.5, 1e-40} {
			x := make([]float32, 10000)
			for i := range x {
				x[i] = v
			}
			for _, c := range []Config{{}, {Signed: true}} {
				got := filled(t, c, x, func(h *Histogram) { h.Add(x) })
				prev, _ := SetImpl(ImplGo)
				want := filled(t, c, x, func(h *Histogram) { h.Add(x) })
				SetImpl(prev)
				if !bytes.Equal(got, want) {
					t.Fatalf("10000 × %v, %+v: the histogram differs from the Go loop's", v, c)
				}
			}
		}
	})
}

func TestSetImpl(t *testing.T) {
	if _, err := SetImpl(Impl(99)); err == nil {
		t.Fatal("SetImpl(99): no error")
	}
	a := Available()
	if a[0] != ImplGo || CurrentImpl() != a[len(a)-1] {
		t.Fatalf("Available() = %v, current %v: want ImplGo first and the best in use", a, CurrentImpl())
	}
}
