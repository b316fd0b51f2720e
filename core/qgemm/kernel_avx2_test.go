//go:build amd64 && !purego

package qgemm

import (
	"fmt"
	"math/rand"
	"testing"
)

// u8Operand is one B operand of kernAVX2U8/kernAVX2U8T: a k×n matrix with
// its packed buffer (panels pnl bytes apart) or its in-place image (group g
// at offs[g], disjoint lines so that each image byte is one B element).
type u8Operand struct {
	k, n  int
	bm    []int8 // row-major k×n
	taps  bool
	buf   []int8
	offs  []int32
	pnl   int
	perm  []int
	lineN int // image line length in columns (taps)
}

func newU8Operand(r *rand.Rand, k, n int, taps bool) *u8Operand {
	o := &u8Operand{k: k, n: n, bm: make([]int8, k*n), taps: taps}
	fill(r, o.bm, valNonNegB, false)
	o.lineN = (n + NR - 1) / NR * NR
	o.perm = r.Perm(PaddedK(k) / KGroup)
	o.layout()
	return o
}

// layout writes bm into the buffer; pad rows and columns hold 0.
func (o *u8Operand) layout() {
	if !o.taps {
		o.buf, o.pnl = PackB(o.k, o.n, o.bm, o.n), NR*PaddedK(o.k)
		return
	}
	kg := PaddedK(o.k) / KGroup
	o.buf = make([]int8, kg*KGroup*o.lineN)
	o.offs = make([]int32, kg)
	for g := range o.offs {
		o.offs[g] = int32(o.perm[g] * KGroup * o.lineN)
	}
	for p := 0; p < o.k; p++ {
		for j := 0; j < o.n; j++ {
			o.buf[int(o.offs[p/KGroup])+KGroup*j+p%KGroup] = o.bm[p*o.n+j]
		}
	}
}

func (o *u8Operand) call(rows, kg int, a []int8, c []int32, ldc, flags int, rb *int32, nt int) int {
	if o.taps {
		return kernAVX2U8T(rows, kg, &a[0], KGroup*rows, &o.buf[0], &o.offs[0], &c[0], ldc*4, flags, rb, nt)
	}
	return kernAVX2U8(rows, kg, &a[0], KGroup*rows, &o.buf[0], o.pnl, &c[0], ldc*4, flags, rb, nt)
}

// TestAVX2U8Kernel runs the VPMADDUBSW kernel directly on every tile height,
// 1 to 3 tiles, packed and in place, with and without accumulation and row
// bias, on B ≥ 0 with the largest products (A = −128 or 127 against 127:
// |pair| = 32512 < 2^15); then with one negative byte planted in each
// tile in turn: the kernel must return the tiles left from that one on,
// having stored the earlier tiles and not touched the rest.
func TestAVX2U8Kernel(t *testing.T) {
	if !hasAVX2() {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewSource(21))
	for _, taps := range []bool{false, true} {
		for rows := 1; rows <= maxRowsAVX2U8; rows++ {
			for nt := 1; nt <= 3; nt++ {
				k := 4*(1+r.Intn(20)) + r.Intn(4)
				kp, n := PaddedK(k), 8*nt
				o := newU8Operand(r, k, n, taps)
				a := make([]int8, rows*k)
				fill(r, a, valNonNegB, true)
				if rows%3 == 0 {
					// Extreme products: B = 127, A = ±127 or −128.
					for i := range o.bm {
						o.bm[i] = 127
					}
					o.layout()
					for i := range a {
						a[i] = []int8{-128, 127, -127}[r.Intn(3)]
					}
				}
				ap := make([]int8, rows*kp) // one panel, group-major
				for i := 0; i < rows; i++ {
					for q := 0; q < k; q++ {
						ap[q/KGroup*KGroup*rows+KGroup*i+q%KGroup] = a[i*k+q]
					}
				}
				rbv := make([]int32, rows)
				for i := range rbv {
					rbv[i] = int32(r.Intn(2001) - 1000)
				}
				old := make([]int32, rows*n)
				for i := range old {
					old[i] = int32(r.Intn(1 << 20))
				}
				want := reference(rows, n, k, a, k, o.bm, n)
				for _, flags := range []int{0, flagAccumulate} {
					for _, withRb := range []bool{false, true} {
						what := fmt.Sprintf("taps=%v %dx8 nt=%d k=%d flags=%d rb=%v", taps, rows, nt, k, flags, withRb)
						var rb *int32
						if withRb {
							rb = &rbv[0]
						}
						expect := func(i, j int) int32 {
							v := int32(want[i*n+j])
							if flags != 0 {
								v += old[i*n+j]
							}
							if withRb {
								v += rbv[i]
							}
							return v
						}
						c := append([]int32(nil), old...)
						if left := o.call(rows, kp/KGroup, ap, c, n, flags, rb, nt); left != 0 {
							t.Fatalf("%s: %d tiles left on B ≥ 0", what, left)
						}
						for e, v := range c {
							if v != expect(e/n, e%n) {
								t.Fatalf("%s: C[%d][%d] = %d, want %d", what, e/n, e%n, v, expect(e/n, e%n))
							}
						}
						// One negative byte in tile bad.
						for bad := 0; bad < nt; bad++ {
							p, j := r.Intn(k), 8*bad+r.Intn(8)
							keep := o.bm[p*n+j]
							o.bm[p*n+j] = -1 - int8(r.Intn(128))
							o.layout()
							c := append([]int32(nil), old...)
							if left := o.call(rows, kp/KGroup, ap, c, n, flags, rb, nt); left != nt-bad {
								t.Fatalf("%s: negative B(%d,%d) in tile %d: %d tiles left, want %d", what, p, j, bad, left, nt-bad)
							}
							for e, v := range c {
								w := old[e]
								if e%n < 8*bad {
									w = expect(e/n, e%n)
								}
								if v != w {
									t.Fatalf("%s: negative B(%d,%d) in tile %d: C[%d][%d] = %d, want %d", what, p, j, bad, e/n, e%n, v, w)
								}
							}
							o.bm[p*n+j] = keep
							o.layout()
						}
					}
				}
			}
		}
	}
}

// BenchmarkAVX2 compares AVX2's kernels on the convolution shapes (B
// pre-packed) and ResNet-20's 3×3 convolutions (MulTaps):
//
//	widen      the widening kernel alone (VPMADDWD; the AVX2 kernel before
//	           the VPMADDUBSW one), B ≥ 0
//	u8         ImplAVX2 as it runs: VPMADDUBSW, B ≥ 0 (post-ReLU inputs)
//	u8-signed  ImplAVX2 on a B with negative bytes: the widening kernel
//	           (the first multiplication wastes a VPMADDUBSW tile, then the
//	           PackedA's hint skips it for signedRetry−1 runs)
func BenchmarkAVX2(b *testing.B) {
	if !hasAVX2() {
		b.Skip("no AVX2")
	}
	r := rand.New(rand.NewSource(1))
	type shape struct {
		name    string
		m, n, k int
		offs    []int32
		srcLen  int
	}
	var shapes []shape
	for _, s := range benchShapes {
		shapes = append(shapes, shape{name: s.name, m: s.m, n: s.n, k: s.k})
	}
	for _, s := range []struct{ c, hw int }{{16, 32}, {32, 16}, {64, 8}} {
		k, n, offs, srcLen := convTaps(s.c, s.hw, s.hw)
		shapes = append(shapes, shape{fmt.Sprintf("taps-m%dk%dn%d", s.c, k, n), s.c, n, k, offs, srcLen})
	}
	for _, s := range shapes {
		a := make([]int8, s.m*s.k)
		fill(r, a, valRandom, true)
		var src []int8
		if s.offs != nil {
			src = make([]int8, s.srcLen)
		} else {
			src = make([]int8, PackedBSize(s.k, s.n))
		}
		c := make([]int32, s.m*s.n)
		ops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		for _, v := range []struct {
			name string
			ks   *kernels
			mode int
		}{{"widen", &avx2Widen, valNonNegB}, {"u8", &avx2Kernels, valNonNegB}, {"u8-signed", &avx2Kernels, valRandom}} {
			b.Run(s.name+"/"+v.name, func(b *testing.B) {
				withImpl(b, ImplAVX2, func() {
					fill(r, src, v.mode, false)
					pa := PackA(s.m, s.k, a, s.k)
					f := func() {
						j := job{ks: v.ks, pa: pa, n: s.n, bp: src, offs: s.offs, c: c, ldc: s.n}
						j.run()
					}
					f()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						f()
					}
					b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
				})
			})
		}
	}
}
