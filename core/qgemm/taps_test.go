package qgemm

import (
	"fmt"
	"math/rand"
	"testing"
)

// tapsProblem is a MulTaps operand: src and the group offsets, and the
// row-major k×n B they describe (B(p, j) = src[offs[p/4] + 4j + p%4]).
type tapsProblem struct {
	src  []int8
	offs []int32
	b    []int8
}

// newTapsProblem draws offsets for k×n in one of three ways (mode): a
// random permutation of disjoint 4n-byte lines, random overlapping
// offsets, and every group at one offset. src is exactly as long as the
// largest offset + TapsSpan(n), so a read past the bound is out of range.
func newTapsProblem(r *rand.Rand, k, n, mode, valMode int) *tapsProblem {
	kg := PaddedK(k) / KGroup
	span := TapsSpan(n)
	offs := make([]int32, kg)
	switch mode {
	case 0: // a permutation of lines 4n bytes apart, plus a shift
		shift := r.Intn(64)
		for g, q := range r.Perm(kg) {
			offs[g] = int32(shift + q*4*n)
		}
	case 1: // random, overlapping, unaligned
		limit := 4*n*kg/3 + 64
		for g := range offs {
			offs[g] = int32(r.Intn(limit))
		}
	default: // every group reads the same bytes
		o := int32(r.Intn(100))
		for g := range offs {
			offs[g] = o
		}
	}
	hi := int32(0)
	for _, o := range offs {
		hi = max(hi, o)
	}
	tp := &tapsProblem{src: make([]int8, int(hi)+span), offs: offs, b: make([]int8, k*n)}
	fill(r, tp.src, valMode, false)
	for p := 0; p < k; p++ {
		for j := 0; j < n; j++ {
			tp.b[p*n+j] = tp.src[int(offs[p/KGroup])+KGroup*j+p%KGroup]
		}
	}
	return tp
}

// TestMulTaps checks MulTaps bit-identical to Mul on the equivalent
// row-major B (and both to the int64 reference) on every implementation:
// n = 1..100 (tails of every tile width), m = 1..40, k not a multiple of 4
// and k > kcMax (several k blocks, the last one adding the VNNI
// correction), offsets permuted, overlapping or all equal, and C at a
// padded stride (untouched padding checked).
func TestMulTaps(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	ns := []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 40, 47, 48, 63, 64, 65, 72, 95, 96, 100}
	ms := []int{1, 2, 5, 6, 7, 11, 12, 13, 16, 24, 25, 32, 40}
	ks := []int{1, 3, 4, 5, 9, 27, 36, 64, 143, 144, 288, 577, 1030, 2100}
	if testing.Short() {
		ns, ms, ks = []int{1, 17, 33, 100}, []int{1, 7, 13, 40}, []int{3, 144, 1030}
	}
	idx := 0
	for _, k := range ks {
		for _, n := range ns {
			idx++
			m := ms[idx%len(ms)]
			if k > kcMax {
				// Big k: fewer combinations, every m.
				if idx%3 != 0 {
					continue
				}
				m = ms[idx/3%len(ms)]
			}
			valMode := idx % numValModes
			tp := newTapsProblem(r, k, n, idx%3, valMode)
			p := &problem{m: m, n: n, k: k, lda: k + idx%3, ldb: n, ldc: n + idx%2*5}
			p.a = make([]int8, (m-1)*p.lda+k)
			fill(r, p.a, valMode, true)
			p.b = tp.b
			p.want = reference(m, n, k, p.a, p.lda, p.b, p.ldb)
			for _, im := range Available() {
				withImpl(t, im, func() {
					pa := PackTapsA(m, k, p.a, p.lda)
					what := fmt.Sprintf("%v m=%d n=%d k=%d offs mode %d vals %d", im, m, n, k, idx%3, valMode)
					got := p.freshC()
					pa.MulTaps(n, tp.src, tp.offs, got, p.ldc)
					p.check(t, what+" MulTaps", got)
					mul := p.freshC()
					pa.Mul(n, p.b, p.ldb, mul, p.ldc)
					for e := range mul {
						if mul[e] != got[e] {
							t.Fatalf("%s: MulTaps and Mul differ at %d: %d vs %d", what, e, got[e], mul[e])
						}
					}
				})
			}
		}
	}
}

// TestMulTapsTiles runs every tile height and width of each implementation
// with the largest products (the VNNI kernels' bias and correction) and
// several tiles per kernel call.
func TestMulTapsTiles(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for _, mode := range []int{valRandom, valExtreme, valMaxPos, valMaxNeg, valNonNegB, valSatTrap} {
		for _, s := range [][3]int{{12, 96, 20}, {24, 200, 13}, {6, 64, 8}, {18, 130, 33}, {50, 40, 7}} {
			m, n, k := s[0], s[1], s[2]
			tp := newTapsProblem(r, k, n, 1, mode)
			p := &problem{m: m, n: n, k: k, lda: k, ldb: n, ldc: n, b: tp.b}
			p.a = make([]int8, m*k)
			fill(r, p.a, mode, true)
			p.want = reference(m, n, k, p.a, k, p.b, n)
			for _, im := range Available() {
				withImpl(t, im, func() {
					c := p.freshC()
					PackTapsA(m, k, p.a, k).MulTaps(n, tp.src, tp.offs, c, n)
					p.check(t, fmt.Sprintf("%v %v mode %d", im, s, mode), c)
				})
			}
		}
	}
}

// TestMulTapsBadInput: wrong offset counts and offsets past the bound
// panic with a message instead of reading out of range.
func TestMulTapsBadInput(t *testing.T) {
	pa := PackTapsA(3, 9, make([]int8, 27), 9) // 3 groups
	c := make([]int32, 3*20)
	src := make([]int8, 200)
	for name, f := range map[string]func(){
		"too few offsets":  func() { pa.MulTaps(20, src, []int32{0, 0}, c, 20) },
		"too many offsets": func() { pa.MulTaps(20, src, []int32{0, 0, 0, 0}, c, 20) },
		"negative offset":  func() { pa.MulTaps(20, src, []int32{0, -4, 0}, c, 20) },
		"past the span":    func() { pa.MulTaps(20, src, []int32{0, int32(len(src) - TapsSpan(20) + 1), 0}, c, 20) },
		"src too short":    func() { pa.MulTaps(20, src[:100], []int32{0, 0, 0}, c, 20) },
		"C too short":      func() { pa.MulTaps(20, src, []int32{0, 0, 0}, c[:50], 20) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	// At the bound exactly: fine.
	pa.MulTaps(20, src, []int32{0, int32(len(src) - TapsSpan(20)), 3}, c, 20)
}

func TestTapsSpan(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 64, 16: 64, 17: 128, 32: 128, 33: 192, 100: 448} {
		if got := TapsSpan(n); got != want {
			t.Errorf("TapsSpan(%d) = %d, want %d", n, got, want)
		}
	}
}
