package histogram

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var (
	negZero = float32(math.Copysign(0, -1))
	posInf  = float32(math.Inf(1))
	negInf  = float32(math.Inf(-1))
	nan     = float32(math.NaN())
)

func encode(t testing.TB, h *Histogram) []byte {
	t.Helper()
	b, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBinning(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bins     int
		signed   bool
		batches  [][]float32
		rng      float64
		want     []uint64
		min, max float32
		zeros    uint64
	}{
		{name: "range is the max when it is a power of two", bins: 8,
			batches: [][]float32{{0, 0.1, 0.5, 1}},
			rng:     1, want: []uint64{2, 0, 0, 0, 1, 0, 0, 1}, min: 0, max: 1, zeros: 1},
		{name: "range rounds up to a power of two", bins: 8,
			batches: [][]float32{{0.3}, {-3}},
			rng:     4, want: []uint64{1, 0, 0, 0, 0, 0, 1, 0}, min: -3, max: 0.3},
		{name: "a value at the old range moves to its exact bin when the range grows", bins: 8,
			batches: [][]float32{{1, 0.99}, {1.5}},
			rng:     2, want: []uint64{0, 0, 0, 1, 1, 0, 1, 0}, min: 0.99, max: 1.5},
		{name: "growth by many doublings", bins: 8,
			batches: [][]float32{{1, 0.25, 0.125}, {1000}},
			rng:     1024, want: []uint64{3, 0, 0, 0, 0, 0, 0, 1}, min: 0.125, max: 1000},
		{name: "zeros only: no range, bin 0", bins: 8,
			batches: [][]float32{{0, negZero, 0}},
			rng:     0, want: []uint64{3, 0, 0, 0, 0, 0, 0, 0}, min: negZero, max: 0, zeros: 3},
		{name: "zeros first, then a range", bins: 4,
			batches: [][]float32{{0, 0}, {0.75}},
			rng:     1, want: []uint64{2, 0, 0, 1}, min: 0, max: 0.75, zeros: 2},
		{name: "odd bin count", bins: 3,
			batches: [][]float32{{1, 0.5, 0.34}, {2}},
			rng:     2, want: []uint64{2, 1, 1}, min: 0.34, max: 2},
		{name: "signed", bins: 8, signed: true,
			batches: [][]float32{{-1, -0.3, negZero, 0, 0.3, 0.75}},
			rng:     1, want: []uint64{1, 0, 1, 1, 1, 1, 0, 1}, min: -1, max: 0.75, zeros: 2},
		{name: "NaN and Inf are not binned", bins: 4,
			batches: [][]float32{{nan, 0.5, posInf, negInf, -0.25}},
			rng:     0.5, want: []uint64{0, 0, 1, 1}, min: -0.25, max: 0.5},
		{name: "subnormals", bins: 4,
			batches: [][]float32{{math.SmallestNonzeroFloat32, 3 * math.SmallestNonzeroFloat32}},
			rng:     4 * math.SmallestNonzeroFloat32, want: []uint64{0, 1, 0, 1},
			min: math.SmallestNonzeroFloat32, max: 3 * math.SmallestNonzeroFloat32},
		{name: "the largest float32: range 2^128", bins: 4,
			batches: [][]float32{{math.MaxFloat32, 1}},
			rng:     math.Ldexp(1, 128), want: []uint64{1, 0, 0, 1}, min: 1, max: math.MaxFloat32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h *Histogram
			if tc.signed {
				h = NewSigned(tc.bins)
			} else {
				h = New(tc.bins)
			}
			for _, b := range tc.batches {
				h.Add(b)
			}
			if got := h.Bins(); !slices.Equal(got, tc.want) || h.Range() != tc.rng {
				t.Errorf("bins %v range %v, want %v range %v", got, h.Range(), tc.want, tc.rng)
			}
			if math.Float32bits(h.Min()) != math.Float32bits(tc.min) || h.Max() != tc.max || h.Zeros() != tc.zeros {
				t.Errorf("min %v max %v zeros %d, want %v %v %d", h.Min(), h.Max(), h.Zeros(), tc.min, tc.max, tc.zeros)
			}
			var sum uint64
			for _, c := range h.Bins() {
				sum += c
			}
			if sum != h.Count() {
				t.Errorf("bins sum to %d, Count %d", sum, h.Count())
			}
			if w := h.BinWidth(); tc.rng != 0 && w != tc.rng/float64(h.NumBins()/map[bool]int{false: 1, true: 2}[tc.signed]) {
				t.Errorf("bin width %v", w)
			}
		})
	}
}

// oracle computes, independently of the package, the histogram of |x|
// (bins bins) the package doc promises: R = the smallest power of two >=
// max|x| over the finite values, bin floor(|v|*bins/R) in exact rational
// arithmetic, |v| == R in the last bin.
func oracle(x []float32, bins int) (counts []uint64, r float64) {
	var m float64
	for _, v := range x {
		if a := math.Abs(float64(v)); a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	counts = make([]uint64, bins)
	if m == 0 {
		for _, v := range x {
			if v == 0 {
				counts[0]++
			}
		}
		return counts, 0
	}
	r = math.SmallestNonzeroFloat64
	for r < m {
		r *= 2
	}
	rr := new(big.Rat).SetFloat64(r)
	for _, v := range x {
		a := math.Abs(float64(v))
		if a != a || math.IsInf(a, 0) {
			continue
		}
		q := new(big.Rat).SetFloat64(a)
		q.Mul(q, new(big.Rat).SetInt64(int64(bins)))
		q.Quo(q, rr)
		j := new(big.Int).Quo(q.Num(), q.Denom()).Int64()
		counts[min(int(j), bins-1)]++
	}
	return counts, r
}

// testData returns values of several shapes: dense, with growth across
// batches, exact powers of two (range edges), zeros, subnormals, NaN, Inf.
func testData(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	scale := math.Ldexp(1, r.IntN(20)-10)
	for i := range x {
		switch r.IntN(12) {
		case 0:
			x[i] = 0
		case 1:
			x[i] = negZero
		case 2:
			x[i] = float32(math.Ldexp(1, r.IntN(12)-6)) // exact bin edges and ranges
		case 3:
			x[i] = -float32(math.Ldexp(1, r.IntN(12)-6))
		case 4:
			x[i] = float32(r.IntN(256)) / 255
		case 5:
			x[i] = math.Float32frombits(uint32(r.IntN(1 << 23))) // subnormal
		case 6:
			x[i] = float32(r.ExpFloat64() * scale * 100)
		default:
			x[i] = float32(r.NormFloat64() * scale)
		}
	}
	return x
}

func TestOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	// The oracle comparison, on whole and batched data.
	for trial := 0; trial < 40; trial++ {
		x := testData(r, 3000)
		bins := []int{2048, 8, 3, 1, 1000}[trial%5]
		want, wr := oracle(x, bins)
		h := New(bins)
		rest := x
		for len(rest) > 0 {
			k := r.IntN(min(len(rest), 500) + 1)
			h.Add(rest[:k])
			rest = rest[k:]
		}
		if got := h.Bins(); !slices.Equal(got, want) || h.Range() != wr {
			t.Fatalf("trial %d, %d bins: range %v (oracle %v), bins differ from the oracle", trial, bins, h.Range(), wr)
		}
	}
}

// Same values, any batching and any order: identical bytes.
func TestBatchingAndOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for trial := 0; trial < 20; trial++ {
		x := testData(r, 5000)
		x = append(x, nan, posInf, negInf, nan)
		for _, mk := range []func() *Histogram{
			func() *Histogram { return New(0) },
			func() *Histogram { return NewSigned(0) },
			func() *Histogram { h, _ := NewFixed(512, 3); return h },
		} {
			ref := mk()
			ref.Add(x)
			want := encode(t, ref)

			perValue := mk()
			for i := range x {
				perValue.Add(x[i : i+1])
			}
			shuffled := slices.Clone(x)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			batched := mk()
			for rest := shuffled; len(rest) > 0; {
				k := r.IntN(min(len(rest), 700) + 1)
				batched.Add(rest[:k])
				rest = rest[k:]
			}
			sorted := mk()
			s := slices.Clone(x)
			slices.SortFunc(s, func(a, b float32) int { // ascending |x|: growth at every step
				return int(math.Float32bits(a)&0x7fffffff) - int(math.Float32bits(b)&0x7fffffff)
			})
			sorted.Add(s)
			for name, h := range map[string]*Histogram{"one value per Add": perValue, "shuffled, random batches": batched, "ascending |x|": sorted} {
				if got := encode(t, h); !bytes.Equal(got, want) {
					t.Fatalf("trial %d, %s: %s: encoding differs from one Add of all values\n got %v\nwant %v", trial, ref.layout(), name, h, ref)
				}
			}
		}
	}
}

// Merge of any partition, in any order or tree, equals sequential Add.
func TestMergeAnyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for trial := 0; trial < 30; trial++ {
		x := testData(r, 4000)
		if trial%3 == 0 {
			x = append(x, nan, posInf)
		}
		signed := trial%2 == 1
		mk := func() *Histogram {
			if signed {
				return NewSigned(256)
			}
			return New(2048)
		}
		ref := mk()
		ref.Add(x)
		want := encode(t, ref)

		// Random partition into parts (some empty, some all-zero).
		nparts := 1 + r.IntN(8)
		parts := make([]*Histogram, nparts)
		for i := range parts {
			parts[i] = mk()
		}
		for _, v := range x {
			parts[r.IntN(nparts)].Add([]float32{v})
		}
		parts = append(parts, mk()) // an empty part
		z := mk()
		z.Add([]float32{0, 0, negZero})
		parts = append(parts, z)
		ref.Add([]float32{0, 0, negZero})
		want = encode(t, ref)

		// Merge as a random binary tree.
		for len(parts) > 1 {
			i := r.IntN(len(parts))
			j := r.IntN(len(parts) - 1)
			if j >= i {
				j++
			}
			if err := parts[i].Merge(parts[j]); err != nil {
				t.Fatal(err)
			}
			parts = slices.Delete(parts, j, j+1)
		}
		if got := encode(t, parts[0]); !bytes.Equal(got, want) {
			t.Fatalf("trial %d: merged %v\nsequential %v", trial, parts[0], ref)
		}
	}
}

func TestMergeDoesNotChangeOther(t *testing.T) {
	a, b := New(16), New(16)
	a.Add([]float32{100})
	b.Add([]float32{0.5, 1})
	before := encode(t, b)
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, b), before) {
		t.Error("Merge changed its argument")
	}
}

func TestMergeMismatch(t *testing.T) {
	f1, _ := NewFixed(16, 1)
	f2, _ := NewFixed(16, 2)
	for _, tc := range []struct{ a, b *Histogram }{
		{New(16), New(32)},
		{New(16), NewSigned(32)},
		{New(16), f1},
		{f1, f2},
	} {
		if err := tc.a.Merge(tc.b); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s + %s: %v, want ErrMismatch", tc.a.layout(), tc.b.layout(), err)
		}
	}
}

// A signed histogram of 2n bins folds to the n-bin histogram of |x|.
func TestSignedAbs(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{2048, 5, 1} {
		x := testData(r, 3000)
		s := NewSigned(2 * n)
		s.Add(x)
		u := New(n)
		u.Add(x)
		if got, want := encode(t, s.Abs()), encode(t, u); !bytes.Equal(got, want) {
			t.Errorf("%d bins: Abs of signed %v, want %v", n, s.Abs(), u)
		}
		fs, _ := NewConfig(Config{Bins: 2 * n, Signed: true, Range: 2.5})
		fs.Add(x)
		fu, _ := NewFixed(n, 2.5)
		fu.Add(x)
		if got, want := encode(t, fs.Abs()), encode(t, fu); !bytes.Equal(got, want) {
			t.Errorf("%d bins, fixed: Abs of signed %v, want %v", n, fs.Abs(), fu)
		}
	}
}

func TestFixed(t *testing.T) {
	h, err := NewFixed(4, 1)
	if err != nil {
		t.Fatal(err)
	}
	h.Add([]float32{0.1, 0.3, 0.6, 1, 2, -5, nan})
	if got, want := h.Bins(), []uint64{1, 1, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("bins %v, want %v", got, want)
	}
	if h.Clipped() != 2 || h.Count() != 6 || h.Range() != 1 || h.MaxAbs() != 5 || h.Min() != -5 {
		t.Errorf("clipped %d count %d range %v maxabs %v min %v", h.Clipped(), h.Count(), h.Range(), h.MaxAbs(), h.Min())
	}
	if _, ok := h.Exp(); ok {
		t.Error("Exp reports a power-of-two range in fixed mode")
	}
	for _, r := range []float32{0, -1, posInf, nan} {
		if _, err := NewConfig(Config{Bins: 4, Range: r}); (err == nil) != (r == 0) {
			t.Errorf("range %v: err %v", r, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []Config{{Bins: -1}, {Bins: MaxBins + 1}, {Bins: 3, Signed: true}, {Bins: 2 * (MaxBins + 1), Signed: true}} {
		if _, err := NewConfig(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if h := New(0); h.NumBins() != DefaultBins {
		t.Errorf("New(0): %d bins", h.NumBins())
	}
	if h := NewSigned(0); h.NumBins() != 2*DefaultBins {
		t.Errorf("NewSigned(0): %d bins", h.NumBins())
	}
	defer func() {
		if recover() == nil {
			t.Error("New(-1) did not panic")
		}
	}()
	New(-1)
}

func TestNonFinite(t *testing.T) {
	h := New(8)
	h.Add([]float32{nan, 1, nan, posInf, -2, negInf, negInf})
	if h.NaNs() != 2 || h.Count() != 2 || h.Max() != 1 || h.Min() != -2 || h.Range() != 2 {
		t.Errorf("%v", h)
	}
	if p, n := h.Infs(); p != 1 || n != 2 {
		t.Errorf("Infs %d %d", p, n)
	}
	err := h.Err()
	if !errors.Is(err, ErrInf) || !strings.Contains(err.Error(), "1 +Inf and 2 -Inf among 7 values") {
		t.Errorf("Err() = %v", err)
	}
	if err := New(8).Err(); err != nil {
		t.Errorf("empty histogram: Err() = %v", err)
	}
	nanOnly := New(8)
	nanOnly.Add([]float32{nan})
	if nanOnly.Err() != nil || nanOnly.Count() != 0 || nanOnly.Min() != 0 || nanOnly.MaxAbs() != 0 {
		t.Errorf("NaN only: %v", nanOnly)
	}
}

// min and max do not depend on the order of -0 and +0.
func TestSignedZeroOrder(t *testing.T) {
	for _, x := range [][]float32{{0, negZero}, {negZero, 0}} {
		h := New(8)
		h.Add(x)
		if math.Float32bits(h.Min()) != math.Float32bits(negZero) || math.Float32bits(h.Max()) != 0 {
			t.Errorf("%v: min %v max %v", x, h.Min(), h.Max())
		}
	}
}

func TestResetAndClone(t *testing.T) {
	h := New(8)
	h.Add([]float32{3, -1, 0})
	c := h.Clone()
	h.Reset()
	if !h.Equal(New(8)) {
		t.Errorf("after Reset: %v", h)
	}
	if c.Count() != 3 || c.Range() != 4 {
		t.Errorf("clone: %v", c)
	}
	c.Add([]float32{1})
	if h.Count() != 0 {
		t.Error("clone shares counts")
	}
}

func TestAddDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	x := testData(r, 10000)
	for _, h := range []*Histogram{New(0), NewSigned(0)} {
		if n := testing.AllocsPerRun(20, func() { h.Add(x) }); n != 0 {
			t.Errorf("%s: %v allocations per Add", h.layout(), n)
		}
	}
}

func TestFoldSigned(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	x := testData(r, 2000)
	s := NewSigned(64)
	s.Add(x)
	if got, want := FoldSigned(s.Bins()), s.Abs().Bins(); !slices.Equal(got, want) {
		t.Errorf("FoldSigned %v, Abs %v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("odd length did not panic")
		}
	}()
	FoldSigned(make([]uint64, 3))
}
