package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// winoCase is one Winograd convolution checked against refConv.
type winoCase struct {
	n, c, h, w, m int
	pads          [4]int // top, left, bottom, right
	bias, res     bool
	act           Activation
}

func (wc winoCase) String() string {
	return fmt.Sprintf("n%d_c%d_%dx%d_m%d_pad%v_b%v_r%v_%v", wc.n, wc.c, wc.h, wc.w, wc.m, wc.pads, wc.bias, wc.res, wc.act.Kind)
}

// winoBound is the error bound of the Winograd strategy against a
// float64 direct convolution, relative to the largest sum of absolute
// terms Σ|x·w| of the output's 4×4 tile, plus |b| + |r|: the transforms'
// constants (up to 5 in Bᵀ, 8 in Aᵀ, 1/6 and 1/24 in G) amplify float32
// rounding to a few hundred ulps of the tile's values, growing like the
// square root of the reduction's length.
func winoBound(c int) float64 { return 5e-7 * (1 + math.Sqrt(9*float64(c))) }

// runWino runs wc forced onto the Winograd strategy with the given
// workers and returns the output with the worst error measured against
// refConv in units of winoBound.
func (wc winoCase) runWino(t *testing.T, x, w, b, res *tensor.Tensor, workers int, constW bool) (*tensor.Tensor, float64) {
	t.Helper()
	op := rtBuild(t, 13, "Conv", aInts("kernel_shape", 3, 3), aInts("pads", int64(wc.pads[0]), int64(wc.pads[1]), int64(wc.pads[2]), int64(wc.pads[3])))
	if wc.res && !op.(ResidualFusable).FuseResidual() {
		t.Fatal("residual fusion refused")
	}
	if wc.act.Kind != NoActivation && !op.(Fusable).FuseActivation(wc.act) {
		t.Fatal("activation fusion refused")
	}
	in := []*tensor.Tensor{x, w, b}
	if res != nil {
		in = append(in, res)
	}
	constant := constAt(len(in))
	if constW {
		constant[1], constant[2] = true, true
	}
	out := rtMust(t, op, workers, 1, in, constant)
	c := op.(*conv)
	geo, _, err := c.geometryOf(x.Shape, w.Shape)
	if err != nil {
		t.Fatal(err)
	}
	if !c.winograd(&geo) || c.wino == nil || (constW && c.winoU == nil) {
		t.Fatalf("%v did not run the Winograd strategy", wc)
	}
	return out[0], 0
}

func (wc winoCase) check(t *testing.T, seed uint64) {
	r := rtRand(seed)
	x, w, b := randT(r, wc.n, wc.c, wc.h, wc.w), randT(r, wc.m, wc.c, 3, 3), randT(r, wc.m)
	if !wc.bias {
		clear(b.F32)
	}
	one := [2]int{1, 1}
	oh, ow := wc.h+wc.pads[0]+wc.pads[2]-2, wc.w+wc.pads[1]+wc.pads[3]-2
	var res *tensor.Tensor
	if wc.res {
		res = randT(r, wc.n, wc.m, oh, ow)
	}
	pb := [2]int{wc.pads[0], wc.pads[1]}
	want := refConv(x.F32, wc.n, wc.c, wc.h, wc.w, w.F32, wc.m, 3, 3, b.F32, 1, one, one, pb, oh, ow, Activation{})
	abs := func(v []float32) []float32 {
		a := make([]float32, len(v))
		for i := range v {
			a[i] = float32(math.Abs(float64(v[i])))
		}
		return a
	}
	conv := refConv(abs(x.F32), wc.n, wc.c, wc.h, wc.w, abs(w.F32), wc.m, 3, 3, nil, 1, one, one, pb, oh, ow, Activation{})
	// The transforms mix a tile's 16 outputs: an output's error scales
	// with the largest of its tile's sums.
	mag := make([]float64, len(conv))
	for i := range mag {
		plane, at := i/(oh*ow), i%(oh*ow)
		ty, tx := at/ow/4*4, at%ow/4*4
		for y := ty; y < min(ty+4, oh); y++ {
			for x := tx; x < min(tx+4, ow); x++ {
				mag[i] = max(mag[i], conv[plane*oh*ow+y*ow+x])
			}
		}
		mag[i] += math.Abs(float64(b.F32[plane%wc.m]))
		if res != nil {
			want[i] += float64(res.F32[i])
			mag[i] += math.Abs(float64(res.F32[i]))
		}
		switch wc.act.Kind {
		case ReluActivation:
			want[i] = math.Max(want[i], 0)
		case ClipActivation:
			want[i] = math.Min(math.Max(want[i], float64(wc.act.Min)), float64(wc.act.Max))
		}
	}
	bound := winoBound(wc.c)
	var first *tensor.Tensor
	for _, workers := range []int{1, 3} {
		for _, constW := range []bool{true, false} {
			got, _ := wc.runWino(t, x, w, b, res, workers, constW)
			if !tensor.EqualShape(got.Shape, []int{wc.n, wc.m, oh, ow}) {
				t.Fatalf("%v: shape %v", wc, got.Shape)
			}
			worst := 0.0
			for i, v := range got.F32 {
				e := math.Abs(float64(v)-want[i]) / mag[i]
				if !(e <= bound) { // NaN too
					t.Fatalf("%v workers=%d constW=%v: element %d = %v, want %v (error %.3g of the magnitude %.3g, bound %.3g)",
						wc, workers, constW, i, v, want[i], e, mag[i], bound)
				}
				worst = max(worst, e)
			}
			if testing.Verbose() && workers == 1 && constW {
				t.Logf("%v: worst error %.3g of the magnitude (%.2f of the bound)", wc, worst, worst/bound)
			}
			// The blocks do not depend on the workers: the same values.
			if first == nil {
				first = got
			} else if !equalBits(first.F32, got.F32) {
				t.Errorf("%v workers=%d constW=%v: other values than with 1 worker", wc, workers, constW)
			}
		}
	}
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// forceWinograd makes every convolution the Winograd strategy can
// compute take it for the rest of the test.
func forceWinograd(t testing.TB, mode winoMode) {
	winogradMode = mode
	t.Cleanup(func() { winogradMode = winoByRule })
}

// The Winograd strategy against a float64 direct convolution on every
// implementation: planes from 1×1 to 33×17 (whole and partial tiles,
// staged), 1 to 64 channels, padding 0 to 2 and asymmetric, with and
// without bias, residual and activations, batches of fewer and more
// images than workers and of more than one block.
func TestWinogradReference(t *testing.T) {
	forceWinograd(t, winoForce)
	relu := Activation{Kind: ReluActivation}
	clip := Activation{Kind: ClipActivation, Min: -0.5, Max: 0.75}
	cases := []winoCase{
		{n: 1, c: 1, h: 1, w: 1, m: 1, pads: [4]int{1, 1, 1, 1}},
		{n: 2, c: 3, h: 2, w: 3, m: 5, pads: [4]int{1, 1, 1, 1}, bias: true},
		{n: 3, c: 16, h: 5, w: 7, m: 17, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu},
		{n: 1, c: 17, h: 5, w: 7, m: 16, pads: [4]int{0, 2, 1, 0}, res: true, act: clip},
		{n: 2, c: 16, h: 32, w: 32, m: 16, pads: [4]int{1, 1, 1, 1}, bias: true, res: true, act: relu},
		{n: 1, c: 3, h: 33, w: 17, m: 16, pads: [4]int{2, 2, 2, 2}, bias: true},
		{n: 5, c: 64, h: 8, w: 8, m: 64, pads: [4]int{1, 1, 1, 1}, bias: true, res: true, act: relu},
		{n: 1, c: 64, h: 16, w: 16, m: 17, pads: [4]int{0, 0, 0, 0}, act: relu},
		{n: 4, c: 17, h: 33, w: 17, m: 3, pads: [4]int{1, 0, 2, 1}, res: true},
		{n: 9, c: 32, h: 16, w: 16, m: 32, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu},
		// Padding wider than a tile: pairs read past the row ends by tiles
		// other than the batch's first and last.
		{n: 3, c: 16, h: 6, w: 37, m: 16, pads: [4]int{5, 6, 5, 5}, bias: true, res: true},
	}
	forEachGemmImpl(t, func(t *testing.T) {
		for i, wc := range cases {
			t.Run(wc.String(), func(t *testing.T) { wc.check(t, uint64(100+i)) })
		}
	})
}

// BenchmarkConv3x3 times the 3×3 stride-1 convolutions of ResNet-20
// (batch 64, as its benchmark) and ResNet-50 (batch 8) with the existing
// strategies and the Winograd one, ReLU fused: the measurements behind
// the rule (conv.winograd).
func BenchmarkConv3x3(b *testing.B) {
	shapes := []struct {
		name    string
		n, c, h int
	}{
		{"resnet20/16x32x32", 64, 16, 32},
		{"resnet20/32x16x16", 64, 32, 16},
		{"resnet20/64x8x8", 64, 64, 8},
		{"resnet50/64x56x56", 8, 64, 56},
		{"resnet50/128x28x28", 8, 128, 28},
		{"resnet50/256x14x14", 8, 256, 14},
		{"resnet50/512x7x7", 8, 512, 7},
	}
	for _, s := range shapes {
		r := rtRand(7)
		x, w, bias := randT(r, s.n, s.c, s.h, s.h), randT(r, s.c, s.c, 3, 3), randT(r, s.c)
		for _, im := range gemm.Available()[1:] { // the assembly ones
			for _, mode := range []struct {
				name string
				m    winoMode
			}{{"direct", winoNever}, {"winograd", winoForce}} {
				b.Run(s.name+"/"+im.String()+"/"+mode.name, func(b *testing.B) {
					prev, _ := gemm.SetImpl(im)
					defer gemm.SetImpl(prev)
					forceWinograd(b, mode.m)
					op := rtBuild(b, 13, "Conv", aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1))
					op.(Fusable).FuseActivation(Activation{Kind: ReluActivation})
					in := []*tensor.Tensor{x, w, bias}
					metas := []Meta{{tensor.Float32, x.Shape}, {tensor.Float32, w.Shape}, {tensor.Float32, bias.Shape}}
					outs, err := Infer(op, metas, []*tensor.Tensor{nil, w, bias}, nil)
					if err != nil {
						b.Fatal(err)
					}
					if err := op.(Preparer).Prepare([]*tensor.Tensor{nil, w, bias}); err != nil {
						b.Fatal(err)
					}
					y := tensor.New(tensor.Float32, outs[0].Shape...)
					ctx := &Ctx{Workers: 2}
					b.SetBytes(int64(2 * 9 * s.c * s.c * s.h * s.h * s.n)) // FLOPs of the direct convolution, as "bytes"
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := op.Run(ctx, in, []*tensor.Tensor{y}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// A NaN or an infinity in the input reaches every output whose 3×3
// window holds it as a NaN or an infinity, never a finite number, on
// every implementation. (Winograd spreads it further than the direct
// convolution: over the whole 4×4 output tiles whose 6×6 input tiles hold
// it, as Inf − Inf in the transforms makes NaN; outputs of tiles that do
// not see it stay finite.) The spots: in a right-hand partial tile, at
// both ends of a row, and the batch's first and last values; image 2's
// tiles are in a group of their own (neither the batch's first nor its
// last), which the AVX-512 pair gathers read, values next to a row's ends
// included, which they must drop.
func TestWinogradNaNInf(t *testing.T) {
	forceWinograd(t, winoForce)
	const n, c, h, w, m = 4, 16, 9, 10, 16
	spots := [][4]int{{2, 5, 4, 9}, {2, 0, 5, 0}, {2, 15, 3, w - 1}, {0, 0, 0, 0}, {3, 15, h - 1, w - 1}}
	forEachGemmImpl(t, func(t *testing.T) {
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			for _, sp := range spots {
				r := rtRand(9)
				x, wt, b := randT(r, n, c, h, w), randT(r, m, c, 3, 3), randT(r, m)
				img, ch, y0, x0 := sp[0], sp[1], sp[2], sp[3]
				x.F32[((img*c+ch)*h+y0)*w+x0] = bad
				op := rtBuild(t, 13, "Conv", aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1))
				out := rtMust(t, op, 2, 1, []*tensor.Tensor{x, wt, b}, constAt(3, 1, 2))[0]
				for i := 0; i < n; i++ {
					for k := 0; k < m; k++ {
						for oy := 0; oy < h; oy++ {
							for ox := 0; ox < w; ox++ {
								v := float64(out.F32[((i*m+k)*h+oy)*w+ox])
								touched := i == img && oy >= y0-1 && oy <= y0+1 && ox >= x0-1 && ox <= x0+1
								// The tile's 6×6 input window: rows 4·ty-1 .. 4·ty+4.
								seen := i == img && y0 >= 4*(oy/4)-1 && y0 <= 4*(oy/4)+4 && x0 >= 4*(ox/4)-1 && x0 <= 4*(ox/4)+4
								if touched && !math.IsNaN(v) && !math.IsInf(v, 0) {
									t.Fatalf("%v at %v: output (%d,%d,%d,%d) = %v sees it", bad, sp, i, k, oy, ox, v)
								}
								if !seen && (math.IsNaN(v) || math.IsInf(v, 0)) {
									t.Fatalf("%v at %v: output (%d,%d,%d,%d) = %v does not see it", bad, sp, i, k, oy, ox, v)
								}
							}
						}
					}
				}
			}
		}
	})
}

// Memory declares what the Winograd strategy keeps (the scratch areas
// and the plan's tables) and its transformed weights, with fewer and
// more blocks than workers.
func TestWinogradMemory(t *testing.T) {
	forceWinograd(t, winoForce)
	for _, tc := range []struct{ x, w []int }{
		{sh(1, 16, 8, 8), sh(16, 16, 3, 3)},   // one block
		{sh(3, 64, 16, 16), sh(32, 64, 3, 3)}, // several
		{sh(2, 17, 7, 5), sh(20, 17, 3, 3)},   // staged
	} {
		for _, workers := range []int{1, 2, 8} {
			c, prepared, working, kept := convMemoryRun(t, tc.x, tc.w, []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}, workers)
			if got := kept + c.wino.tableBytes(); got != working {
				t.Errorf("%v, %d workers: Memory says %d bytes, Run keeps %d", tc.x, workers, working, got)
			}
			if want := 4 * int64(tensor.NumElements(tc.w)) * 5; prepared != want {
				t.Errorf("%v: Memory says %d prepared bytes, want %d (weights packed and transformed)", tc.x, prepared, want)
			}
		}
	}
}
