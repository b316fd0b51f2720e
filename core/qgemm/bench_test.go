package qgemm

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/internal/panel"
)

type benchShape struct {
	name    string
	m, n, k int // C[m×n] = W[m×k]·col[k×n]
}

// The convolution shapes of core/gemm's benchmarks (same names: m, k, n).
var benchShapes = []benchShape{
	{"conv16x144x1024", 16, 1024, 144},
	{"conv32x288x256", 32, 256, 288},
	{"conv64x576x64", 64, 64, 576},
	{"conv50x500x64", 50, 64, 500},
	{"conv20x25x576", 20, 576, 25},
}

// BenchmarkQgemm reports GOPS (2·m·n·k integer ops per second) per shape,
// implementation and entry point, next to core/gemm's float32 GFLOP/s on the
// same shape:
//
//	int8-<impl>/packed  PackedA.MulPackedBuf (the conv path, B pre-packed)
//	int8-<impl>/mul     PackedA.Mul (B row-major, packed per call)
//	f32-<impl>/packed   gemm.PackedA.MulPackedBuf, no epilogue
func BenchmarkQgemm(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, s := range benchShapes {
		m, n, k := s.m, s.n, s.k
		a, bm := make([]int8, m*k), make([]int8, k*n)
		fill(r, a, valRandom, true)
		fill(r, bm, valRandom, false)
		c := make([]int32, m*n)
		ops := 2 * float64(m) * float64(n) * float64(k)
		for _, im := range Available() {
			for _, path := range []string{"packed", "mul"} {
				b.Run(fmt.Sprintf("%s/int8-%v/%s", s.name, im, path), func(b *testing.B) {
					withImpl(b, im, func() {
						pa := PackA(m, k, a, k)
						buf := PackB(k, n, bm, n)
						f := func() { pa.MulPackedBuf(n, buf, c, n) }
						if path == "mul" {
							f = func() { pa.Mul(n, bm, n, c, n) }
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
		af, bf := toF32(a), toF32(bm)
		cf := make([]float32, m*n)
		for _, im := range gemm.Available() {
			b.Run(fmt.Sprintf("%s/f32-%v/packed", s.name, im), func(b *testing.B) {
				prev, err := gemm.SetImpl(im)
				if err != nil {
					b.Skip(err)
				}
				defer gemm.SetImpl(prev)
				pa := gemm.PackA(m, k, af, k)
				buf := gemm.MakePackedBBuffer(k, n)
				gemm.PackBInto(buf, k, n, bf, n, false)
				pa.MulPackedBuf(n, buf, cf, n, false)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					pa.MulPackedBuf(n, buf, cf, n, false)
				}
				b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func toF32(s []int8) []float32 {
	f := make([]float32, len(s))
	for i, v := range s {
		f[i] = float32(v)
	}
	return f
}

// BenchmarkKernel measures one micro-kernel call per tile shape on
// L1-resident operands (k = 256); AVX2's two kernels apart (u8: B ≥ 0,
// VPMADDUBSW; widen: any B).
func BenchmarkKernel(b *testing.B) {
	const k = 256
	r := rand.New(rand.NewSource(1))
	a := panel.Aligned[int8](16 * k)
	fill(r, a, valRandom, true)
	a16 := panel.Aligned[int16](16 * k)
	for i, v := range a {
		a16[i] = int16(v)
	}
	bp := panel.Aligned[int8](2 * NR * k)
	c := make([]int32, 16*2*NR)
	for _, im := range Available() {
		for ks := kernelsFor(im); ks != nil; ks = ks.signed {
			name := im.String()
			mode := valRandom
			if ks.signed != nil {
				name, mode = name+"-u8", valNonNegB
			}
			for ti, w := range ks.widths {
				rows := ks.mr[ti]
				as := KGroup * rows
				if ks.a16 {
					as *= 2
				}
				b.Run(fmt.Sprintf("%s/%dx%d", name, rows, w), func(b *testing.B) {
					fill(r, bp, mode, false)
					for i := 0; i < b.N; i++ {
						ks.call(rows, w, 1, k/KGroup, &a[0], &a16[0], as, bp, nil, NR*k, &c[0], 2*NR*4, 0, nil)
					}
					b.ReportMetric(2*float64(rows*w*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
				})
			}
		}
	}
}

// BenchmarkPackB measures packing a row-major k×n B (Mul's per-call cost).
func BenchmarkPackB(b *testing.B) {
	for _, s := range [][2]int{{144, 1024}, {25, 576}, {500, 64}} {
		b.Run(fmt.Sprintf("k%dn%d", s[0], s[1]), func(b *testing.B) { benchPackB(b, s[0], s[1]) })
	}
}

func benchPackB(b *testing.B, k, n int) {
	bm := make([]int8, k*n)
	fill(rand.New(rand.NewSource(1)), bm, valRandom, false)
	buf := MakePackedBBuffer(k, n)
	b.Run("PackBInto", func(b *testing.B) {
		b.SetBytes(int64(k * n))
		for i := 0; i < b.N; i++ {
			PackBInto(buf, k, n, bm, n)
		}
	})
	b.Run("PackBRows4", func(b *testing.B) {
		b.SetBytes(int64(k * n))
		for i := 0; i < b.N; i++ {
			for p := 0; p < k; p += 4 {
				PackBRows(buf, k, n, p, min(4, k-p), bm[p*n:], n)
			}
		}
	})
	b.Run("PackBRow", func(b *testing.B) {
		b.SetBytes(int64(k * n))
		for i := 0; i < b.N; i++ {
			for p := 0; p < k; p++ {
				PackBRow(buf, k, p, bm[p*n:][:n])
			}
		}
	})
}

// convTaps describes a 3×3 stride-1 convolution over a zero-padded,
// channel-interleaved image ([C/4][Hp·Wp][4] bytes, the layout MulTaps is
// for): k = 9·C ordered (channel group, tap, 4 channels), n = H·Wp output
// columns (the padded width; 2 per row are discarded), and group g =
// 9·cg + tap at offset cg·Hp·Wp·4 + (dy·Wp + dx)·4.
func convTaps(c, h, w int) (k, n int, offs []int32, srcLen int) {
	wp, hp := w+2, h+2
	plane := hp * wp * KGroup
	k, n = 9*c, h*wp
	for cg := 0; cg < c/KGroup; cg++ {
		for dy := 0; dy < 3; dy++ {
			for dx := 0; dx < 3; dx++ {
				offs = append(offs, int32(cg*plane+(dy*wp+dx)*KGroup))
			}
		}
	}
	last := int(offs[len(offs)-1])
	return k, n, offs, max(c/KGroup*plane, last+TapsSpan(n))
}

// BenchmarkQgemmTaps compares, on ResNet-20's 3×3 convolutions (m output
// channels, k = 9·m, n = H·(W+2)), per implementation:
//
//	taps         MulTaps on the channel-interleaved image
//	pack+packed  what a caller pays without it at the least: copying each
//	             group's 64-byte lines from the same image into a packed-B
//	             buffer (no unfolding arithmetic), then MulPackedBuf
//	packed       MulPackedBuf alone (B packed beforehand)
//
// GOPS counts the 2·m·n·k operations of the product.
func BenchmarkQgemmTaps(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, s := range []struct{ c, hw int }{{16, 32}, {32, 16}, {64, 8}} {
		m := s.c
		k, n, offs, srcLen := convTaps(s.c, s.hw, s.hw)
		src := make([]int8, srcLen)
		fill(r, src, valRandom, false)
		a := make([]int8, m*k)
		fill(r, a, valRandom, true)
		c := make([]int32, m*n)
		buf := MakePackedBBuffer(k, n)
		pnl := NR * PaddedK(k)
		pack := func() {
			for g, o := range offs {
				for q := 0; q*NR < n; q++ {
					copy(buf[q*pnl+g*KGroup*NR:][:KGroup*NR], src[int(o)+q*KGroup*NR:])
				}
			}
		}
		ops := 2 * float64(m) * float64(n) * float64(k)
		for _, im := range Available() {
			for _, path := range []string{"taps", "pack+packed", "packed"} {
				b.Run(fmt.Sprintf("m%dk%dn%d/%v/%s", m, k, n, im, path), func(b *testing.B) {
					withImpl(b, im, func() {
						pa := PackTapsA(m, k, a, k)
						pack()
						f := func() { pa.MulTaps(n, src, offs, c, n) }
						switch path {
						case "pack+packed":
							f = func() { pack(); pa.MulPackedBuf(n, buf, c, n) }
						case "packed":
							f = func() { pa.MulPackedBuf(n, buf, c, n) }
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
}

// BenchmarkRequantizePlanes reports values per nanosecond of the INT8
// epilogue (scale, bias, ReLU6, requantized to int8) on MobileNetV2's
// output shapes: a chunk of a 112×112 layer's rows, a 14×14 and a 7×7
// plane, each rows×cols of planes channels (the rows contiguous, as a
// pointwise convolution's products are, or padded by two columns, as a
// 3×3 one's), per implementation.
func BenchmarkRequantizePlanes(b *testing.B) {
	for _, s := range []struct{ planes, rows, cols, pad int }{{96, 4, 112, 0}, {384, 14, 14, 0}, {960, 7, 7, 0}, {960, 7, 7, 2}} {
		ldc := s.cols + s.pad
		c := make([]int32, s.planes*s.rows*ldc)
		r := rand.New(rand.NewSource(1))
		for i := range c {
			c[i] = int32(r.Intn(1<<16) - 1<<15)
		}
		scales, bias := make([]float32, s.planes), make([]float32, s.planes)
		for p := range scales {
			scales[p], bias[p] = 1e-3, float32(r.NormFloat64())
		}
		dst := make([]int8, s.planes*s.rows*s.cols)
		act := Activation{Clip: true, Lo: 0, Hi: 6}
		for _, im := range Available() {
			b.Run(fmt.Sprintf("%dx%dx%d+%d/%v", s.planes, s.rows, s.cols, s.pad, im), func(b *testing.B) {
				withImpl(b, im, func() {
					for i := 0; i < b.N; i++ {
						RequantizePlanes(c, s.planes, s.rows, s.cols, ldc, scales, bias, nil, act, 0.05, dst, s.cols, s.rows*s.cols)
					}
					b.ReportMetric(float64(len(dst))*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "values/ns")
				})
			})
		}
	}
}

// BenchmarkDepthwiseRows reports output positions per nanosecond of the
// depthwise row kernel and of the tap-interleaving one it replaced
// (DepthwiseSums over phase planes, the fill not counted) on MobileNetV2's
// 3×3 layers: 112×112 stride 1, 112×112 stride 2, 14×14 and 7×7 stride 1,
// a chunk of channels each.
func BenchmarkDepthwiseRows(b *testing.B) {
	for _, s := range []struct{ channels, hw, stride int }{{4, 112, 1}, {4, 112, 2}, {64, 14, 1}, {128, 7, 1}} {
		win := DepthwiseWindow{In: [2]int{s.hw, s.hw}, Kernel: [2]int{3, 3}, Stride: [2]int{s.stride, s.stride}, Dilation: [2]int{1, 1}, PadBegin: [2]int{1, 1}}
		oh := (s.hw-1)/s.stride + 1
		win.Out = [2]int{oh, oh}
		r := rand.New(rand.NewSource(1))
		x := make([]int8, s.channels*s.hw*s.hw)
		for i := range x {
			x[i] = int8(r.Intn(256) - 128)
		}
		q := make([]int8, s.channels*9)
		for i := range q {
			q[i] = int8(r.Intn(256) - 128)
		}
		w := NewDepthwiseWeights(q, s.channels, 3, 3)
		acc := make([]int32, s.channels*oh*oh)
		d, _ := NewDepthwiseRows(win)
		name := fmt.Sprintf("%dx%dx%d/s%d", s.channels, s.hw, s.hw, s.stride)
		b.Run(name+"/rows", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				d.Sums(acc, x, w, 0, s.channels)
			}
			b.ReportMetric(float64(len(acc))*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "outputs/ns")
		})
		// The phase planes of one channel: stride 1 one padded plane,
		// stride 2 four phases of half its size.
		sub := (s.hw + 2 + s.stride - 1) / s.stride
		phase := sub * sub
		var off []int
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				off = append(off, ((ky%s.stride)*s.stride+kx%s.stride)*phase+ky/s.stride*sub+kx/s.stride)
			}
		}
		wide := (oh-1)*sub + oh
		planes := make([]int8, s.stride*s.stride*phase+DepthwisePadded(wide)+64)
		sums := make([]int32, DepthwisePadded(wide))
		w32 := make([]int32, 9)
		for i := range w32 {
			w32[i] = int32(q[i])
		}
		b.Run(name+"/taps", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for c := 0; c < s.channels; c++ {
					DepthwiseSums(sums, planes, off, w32, wide)
				}
			}
			b.ReportMetric(float64(len(acc))*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "outputs/ns")
		})
	}
}
