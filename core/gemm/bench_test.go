package gemm

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/internal/panel"
)

type benchShape struct {
	name    string
	m, n, k int
	conv    bool // conv shape: C[Cout×HW] = W[Cout×K]·col[K×HW]; else FC
}

var benchShapes = []benchShape{
	{"conv16x27x1024", 16, 1024, 27, true},
	{"conv16x144x1024", 16, 1024, 144, true},
	{"conv32x288x256", 32, 256, 288, true},
	{"conv64x576x64", 64, 64, 576, true},
	{"conv20x25x576", 20, 576, 25, true},
	{"conv50x500x64", 50, 64, 500, true},
	{"fc32x10x64", 32, 10, 64, false},
	{"fc64x500x800", 64, 500, 800, false},
	{"fc256x100x256", 256, 100, 256, false},
	{"fc256x500x800", 256, 500, 800, false},
}

// BenchmarkSgemm reports GFLOP/s per shape, implementation and entry point:
// "packed" is the engine's path (PackedA.MulPackedBuf with bias+ReLU for
// conv shapes, MulPackedB with transposed weights for FC shapes), "sgemm" is
// the unpacked Sgemm.
func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, s := range benchShapes {
		m, n, k := s.m, s.n, s.k
		a, bm := randSlice(r, m*k), randSlice(r, k*n)
		c := make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		for _, im := range Available() {
			for _, path := range []string{"packed", "sgemm"} {
				b.Run(fmt.Sprintf("%s/%v/%s", s.name, im, path), func(b *testing.B) {
					withImpl(b, im, func() {
						var f func()
						switch {
						case path == "sgemm":
							f = func() { Sgemm(m, n, k, a, k, bm, n, c, n, false) }
						case s.conv:
							pa := PackA(m, k, a, k)
							buf := MakePackedBBuffer(k, n)
							PackBInto(buf, k, n, bm, n, false)
							ep := &Epilogue{RowBias: randSlice(r, m), ReLU: true}
							f = func() { pa.MulPackedBufEx(n, buf, c, n, false, ep, 1) }
						default:
							bt := make([]float32, n*k)
							for p := 0; p < k; p++ {
								for j := 0; j < n; j++ {
									bt[j*k+p] = bm[p*n+j]
								}
							}
							pb := PackB(k, n, bt, k, true)
							ep := &Epilogue{ColBias: randSlice(r, n)}
							f = func() { MulPackedBEx(m, a, k, pb, c, n, false, ep, 1) }
						}
						f()
						b.ResetTimer()
						for i := 0; i < b.N; i++ {
							f()
						}
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				})
			}
		}
	}
}

// BenchmarkKernel measures one micro-kernel call on L1-resident operands.
func BenchmarkKernel(b *testing.B) {
	const k = 256
	r := rand.New(rand.NewSource(1))
	a := panel.Aligned[float32](16 * k)
	copy(a, randSlice(r, len(a)))
	bp := panel.Aligned[float32](3 * NR * k)
	copy(bp, randSlice(r, len(bp)))
	c := panel.Aligned[float32](16 * 3 * NR)
	for _, im := range Available() {
		ks := kernelsFor(im)
		for panels := 1; panels <= ks.maxP; panels++ {
			rows := ks.mr[panels]
			b.Run(fmt.Sprintf("%v/%dx%d", im, rows, panels*NR), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					ks.call(rows, panels, k, &a[0], rows*4, &bp[0], NR*k*4, &c[0], 3*NR*4, 0, nil, nil, 0, 0, &c[0])
				}
				b.ReportMetric(2*float64(rows*panels*NR*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkMulRowsPointwise reports GFLOP/s of pointwise convolutions
// (Cout×Cin over H·W: MobileNetV2's, then ResNet-50's) on one core, B read
// in place (MulRowsEx, "rows") or packed per call (MulEx, "packed"), with
// a clip epilogue.
func BenchmarkMulRowsPointwise(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, s := range [][3]int{{96, 16, 12544}, {144, 24, 3136}, {24, 144, 3136}, {192, 32, 784}, {64, 384, 196}, {960, 160, 49}, {320, 960, 49},
		{256, 64, 3136}, {64, 256, 3136}, {512, 128, 784}, {128, 512, 784}, {1024, 256, 196}, {256, 1024, 196}, {2048, 512, 49}, {512, 2048, 49}} {
		m, k, n := s[0], s[1], s[2]
		a, bm := randSlice(r, m*k), randSlice(r, k*n)
		c := make([]float32, m*n)
		off := make([]int, k)
		for p := range off {
			off[p] = p * n
		}
		pa := PackA(m, k, a, k)
		ep := &Epilogue{RowBias: randSlice(r, m), Clip: true, Lo: 0, Hi: 6}
		for _, path := range []string{"rows", "packed"} {
			b.Run(fmt.Sprintf("m%d_k%d_n%d/%s", m, k, n, path), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if path == "rows" {
						pa.MulRowsEx(n, bm, off, c, n, false, ep, 1)
					} else {
						pa.MulEx(n, bm, n, c, n, false, ep, 1)
					}
				}
				b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
