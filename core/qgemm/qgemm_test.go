package qgemm

import (
	"fmt"
	"math/rand"
	"testing"
)

var testSizes = []int{1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100, 257}

const sentinel = int32(-123456789)

// Value distributions of the operands.
const (
	valRandom  = iota // A in [-127,127], B in [-128,127]
	valExtreme        // A, B each one of -128, -127, 127 (saturation traps)
	valMaxPos         // A = B = 127: the largest positive products
	valMaxNeg         // A = -128, B = 127: the largest negative products
	valNonNegB        // A in [-128,127], B in [0,127] (AVX2's VPMADDUBSW path)
	valSatTrap        // B = -128, A = ±127 alternating: saturates a naive VPMADDUBSW
	numValModes
)

func fill(r *rand.Rand, s []int8, mode int, isA bool) {
	for i := range s {
		switch mode {
		case valRandom:
			if isA {
				s[i] = int8(r.Intn(255) - 127)
			} else {
				s[i] = int8(r.Intn(256) - 128)
			}
		case valExtreme:
			s[i] = []int8{-128, -127, 127}[r.Intn(3)]
		case valMaxPos:
			s[i] = 127
		case valMaxNeg:
			if isA {
				s[i] = -128
			} else {
				s[i] = 127
			}
		case valNonNegB:
			if isA {
				s[i] = int8(r.Intn(256) - 128)
			} else {
				s[i] = int8(r.Intn(128))
			}
		case valSatTrap:
			if isA {
				s[i] = int8(127 - 254*(i%2))
			} else {
				s[i] = -128
			}
		}
	}
}

type problem struct {
	m, n, k       int
	lda, ldb, ldc int
	a, b          []int8
	want          []int64 // m×n
}

func newProblem(r *rand.Rand, m, n, k int, pad bool, mode int) *problem {
	p := &problem{m: m, n: n, k: k, lda: k, ldb: n, ldc: n}
	if pad {
		p.lda += 1 + r.Intn(5)
		p.ldb += 1 + r.Intn(5)
		p.ldc += 1 + r.Intn(5)
	}
	p.a = make([]int8, max(0, (m-1)*p.lda+k))
	p.b = make([]int8, max(0, (k-1)*p.ldb+n))
	fill(r, p.a, mode, true)
	fill(r, p.b, mode, false)
	p.want = reference(m, n, k, p.a, p.lda, p.b, p.ldb)
	return p
}

// reference is the naive int64 product.
func reference(m, n, k int, a []int8, lda int, b []int8, ldb int) []int64 {
	want := make([]int64, m*n)
	for i := 0; i < m; i++ {
		for q := 0; q < k; q++ {
			av := int64(a[i*lda+q])
			row := b[q*ldb:][:n]
			w := want[i*n:][:n]
			for j, bv := range row {
				w[j] += av * int64(bv)
			}
		}
	}
	return want
}

func (p *problem) freshC() []int32 {
	c := make([]int32, max(0, (p.m-1)*p.ldc+p.n))
	for i := range c {
		c[i] = sentinel
	}
	return c
}

// check compares C with the reference: exact equality (the reference fits
// int32 in every test except where wrapping is tested on purpose: then
// int32(want), the two's complement wrap, is what every kernel computes).
func (p *problem) check(t *testing.T, what string, c []int32) {
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
			} else if want := int32(p.want[i*p.n+j]); got != want {
				t.Errorf("%s: C[%d][%d] = %d, want %d", what, i, j, got, want)
				bad++
			}
			if bad > 5 {
				t.FailNow()
			}
		}
	}
}

// paths are the API entry points exercised on every problem.
var paths = []struct {
	name string
	run  func(p *problem, c []int32)
}{
	{"Mul", func(p *problem, c []int32) {
		PackA(p.m, p.k, p.a, p.lda).Mul(p.n, p.b, p.ldb, c, p.ldc)
	}},
	{"Repack(dirty).Mul", func(p *problem, c []int32) {
		// Buffers reused from a larger operand full of nonzero bytes: the
		// pad columns must read as zeros again.
		var q PackedA
		big := make([]int8, (p.m+3)*(p.k+5))
		for i := range big {
			big[i] = int8(i*29 + 3)
		}
		q.Repack(p.m+3, p.k+5, big, p.k+5)
		q.Repack(p.m, p.k, p.a, p.lda)
		q.Mul(p.n, p.b, p.ldb, c, p.ldc)
	}},
	{"MulPackedBuf(PackB)", func(p *problem, c []int32) {
		PackA(p.m, p.k, p.a, p.lda).MulPackedBuf(p.n, PackB(p.k, p.n, p.b, p.ldb), c, p.ldc)
	}},
	{"MulPackedBuf(PackBRow,dirty)", func(p *problem, c []int32) {
		// A reused buffer full of garbage: PackBRow writes only the real
		// rows, the pad rows k..PaddedK(k)-1 keep their garbage.
		buf := make([]int8, PackedBSize(p.k, p.n)+7)
		for i := range buf {
			buf[i] = int8(i*37 + 11)
		}
		for q := 0; q < p.k; q++ {
			PackBRow(buf, p.k, q, p.b[q*p.ldb:][:p.n])
		}
		PackA(p.m, p.k, p.a, p.lda).MulPackedBuf(p.n, buf, c, p.ldc)
	}},
	{"MulPackedBuf(PackBRows,dirty)", func(p *problem, c []int32) {
		// Row ranges of varying length and alignment (1..9 rows).
		buf := make([]int8, PackedBSize(p.k, p.n))
		for i := range buf {
			buf[i] = int8(i*53 + 5)
		}
		for q0, step := 0, 1; q0 < p.k; q0, step = q0+step, step%9+1 {
			rows := min(step, p.k-q0)
			PackBRows(buf, p.k, p.n, q0, rows, p.b[q0*p.ldb:], p.ldb)
		}
		PackA(p.m, p.k, p.a, p.lda).MulPackedBuf(p.n, buf, c, p.ldc)
	}},
}

func withImpl(t testing.TB, i Impl, f func()) {
	t.Helper()
	prev, err := SetImpl(i)
	if err != nil {
		t.Skip(err)
	}
	defer SetImpl(prev)
	f()
}

func TestAllShapes(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	impls := Available()
	t.Logf("implementations: %v (default %v)", impls, CurrentImpl())
	sizes := testSizes
	if testing.Short() {
		sizes = []int{1, 3, 4, 16, 17, 33, 257}
	}
	idx := 0
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range sizes {
				idx++
				p := newProblem(r, m, n, k, idx%2 == 0, idx%numValModes)
				for _, im := range impls {
					withImpl(t, im, func() {
						for _, path := range paths {
							c := p.freshC()
							path.run(p, c)
							p.check(t, fmt.Sprintf("%v/%s m=%d n=%d k=%d mode=%d", im, path.name, m, n, k, idx%numValModes), c)
						}
					})
				}
			}
		}
	}
}

// TestExtremes runs every operand value combination of the saturation
// traps on all tile shapes: all-extreme operands for odd and even k.
func TestExtremes(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, mode := range []int{valExtreme, valMaxPos, valMaxNeg, valNonNegB, valSatTrap} {
		for _, s := range [][3]int{{12, 32, 4}, {13, 33, 5}, {8, 64, 255}, {7, 16, 1}, {25, 48, 3}, {24, 40, 1030}} {
			p := newProblem(r, s[0], s[1], s[2], true, mode)
			for _, im := range Available() {
				withImpl(t, im, func() {
					for _, path := range paths {
						c := p.freshC()
						path.run(p, c)
						p.check(t, fmt.Sprintf("%v/%s %v mode=%d", im, path.name, s, mode), c)
					}
				})
			}
		}
	}
}

// TestLargeK checks exactness at the documented bound (k = 8192 with the
// largest products: 127·128·8192 < 2^31) and beyond: the VNNI kernel's
// biased sum Σ A·(B+128) wraps int32 for k = 70000 before the correction,
// and for k = 140000 the true result itself wraps; every implementation
// must still agree with the two's complement wrap of the exact result.
func TestLargeK(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	ks := []int{8192, 70000, 140000}
	if testing.Short() {
		ks = ks[:1]
	}
	for _, k := range ks {
		for _, mode := range []int{valMaxPos, valMaxNeg, valExtreme} {
			p := newProblem(r, 3, 20, k, false, mode)
			for _, im := range Available() {
				withImpl(t, im, func() {
					for _, path := range paths[:2] {
						c := p.freshC()
						path.run(p, c)
						p.check(t, fmt.Sprintf("%v/%s k=%d mode=%d", im, path.name, k, mode), c)
					}
				})
			}
		}
	}
}

// TestBlocking covers the cache-blocking loops: several k blocks (k >
// kcMax), several row blocks (m > mcMax), several Mul column blocks (n >
// ncMax).
func TestBlocking(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	shapes := [][3]int{{9, 40, 1030}, {9, 40, 2049}, {400, 20, 30}, {13, 1100, 20}, {5, 1100, 7}, {50, 64, 500}, {20, 576, 25}, {70, 70, 1025}}
	for si, s := range shapes {
		p := newProblem(r, s[0], s[1], s[2], si%2 == 1, si%numValModes)
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
		a := make([]int8, m*k)
		b := make([]int8, k*n)
		for _, im := range Available() {
			withImpl(t, im, func() {
				c := make([]int32, m*n)
				for i := range c {
					c[i] = 7
				}
				pa := PackA(m, k, a, max(k, 1))
				pa.Mul(n, b, max(n, 1), c, max(n, 1))
				for _, v := range c {
					if v != 0 {
						t.Fatalf("%v %v: Mul with k=0 left %d, want 0", im, s, v)
					}
				}
				for i := range c {
					c[i] = 7
				}
				pa.MulPackedBuf(n, make([]int8, PackedBSize(k, n)), c, max(n, 1))
				for _, v := range c {
					if v != 0 {
						t.Fatalf("%v %v: MulPackedBuf with k=0 left %d, want 0", im, s, v)
					}
				}
			})
		}
	}
}

// TestImplAgreement runs every implementation on the same inputs (benchmark
// shapes, random full-range values) and requires bit-identical results.
func TestImplAgreement(t *testing.T) {
	impls := Available()
	if len(impls) < 2 {
		t.Skip("no assembly implementation on this CPU/build")
	}
	r := rand.New(rand.NewSource(3))
	for _, s := range benchShapes {
		m, n, k := s.m, s.n, s.k
		a, b := make([]int8, m*k), make([]int8, k*n)
		fill(r, a, valRandom, true)
		fill(r, b, valRandom, false)
		var outs [][]int32
		for _, im := range impls {
			c := make([]int32, m*n)
			withImpl(t, im, func() { PackA(m, k, a, k).Mul(n, b, n, c, n) })
			outs = append(outs, c)
		}
		for ii := 1; ii < len(impls); ii++ {
			for e := range outs[0] {
				if outs[0][e] != outs[ii][e] {
					t.Fatalf("%s: %v and %v differ at C[%d][%d]: %d vs %d", s.name, impls[0], impls[ii], e/n, e%n, outs[0][e], outs[ii][e])
				}
			}
		}
	}
}

// TestCrossImplPacking packs A under one implementation and multiplies under
// another (the panel heights differ: 8 Go, 6 AVX2, 12 VNNI).
func TestCrossImplPacking(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	p := newProblem(r, 50, 75, 41, true, valRandom)
	for _, packIm := range Available() {
		for _, runIm := range Available() {
			var pa *PackedA
			withImpl(t, packIm, func() { pa = PackA(p.m, p.k, p.a, p.lda) })
			c := p.freshC()
			withImpl(t, runIm, func() { pa.Mul(p.n, p.b, p.ldb, c, p.ldc) })
			p.check(t, fmt.Sprintf("pack %v run %v", packIm, runIm), c)
		}
	}
}

func TestPackedBLayout(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, s := range [][2]int{{27, 1024}, {5, 37}, {1, 1}, {13, 16}, {9, 17}, {8, 64}, {4, 95}, {7, 1100}, {6, 531}} {
		k, n := s[0], s[1]
		b := make([]int8, k*n)
		fill(r, b, valRandom, false)
		got := PackB(k, n, b, n)
		if len(got) != PackedBSize(k, n) {
			t.Fatalf("%v: PackB returned %d bytes, want %d", s, len(got), PackedBSize(k, n))
		}
		want := make([]int8, PackedBSize(k, n))
		for p := 0; p < k; p++ {
			for j := 0; j < n; j++ {
				want[PackedBOffset(k, p, j)] = b[p*n+j]
			}
		}
		rows := make([]int8, PackedBSize(k, n))
		for i := range rows {
			rows[i] = 99
		}
		for p := 0; p < k; p++ {
			PackBRow(rows, k, p, b[p*n:][:n])
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: PackB and PackedBOffset disagree at %d: %d vs %d", s, i, got[i], want[i])
			}
			// PackBRow leaves the pad rows alone and zeroes the pad
			// columns of real rows.
			p := i%(NR*PaddedK(k))/(KGroup*NR)*KGroup + i%KGroup
			if p >= k {
				if rows[i] != 99 {
					t.Fatalf("%v: PackBRow wrote pad row byte %d", s, i)
				}
			} else if rows[i] != want[i] {
				t.Fatalf("%v: PackBRow and PackedBOffset disagree at %d: %d vs %d", s, i, rows[i], want[i])
			}
		}
	}
}

// TestPackRowsOnly checks that PackBRow and PackBRows write only the bytes
// of their rows (so that disjoint rows may be written concurrently).
func TestPackRowsOnly(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, s := range [][2]int{{13, 100}, {8, 64}, {3, 17}, {11, 33}} {
		k, n := s[0], s[1]
		b := make([]int8, k*n)
		fill(r, b, valRandom, false)
		full := PackB(k, n, b, n)
		for p0 := 0; p0 < k; p0++ {
			for rows := 1; p0+rows <= k; rows++ {
				for _, single := range []bool{false, true} {
					buf := make([]int8, len(full))
					for i := range buf {
						buf[i] = 99
					}
					if single {
						for p := p0; p < p0+rows; p++ {
							PackBRow(buf, k, p, b[p*n:][:n])
						}
					} else {
						PackBRows(buf, k, n, p0, rows, b[p0*n:], n)
					}
					for i := range buf {
						p := i%(NR*PaddedK(k))/(KGroup*NR)*KGroup + i%KGroup
						if p >= p0 && p < p0+rows {
							if buf[i] != full[i] {
								t.Fatalf("%v rows [%d,%d) single=%v: byte %d = %d, want %d", s, p0, p0+rows, single, i, buf[i], full[i])
							}
						} else if buf[i] != 99 {
							t.Fatalf("%v rows [%d,%d) single=%v: wrote byte %d of row %d", s, p0, p0+rows, single, i, p)
						}
					}
				}
			}
		}
	}
}

func TestRowSums(t *testing.T) {
	a := []int8{1, 2, 3, -128, 127, 100, 5, 0, -1, -1, -1, 100, 9, 9, 9, 9, -128}
	pa := PackA(3, 5, a, 6)
	want := []int32{1 + 2 + 3 - 128 + 127, 5 + 0 - 1 - 1 - 1, 9 + 9 + 9 + 9 - 128}
	for i, s := range pa.RowSums() {
		if s != want[i] {
			t.Errorf("RowSums()[%d] = %d, want %d", i, s, want[i])
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	r := rand.New(rand.NewSource(6))
	m, n, k := 32, 256, 288
	a, b := make([]int8, m*k), make([]int8, k*n)
	fill(r, a, valRandom, true)
	fill(r, b, valRandom, false)
	c := make([]int32, m*n)
	pa := PackA(m, k, a, k)
	buf := PackB(k, n, b, n)
	offs := make([]int32, PaddedK(k)/KGroup)
	for g := range offs {
		offs[g] = int32(g * 8)
	}
	for _, im := range Available() {
		withImpl(t, im, func() {
			for name, f := range map[string]func(){
				"MulTaps":      func() { pa.MulTaps(n-5, buf, offs, c, n) },
				"MulPackedBuf": func() { pa.MulPackedBuf(n-5, buf, c, n) },
				"Mul":          func() { pa.Mul(n-3, b, n, c, n) },
				"PackBRow":     func() { PackBRow(buf, k, 5, b[5*n:][:n]) },
			} {
				if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
					t.Errorf("%v/%s: %v allocations per call", im, name, allocs)
				}
			}
		})
	}
}

// packBGroup's vector path (full panels, then a partial last one packed
// from a zeroed copy) writes the bytes of the Go loop, pad columns
// included, for widths around the panel and the kernel's 32 columns.
func TestPackBGroupMatchesGo(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	const pnl = 3 * KGroup * NR
	for nb := 1; nb <= 5*NR+1; nb++ {
		var rows [KGroup][]int8
		for i := range rows {
			rows[i] = make([]int8, nb)
			fill(r, rows[i], valRandom, false)
		}
		panels := (nb + NR - 1) / NR
		got, want := make([]int8, panels*pnl), make([]int8, panels*pnl)
		for i := range got {
			got[i], want[i] = 99, 99
		}
		packBGroup(got, pnl, &rows, nb)
		packBGroupGo(want, pnl, &rows, nb)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%d columns: byte %d = %d, the Go loop writes %d", nb, i, got[i], want[i])
			}
		}
	}
}

// TestSignFallback plants one negative byte in an otherwise nonnegative B
// at places that make AVX2's VPMADDUBSW kernel hand over to the widening
// kernel at different points of a multiplication: the first tile, the
// middle of a multi-tile call, the second half of a panel, the last
// partial tile, the second k block (accumulating into C), the second row
// block, the last row. Every path on every implementation must stay exact.
func TestSignFallback(t *testing.T) {
	r := rand.New(rand.NewSource(22))
	for _, s := range []struct{ m, n, k int }{{30, 100, 37}, {13, 1100, 20}, {9, 40, 1030}, {400, 24, 9}, {12, 17, 5}} {
		spots := [][2]int{{0, 0}, {s.k / 2, s.n / 2}, {s.k - 1, s.n - 1}, {s.k - 1, 8}, {0, s.n / 3}}
		if s.k > kcMax {
			spots = append(spots, [2]int{s.k - 3, 1})
		}
		for _, spot := range spots {
			p := newProblem(r, s.m, s.n, s.k, true, valNonNegB)
			p.b[spot[0]*p.ldb+spot[1]] = -128
			p.want = reference(p.m, p.n, p.k, p.a, p.lda, p.b, p.ldb)
			tp := &tapsProblem{src: make([]int8, PaddedK(s.k)*s.n+TapsSpan(s.n)), offs: make([]int32, PaddedK(s.k)/KGroup)}
			for g := range tp.offs {
				tp.offs[g] = int32(g * KGroup * s.n)
			}
			for q := 0; q < s.k; q++ {
				for j := 0; j < s.n; j++ {
					tp.src[int(tp.offs[q/KGroup])+KGroup*j+q%KGroup] = p.b[q*p.ldb+j]
				}
			}
			for _, im := range Available() {
				withImpl(t, im, func() {
					what := fmt.Sprintf("%v %v B(%d,%d) < 0", im, s, spot[0], spot[1])
					for _, path := range paths {
						c := p.freshC()
						path.run(p, c)
						p.check(t, what+" "+path.name, c)
					}
					c := p.freshC()
					PackA(p.m, p.k, p.a, p.lda).MulTaps(p.n, tp.src, tp.offs, c, p.ldc)
					p.check(t, what+" MulTaps", c)
				})
			}
		}
	}
}

// TestSignHint reuses one PackedA over a sequence of B with and without
// negative bytes: after a signed one the next multiplications start with
// the signed kernels (AVX2: the hint counts signedRetry runs down, then
// the VPMADDUBSW kernel is tried again), and every result stays exact
// whichever kernel the hint picks.
func TestSignHint(t *testing.T) {
	r := rand.New(rand.NewSource(23))
	m, n, k := 20, 40, 30
	a := make([]int8, m*k)
	fill(r, a, valRandom, true)
	for _, im := range Available() {
		withImpl(t, im, func() {
			pa := PackA(m, k, a, k)
			for run := 0; run < 2*signedRetry+5; run++ {
				mode := valNonNegB
				if run%(signedRetry/2) == 3 {
					mode = valRandom
				}
				b := make([]int8, k*n)
				fill(r, b, mode, false)
				want := reference(m, n, k, a, k, b, n)
				c := make([]int32, m*n)
				pa.Mul(n, b, n, c, n)
				for e, v := range c {
					if int64(v) != want[e] {
						t.Fatalf("%v run %d (mode %d): C[%d] = %d, want %d", im, run, mode, e, v, want[e])
					}
				}
				if hint := pa.signedRuns.Load(); active().signed != nil && mode == valRandom && hint <= 0 {
					t.Fatalf("%v run %d: no hint after a signed B", im, run)
				}
			}
		})
	}
}
