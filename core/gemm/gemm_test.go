package gemm

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

const relTol = 1e-5

var testSizes = []int{1, 2, 3, 5, 7, 15, 16, 17, 31, 33, 64, 100, 257}

const sentinel = float32(-12345.5)

type problem struct {
	m, n, k       int
	lda, ldb, ldc int
	a, b, bt      []float32 // bt: Bᵀ (n×k, leading dimension ldbt)
	ldbt          int
	c0            []float32 // initial C (random, padding = sentinel)
	acc           bool
	ep            *Epilogue
	want, scale   []float64
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

func newProblem(r *rand.Rand, m, n, k int, pad, acc bool, epMode int) *problem {
	p := &problem{m: m, n: n, k: k, lda: k, ldb: n, ldc: n, ldbt: k, acc: acc}
	if pad {
		p.lda += 1 + r.Intn(5)
		p.ldb += 1 + r.Intn(5)
		p.ldc += 1 + r.Intn(5)
		p.ldbt += 1 + r.Intn(3)
	}
	p.a = randSlice(r, (m-1)*p.lda+k+r.Intn(3))
	p.b = randSlice(r, max(0, (k-1)*p.ldb+n))
	p.bt = make([]float32, max(0, (n-1)*p.ldbt+k))
	for pp := 0; pp < k; pp++ {
		for j := 0; j < n; j++ {
			p.bt[j*p.ldbt+pp] = p.b[pp*p.ldb+j]
		}
	}
	p.c0 = make([]float32, (m-1)*p.ldc+n)
	for i := range p.c0 {
		if i%p.ldc < n {
			p.c0[i] = r.Float32()*2 - 1
		} else {
			p.c0[i] = sentinel
		}
	}
	switch epMode {
	case 1:
		p.ep = &Epilogue{RowBias: randSlice(r, m)}
	case 2:
		p.ep = &Epilogue{ColBias: randSlice(r, n), ReLU: true}
	case 3:
		p.ep = &Epilogue{RowBias: randSlice(r, m), ColBias: randSlice(r, n), ReLU: true}
		if !acc { // a residual in C's layout, NaN between its rows (never read)
			p.ep.Residual = make([]float32, (m-1)*p.ldc+n)
			for i := range p.ep.Residual {
				p.ep.Residual[i] = float32(math.NaN())
				if i%p.ldc < n {
					p.ep.Residual[i] = r.Float32()*2 - 1
				}
			}
		}
	case 4:
		p.ep = &Epilogue{ReLU: true}
	case 5: // ReLU6 as MobileNet's Clip, with a bias that moves values past 6
		p.ep = &Epilogue{RowBias: scaled(randSlice(r, m), 8), Clip: true, Lo: 0, Hi: 6}
	case 6: // a clip whose lower bound is below 0, with ReLU: [0, 0.25]
		p.ep = &Epilogue{ColBias: randSlice(r, n), ReLU: true, Clip: true, Lo: -0.5, Hi: 0.25}
	}
	p.reference()
	return p
}

// reference computes the expected C in float64 and, per element, the sum of
// absolute values of all terms (the scale of the rounding error).
func (p *problem) reference() {
	p.want = make([]float64, p.m*p.n)
	p.scale = make([]float64, p.m*p.n)
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			var s, sa float64
			for q := 0; q < p.k; q++ {
				t := float64(p.a[i*p.lda+q]) * float64(p.b[q*p.ldb+j])
				s += t
				sa += math.Abs(t)
			}
			add := func(v float32) {
				s += float64(v)
				sa += math.Abs(float64(v))
			}
			if p.acc {
				add(p.c0[i*p.ldc+j])
			}
			if p.ep != nil && p.ep.Residual != nil {
				add(p.ep.Residual[i*p.ldc+j])
			}
			if p.ep != nil && p.ep.RowBias != nil {
				add(p.ep.RowBias[i])
			}
			if p.ep != nil && p.ep.ColBias != nil {
				add(p.ep.ColBias[j])
			}
			if p.ep != nil && p.ep.ReLU && s < 0 {
				s = 0
			}
			if p.ep != nil && p.ep.Clip {
				s = min(max(s, float64(p.ep.Lo)), float64(p.ep.Hi))
			}
			p.want[i*p.n+j] = s
			p.scale[i*p.n+j] = sa
		}
	}
}

func (p *problem) check(t *testing.T, what string, c []float32) {
	t.Helper()
	bad := 0
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.ldc && i*p.ldc+j < len(c); j++ {
			got := c[i*p.ldc+j]
			if j >= p.n {
				if got != sentinel {
					t.Errorf("%s: padding C[%d][%d] overwritten: %v", what, i, j, got)
					bad++
				}
				continue
			}
			want, sc := p.want[i*p.n+j], p.scale[i*p.n+j]
			if d := math.Abs(float64(got) - want); !(d <= relTol*sc+1e-30) {
				t.Errorf("%s: C[%d][%d] = %v, want %v (diff %g, scale %g)", what, i, j, got, want, d, sc)
				bad++
			}
			if bad > 5 {
				t.FailNow()
			}
		}
	}
}

func (p *problem) freshC() []float32 { return append([]float32(nil), p.c0...) }

// paths are the API entry points exercised on every problem.
var paths = []struct {
	name string
	run  func(p *problem, c []float32)
}{
	{"Sgemm", func(p *problem, c []float32) {
		if p.ep == nil {
			Sgemm(p.m, p.n, p.k, p.a, p.lda, p.b, p.ldb, c, p.ldc, p.acc)
			return
		}
		SgemmEx(p.m, p.n, p.k, p.a, p.lda, p.b, p.ldb, c, p.ldc, p.acc, p.ep, 1)
	}},
	{"SgemmParallel3", func(p *problem, c []float32) {
		SgemmEx(p.m, p.n, p.k, p.a, p.lda, p.b, p.ldb, c, p.ldc, p.acc, p.ep, 3)
	}},
	{"PackedA.Mul", func(p *problem, c []float32) {
		PackA(p.m, p.k, p.a, p.lda).MulEx(p.n, p.b, p.ldb, c, p.ldc, p.acc, p.ep, 1)
	}},
	{"PackedA.MulPackedBuf", func(p *problem, c []float32) {
		buf := MakePackedBBuffer(p.k, p.n)
		PackBInto(buf, p.k, p.n, p.b, p.ldb, false)
		pa := PackA(p.m, p.k, p.a, p.lda)
		if p.ep == nil {
			pa.MulPackedBuf(p.n, buf, c, p.ldc, p.acc)
			return
		}
		pa.MulPackedBufEx(p.n, buf, c, p.ldc, p.acc, p.ep, 1)
	}},
	{"PackedA.MulPackedBufParallel2", func(p *problem, c []float32) {
		buf := MakePackedBBuffer(p.k, p.n)
		PackBInto(buf, p.k, p.n, p.b, p.ldb, false)
		PackA(p.m, p.k, p.a, p.lda).MulPackedBufEx(p.n, buf, c, p.ldc, p.acc, p.ep, 2)
	}},
	{"PackedA.MulRows", func(p *problem, c []float32) {
		off := make([]int, p.k)
		for i := range off {
			off[i] = i * p.ldb
		}
		PackA(p.m, p.k, p.a, p.lda).MulRowsEx(p.n, p.b, off, c, p.ldc, p.acc, p.ep, 1)
	}},
	{"PackedA.MulRowsScattered2", func(p *problem, c []float32) {
		b, off := scatterRows(p)
		PackA(p.m, p.k, p.a, p.lda).MulRowsEx(p.n, b, off, c, p.ldc, p.acc, p.ep, 2)
	}},
	{"MulPackedB", func(p *problem, c []float32) {
		MulPackedBEx(p.m, p.a, p.lda, PackB(p.k, p.n, p.b, p.ldb, false), c, p.ldc, p.acc, p.ep, 1)
	}},
	{"MulPackedB(transB)", func(p *problem, c []float32) {
		pb := PackB(p.k, p.n, p.bt, p.ldbt, true)
		if p.ep == nil {
			MulPackedB(p.m, p.a, p.lda, pb, c, p.ldc, p.acc)
			return
		}
		MulPackedBEx(p.m, p.a, p.lda, pb, c, p.ldc, p.acc, p.ep, 4)
	}},
}

// scatterRows copies B's rows into a buffer in shuffled order, NaN around
// and between them (a kernel reading past a row makes C NaN), returning
// the buffer and the rows' offsets.
func scatterRows(p *problem) ([]float32, []int) {
	gap := 3
	b := make([]float32, p.k*(p.n+gap)+gap)
	for i := range b {
		b[i] = float32(math.NaN())
	}
	off := make([]int, p.k)
	for i, slot := range rand.New(rand.NewSource(int64(p.k))).Perm(p.k) {
		off[i] = gap + slot*(p.n+gap)
		copy(b[off[i]:off[i]+p.n], p.b[i*p.ldb:i*p.ldb+p.n])
	}
	return b, off
}

func withImpl(t testing.TB, i Impl, f func()) {
	prev, err := SetImpl(i)
	if err != nil {
		t.Skip(err)
	}
	defer SetImpl(prev)
	f()
}

// forceParallel makes the parallel variants split even tiny problems.
func forceParallel(t *testing.T) {
	prev := parMinFlops
	parMinFlops = 0
	t.Cleanup(func() { parMinFlops = prev })
}

func TestAllShapes(t *testing.T) {
	forceParallel(t)
	r := rand.New(rand.NewSource(1))
	impls := Available()
	t.Logf("implementations: %v (default %v)", impls, CurrentImpl())
	sizes := testSizes
	if testing.Short() {
		sizes = []int{1, 3, 16, 17, 33, 257}
	}
	idx := 0
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range sizes {
				idx++
				p := newProblem(r, m, n, k, idx%2 == 0, idx%3 == 0, idx%7)
				for _, im := range impls {
					withImpl(t, im, func() {
						for _, path := range paths {
							c := p.freshC()
							path.run(p, c)
							p.check(t, fmt.Sprintf("%v/%s m=%d n=%d k=%d acc=%v ep=%d", im, path.name, m, n, k, p.acc, idx%5), c)
						}
					})
				}
			}
		}
	}
}

// TestBlocking covers the cache-blocking loops: several k blocks, several
// row blocks (m > mcMax), several raw-B column blocks (n > ncMax).
func TestBlocking(t *testing.T) {
	forceParallel(t)
	r := rand.New(rand.NewSource(2))
	shapes := [][3]int{{9, 40, 600}, {9, 40, 1100}, {400, 20, 30}, {13, 1100, 20}, {50, 64, 500}, {20, 576, 25}, {70, 70, 513}}
	for si, s := range shapes {
		p := newProblem(r, s[0], s[1], s[2], si%2 == 1, si%2 == 0, 3)
		for _, im := range Available() {
			withImpl(t, im, func() {
				for _, path := range paths {
					c := p.freshC()
					path.run(p, c)
					p.check(t, fmt.Sprintf("%v/%s %v", im, path.name, s), c)
				}
			})
		}
	}
}

func TestZeroSizes(t *testing.T) {
	for _, s := range [][3]int{{0, 5, 5}, {5, 0, 5}, {5, 5, 0}, {0, 0, 0}, {3, 17, 0}} {
		m, n, k := s[0], s[1], s[2]
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		c := make([]float32, m*n)
		for i := range c {
			c[i] = 7
		}
		Sgemm(m, n, k, a, max(k, 1), b, max(n, 1), c, max(n, 1), true)
		for _, v := range c {
			if v != 7 {
				t.Fatalf("%v accumulate with k=0 changed C: %v", s, v)
			}
		}
		ep := &Epilogue{RowBias: make([]float32, m), ColBias: make([]float32, n), ReLU: true}
		for i := range ep.RowBias {
			ep.RowBias[i] = -1
		}
		SgemmEx(m, n, k, a, max(k, 1), b, max(n, 1), c, max(n, 1), false, ep, 1)
		for _, v := range c {
			if v != 0 {
				t.Fatalf("%v k=0 with bias -1 and ReLU: got %v, want 0", s, v)
			}
		}
		PackA(m, k, a, max(k, 1)).MulPackedBuf(n, make([]float32, PackedBSize(k, n)), c, max(n, 1), false)
		MulPackedB(m, a, max(k, 1), PackB(k, n, b, max(k, 1), true), c, max(n, 1), false)
		MulPackedB(m, a, max(k, 1), PackB(k, n, b, max(n, 1), false), c, max(n, 1), false)
	}
}

// TestImplAgreement calls the assembly and pure-Go kernels explicitly on the
// same inputs and compares them with each other.
func TestImplAgreement(t *testing.T) {
	impls := Available()
	if len(impls) < 2 {
		t.Skip("no assembly implementation on this CPU/build")
	}
	r := rand.New(rand.NewSource(3))
	for _, s := range [][3]int{{16, 1024, 27}, {16, 1024, 144}, {32, 256, 288}, {64, 64, 576}, {20, 576, 25}, {50, 64, 500}, {33, 17, 257}, {7, 100, 31}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		ep := &Epilogue{RowBias: randSlice(r, m), ReLU: true}
		var outs [][]float32
		for _, im := range impls {
			c := make([]float32, m*n)
			withImpl(t, im, func() { PackA(m, k, a, k).MulEx(n, b, n, c, n, false, ep, 1) })
			outs = append(outs, c)
		}
		for ii := 1; ii < len(impls); ii++ {
			for e := range outs[0] {
				x, y := outs[0][e], outs[ii][e]
				i, j := e/n, e%n
				var sc float64
				for q := 0; q < k; q++ {
					sc += math.Abs(float64(a[i*k+q]) * float64(b[q*n+j]))
				}
				sc += math.Abs(float64(ep.RowBias[i]))
				if d := math.Abs(float64(x) - float64(y)); d > 2*relTol*sc {
					t.Fatalf("%v: %v vs %v differ at C[%d][%d]: %v vs %v", s, impls[0], impls[ii], i, j, x, y)
				}
			}
		}
	}
}

// TestCrossImplPacking packs A under one implementation and multiplies under
// another (the tile heights differ).
func TestCrossImplPacking(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	p := newProblem(r, 50, 75, 40, true, true, 3)
	for _, packIm := range Available() {
		for _, runIm := range Available() {
			var pa *PackedA
			withImpl(t, packIm, func() { pa = PackA(p.m, p.k, p.a, p.lda) })
			c := p.freshC()
			withImpl(t, runIm, func() { pa.MulEx(p.n, p.b, p.ldb, c, p.ldc, p.acc, p.ep, 1) })
			p.check(t, fmt.Sprintf("pack %v run %v", packIm, runIm), c)
		}
	}
}

func TestPackedBLayout(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, s := range [][2]int{{27, 1024}, {5, 37}, {1, 1}, {13, 16}, {9, 17}} {
		k, n := s[0], s[1]
		b := randSlice(r, k*n)
		want := MakePackedBBuffer(k, n)
		PackBInto(want, k, n, b, n, false)
		got := make([]float32, PackedBSize(k, n))
		for p := 0; p < k; p++ {
			for j := 0; j < n; j++ {
				got[PackedBOffset(k, p, j)] = b[p*n+j]
			}
		}
		for q := 0; q*NR < n; q++ {
			pan := PackedBPanel(want, k, q)
			for p := 0; p < k; p++ {
				for jj := 0; jj < NR; jj++ {
					if j := q*NR + jj; j < n && pan[p*NR+jj] != b[p*n+j] || j >= n && pan[p*NR+jj] != 0 {
						t.Fatalf("%v: PackedBPanel(%d)[%d][%d] wrong", s, q, p, jj)
					}
				}
			}
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("%v: PackBInto and PackedBOffset disagree at %d", s, i)
			}
		}
	}
}

func scaled(v []float32, f float32) []float32 {
	for i := range v {
		v[i] *= f
	}
	return v
}

// TestClipNaN: the clip keeps a NaN and clamps values past either bound.
func TestClipNaN(t *testing.T) {
	for _, im := range Available() {
		withImpl(t, im, func() {
			a := []float32{float32(math.NaN()), 1, -9, 2.5}
			b := make([]float32, NR)
			for i := range b {
				b[i] = 1
			}
			c := make([]float32, 4*NR)
			SgemmEx(4, NR, 1, a, 1, b, NR, c, NR, false, &Epilogue{Clip: true, Lo: -1, Hi: 2}, 1)
			if !math.IsNaN(float64(c[0])) || c[NR] != 1 || c[2*NR] != -1 || c[3*NR] != 2 {
				t.Errorf("%v: clip to [-1,2] of NaN, 1, -9, 2.5 = %v %v %v %v", im, c[0], c[NR], c[2*NR], c[3*NR])
			}
		})
	}
}

func TestReLUNaN(t *testing.T) {
	for _, im := range Available() {
		withImpl(t, im, func() {
			a := []float32{float32(math.NaN()), 1}
			b := make([]float32, 2*NR)
			for i := range b {
				b[i] = -1
			}
			c := make([]float32, 2*NR)
			SgemmEx(2, NR, 1, a, 1, b, NR, c, NR, false, &Epilogue{ReLU: true}, 1)
			if !math.IsNaN(float64(c[0])) || c[NR] != 0 {
				t.Errorf("%v: ReLU(NaN)=%v (want NaN), ReLU(-1)=%v (want 0)", im, c[0], c[NR])
			}
		})
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	r := rand.New(rand.NewSource(6))
	m, n, k := 32, 256, 288
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	c := make([]float32, m*n)
	pa := PackA(m, k, a, k)
	pb := PackB(k, n, b, n, false)
	buf := MakePackedBBuffer(k, n)
	PackBInto(buf, k, n, b, n, false)
	ep := &Epilogue{RowBias: randSlice(r, m), ColBias: randSlice(r, n), ReLU: true}
	for _, im := range Available() {
		withImpl(t, im, func() {
			for name, f := range map[string]func(){
				"MulPackedBuf":   func() { pa.MulPackedBuf(n, buf, c, n, false) },
				"MulPackedBufEx": func() { pa.MulPackedBufEx(n-5, buf, c, n, true, ep, 1) },
				"Mul":            func() { pa.MulEx(n-3, b, n, c, n, false, ep, 1) },
				"MulPackedB":     func() { MulPackedB(m-1, a, k, pb, c, n, false) },
				"Sgemm":          func() { Sgemm(m, n, k, a, k, b, n, c, n, true) },
			} {
				if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
					t.Errorf("%v/%s: %v allocations per call", im, name, allocs)
				}
			}
		})
	}
}

// MulGridEx against SgemmEx on the gathered operand: lines of width
// columns, B's lines bPitch apart with NaN between them (a read past a
// line's columns makes C NaN) and C's lines cPitch apart with sentinels
// between them (which must survive); every implementation, one and three
// workers, accumulating or not, with each epilogue, a residual in C's
// layout among them.
func TestMulGrid(t *testing.T) {
	forceParallel(t)
	r := rand.New(rand.NewSource(7))
	nan := float32(math.NaN())
	for trial := 0; trial < 150; trial++ {
		m, k := 1+r.Intn(20), 1+r.Intn(40)
		if trial%10 == 0 {
			k = 520 + r.Intn(60) // two k blocks
		}
		lines, width := 1+r.Intn(5), 1+r.Intn([]int{17, 70}[r.Intn(2)])
		bPitch, cPitch := width+r.Intn(4), width+r.Intn(4)
		rowLen := (lines-1)*bPitch + width
		b := make([]float32, k*(rowLen+2)+1)
		for i := range b {
			b[i] = nan
		}
		off := make([]int, k)
		dense := make([]float32, k*lines*width) // B gathered, k × lines·width
		for p, slot := range r.Perm(k) {
			off[p] = 1 + slot*(rowLen+2)
			for y := 0; y < lines; y++ {
				for x := 0; x < width; x++ {
					v := r.Float32()*2 - 1
					b[off[p]+y*bPitch+x] = v
					dense[p*lines*width+y*width+x] = v
				}
			}
		}
		a := randSlice(r, m*k)
		ldc := (lines-1)*cPitch + width + r.Intn(3)
		c0 := make([]float32, m*ldc)
		for i := range c0 {
			c0[i] = sentinel
		}
		for i := 0; i < m; i++ {
			for y := 0; y < lines; y++ {
				copy(c0[i*ldc+y*cPitch:][:width], randSlice(r, width))
			}
		}
		acc := trial%2 == 0
		var ep *Epilogue
		switch trial % 4 {
		case 1:
			ep = &Epilogue{RowBias: randSlice(r, m), ReLU: true}
		case 2:
			ep = &Epilogue{ColBias: randSlice(r, width), Clip: true, Lo: -0.5, Hi: 0.5}
		case 3:
			ep = &Epilogue{RowBias: randSlice(r, m), ColBias: randSlice(r, width)}
			if !acc { // and a residual in C's layout, NaN between its lines
				ep.Residual = make([]float32, m*ldc)
				for i := range ep.Residual {
					ep.Residual[i] = nan
				}
				for i := 0; i < m; i++ {
					for y := 0; y < lines; y++ {
						copy(ep.Residual[i*ldc+y*cPitch:][:width], randSlice(r, width))
					}
				}
			}
		}
		// The reference: C over the gathered columns, then scattered; a
		// residual is the reference's old C.
		want := make([]float32, m*lines*width)
		old, refAcc := c0, acc
		if ep != nil && ep.Residual != nil {
			old, refAcc = ep.Residual, true
		}
		for i := 0; i < m; i++ {
			for y := 0; y < lines; y++ {
				copy(want[i*lines*width+y*width:][:width], old[i*ldc+y*cPitch:])
			}
		}
		var wep *Epilogue
		if ep != nil {
			e := *ep
			if e.ColBias != nil {
				e.ColBias = make([]float32, 0, lines*width)
				for y := 0; y < lines; y++ {
					e.ColBias = append(e.ColBias, ep.ColBias...)
				}
			}
			e.Residual = nil
			wep = &e
		}
		withImpl(t, ImplGo, func() { SgemmEx(m, lines*width, k, a, k, dense, lines*width, want, lines*width, refAcc, wep, 1) })
		for _, im := range Available() {
			withImpl(t, im, func() {
				for _, workers := range []int{1, 3} {
					c := append([]float32(nil), c0...)
					PackA(m, k, a, k).MulGridEx(lines, width, b, off, bPitch, c, ldc, cPitch, acc, ep, workers)
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							got := c[i*ldc+j]
							y, x := j/cPitch, j%cPitch
							if y >= lines || x >= width {
								if got != sentinel {
									t.Fatalf("%v trial %d: C[%d][%d] between lines overwritten: %v", im, trial, i, j, got)
								}
								continue
							}
							w := want[i*lines*width+y*width+x]
							if d := math.Abs(float64(got - w)); !(d <= 1e-4*(1+math.Abs(float64(w)))) {
								t.Fatalf("%v trial %d (m=%d k=%d %d×%d, workers %d): C[%d][%d] = %v, want %v", im, trial, m, k, lines, width, workers, i, j, got, w)
							}
						}
					}
				}
			})
		}
	}
}

// Transpose on every implementation, for shapes with whole 8×8 blocks,
// partial ones on either side, and none: every value lands where the
// transpose puts it, and nothing is written past the matrix.
func TestTranspose(t *testing.T) {
	for _, im := range Available() {
		withImpl(t, im, func() {
			for _, rows := range []int{1, 3, 8, 9, 16, 17, 32, 40} {
				for _, cols := range []int{1, 7, 8, 15, 16, 24, 49, 196} {
					src := make([]float32, rows*cols)
					for i := range src {
						src[i] = float32(i)
					}
					dst := make([]float32, rows*cols+1)
					dst[rows*cols] = -1
					Transpose(dst[:rows*cols], src, rows, cols)
					for r := 0; r < rows; r++ {
						for c := 0; c < cols; c++ {
							if got := dst[c*rows+r]; got != src[r*cols+c] {
								t.Fatalf("%v, %d×%d: dst[%d][%d] = %v, want %v", im, rows, cols, c, r, got, src[r*cols+c])
							}
						}
					}
					if dst[rows*cols] != -1 {
						t.Fatalf("%v, %d×%d: wrote past the matrix", im, rows, cols)
					}
				}
			}
		})
	}
}
