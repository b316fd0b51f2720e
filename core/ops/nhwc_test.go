package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// runChannelsLast runs conv (already fused as wanted) channels-last on
// x, w, b (b may be nil) and the residual res (nil: none), converting x
// and res in and the output back with the layout operators, and returns
// the output in the usual layout.
func runChannelsLast(t *testing.T, op Op, workers int, x, w, b, res *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	in := []*tensor.Tensor{x, w, b}
	if res != nil {
		in = append(in, res)
	}
	last, outShape := prepareChannelsLast(t, op, in)
	if last == nil {
		t.Fatal("no channels-last operator")
	}
	toLast := func(v *tensor.Tensor) *tensor.Tensor {
		return rtMust(t, ToChannelsLast(), workers, 1, []*tensor.Tensor{v}, constAt(1))[0]
	}
	lin := []*tensor.Tensor{toLast(x), w, b}
	if res != nil {
		lin = append(lin, toLast(res))
	}
	out := tensor.New(tensor.Float32, outShape...)
	for i := range out.F32 {
		out.F32[i] = sentinelF
	}
	if err := last.Run(&Ctx{Workers: workers}, lin, []*tensor.Tensor{out}); err != nil {
		t.Fatal(err)
	}
	return rtMust(t, ToChannelsFirst(), workers, 1, []*tensor.Tensor{out}, constAt(1))[0]
}

// prepareChannelsLast infers and prepares the convolution op for inputs
// in (x, then constant weights and bias, then any residual) and returns
// its channels-last operator (nil where there is none) and the output
// shape.
func prepareChannelsLast(t testing.TB, op Op, in []*tensor.Tensor) (Op, []int) {
	t.Helper()
	metas := make([]Meta, len(in))
	consts := make([]*tensor.Tensor, len(in))
	for i, v := range in {
		if v != nil {
			metas[i] = Meta{DType: v.DType, Shape: v.Shape}
		}
	}
	consts[1], consts[2] = in[1], in[2]
	outMetas, err := Infer(op, metas, consts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.(Preparer).Prepare(consts); err != nil {
		t.Fatal(err)
	}
	return channelsLast(op, metas, consts), outMetas[0].Shape
}

// The channels-last convolutions against refConv on every
// implementation: depthwise 3×3 and 5×5 at strides 1 to 3 with paddings
// up to half the kernel, on every side or some, planes from 1×1 to wider than the kernel's eight positions,
// channels from 2 to past two 16-channel blocks (masked tails), fused
// activations and residuals; pointwise ones with output channels that
// fill the GEMM's tiles or not.
func TestChannelsLastConvReference(t *testing.T) {
	relu6 := Activation{Kind: ClipActivation, Min: 0, Max: 6}
	clip := Activation{Kind: ClipActivation, Min: -0.25, Max: 0.5}
	relu := Activation{Kind: ReluActivation}
	type tc struct {
		convCase
		residual bool
	}
	var cases []tc
	i := 0
	for _, k := range []int{3, 5} {
		p := k / 2
		for _, c := range []int{2, 3, 16, 17, 40} {
			for _, hw := range [][2]int{{1, 1}, {2, 3}, {5, 7}, {9, 20}, {4, 33}} {
				for _, s := range []int{1, 2, 3} {
					for _, pads := range [][4]int{{p, p, p, p}, {0, 0, 0, 0}, {0, 0, p, p}, {p, 0, 0, p}, {1, 1, 1, 1}} {
						if hw[0]+pads[0]+pads[2] < k || hw[1]+pads[1]+pads[3] < k {
							continue
						}
						i++
						act := []Activation{{}, relu6, clip, relu}[i%4]
						cases = append(cases, tc{convCase: convCase{
							name: fmt.Sprintf("dw%dx%d/c%d/%dx%d/s%d/pads%v/%v", k, k, c, hw[0], hw[1], s, pads, act.Kind),
							n:    1 + i%2, c: c, h: hw[0], w: hw[1], m: c, kh: k, kw: k, group: c,
							stride: [2]int{s, s}, dilation: [2]int{1, 1}, pads: pads, bias: i%3 != 0, act: act,
						}, residual: i%5 == 0 && s == 1})
					}
				}
			}
		}
	}
	// Planes narrower than the kernel, padded on the right only: every
	// output column's window overhangs the input (none is inside).
	for _, g := range []struct{ k, w, s int }{{3, 2, 2}, {3, 2, 3}, {5, 3, 3}, {5, 4, 2}, {5, 4, 3}} {
		p := g.k / 2
		cases = append(cases, tc{convCase: convCase{
			name: fmt.Sprintf("dw%dx%d/c17/5x%d/s%d/right-padded", g.k, g.k, g.w, g.s),
			n:    2, c: 17, h: 5, w: g.w, m: 17, kh: g.k, kw: g.k, group: 17,
			stride: [2]int{g.s, g.s}, dilation: [2]int{1, 1}, pads: [4]int{p, 0, p, p}, bias: true, act: relu6,
		}})
	}
	for _, mk := range [][2]int{{1, 1}, {16, 24}, {24, 144}, {32, 16}, {7, 33}, {70, 20}} {
		for _, hw := range [][2]int{{1, 1}, {7, 7}, {3, 11}} {
			i++
			cases = append(cases, tc{convCase: convCase{
				name: fmt.Sprintf("pw/m%d/k%d/%dx%d", mk[0], mk[1], hw[0], hw[1]),
				n:    1 + i%3, c: mk[1], h: hw[0], w: hw[1], m: mk[0], kh: 1, kw: 1, group: 1,
				stride: [2]int{1, 1}, dilation: [2]int{1, 1}, bias: i%2 == 0, act: []Activation{{}, relu6, relu}[i%3],
			}, residual: i%4 == 0})
		}
	}
	forEachGemmImpl(t, func(t *testing.T) {
		r := rtRand(31)
		for _, cc := range cases {
			t.Run(cc.name, func(t *testing.T) {
				x := randT(r, cc.n, cc.c, cc.h, cc.w)
				w := randT(r, cc.m, cc.c/cc.group, cc.kh, cc.kw)
				var b *tensor.Tensor
				var bv []float32
				if cc.bias {
					b = randT(r, cc.m)
					bv = b.F32
				}
				oh := (cc.h+cc.pads[0]+cc.pads[2]-cc.kh)/cc.stride[0] + 1
				ow := (cc.w+cc.pads[1]+cc.pads[3]-cc.kw)/cc.stride[1] + 1
				op := rtBuild(t, 13, "Conv", cc.attrs()...)
				act := cc.act
				var res *tensor.Tensor
				if cc.residual {
					res = randT(r, cc.n, cc.m, oh, ow)
					if !op.(ResidualFusable).FuseResidual() {
						t.Fatal("residual refused")
					}
				}
				if act.Kind != NoActivation && !op.(Fusable).FuseActivation(act) {
					t.Fatal("activation refused")
				}
				inner := act
				if res != nil {
					inner = Activation{}
				}
				want := refConv(x.F32, cc.n, cc.c, cc.h, cc.w, w.F32, cc.m, cc.kh, cc.kw, bv, cc.group, cc.stride, cc.dilation,
					[2]int{cc.pads[0], cc.pads[1]}, oh, ow, inner)
				if res != nil {
					for i := range want {
						v := []float32{float32(want[i] + float64(res.F32[i]))}
						act.apply(v)
						want[i] = float64(v[0])
					}
				}
				for _, workers := range []int{1, 3} {
					got := runChannelsLast(t, op, workers, x, w, b, res)
					checkClose(t, got, sh(cc.n, cc.m, oh, ow), want, 1e-5)
				}
			})
		}
	})
}

// Convolutions without a channels-last operator get none.
func TestChannelsLastDeclines(t *testing.T) {
	r := rtRand(32)
	x := randT(r, 1, 4, 9, 9)
	for _, c := range []struct {
		name  string
		w     *tensor.Tensor
		attrs []*onnx.Attribute
	}{
		{"3x3 full", randT(r, 4, 4, 3, 3), []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}},
		{"grouped 1x1", randT(r, 4, 2, 1, 1), []*onnx.Attribute{aInt("group", 2)}},
		{"strided 1x1", randT(r, 4, 4, 1, 1), []*onnx.Attribute{aInts("strides", 2, 2)}},
		{"padded 1x1", randT(r, 4, 4, 1, 1), []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}},
		{"depthwise 7x7", randT(r, 4, 1, 7, 7), []*onnx.Attribute{aInt("group", 4), aInts("pads", 3, 3, 3, 3)}},
		{"depthwise 5x5 pad 3", randT(r, 4, 1, 5, 5), []*onnx.Attribute{aInt("group", 4), aInts("pads", 3, 3, 3, 3)}},
		{"depthwise 3x5", randT(r, 4, 1, 3, 5), []*onnx.Attribute{aInt("group", 4), aInts("pads", 1, 2, 1, 2)}},
		{"depthwise pad 2", randT(r, 4, 1, 3, 3), []*onnx.Attribute{aInt("group", 4), aInts("pads", 2, 2, 2, 2)}},
		{"depthwise dilated", randT(r, 4, 1, 3, 3), []*onnx.Attribute{aInt("group", 4), aInts("dilations", 2, 2)}},
		{"depthwise multiplier 2", randT(r, 8, 1, 3, 3), []*onnx.Attribute{aInt("group", 4), aInts("pads", 1, 1, 1, 1)}},
	} {
		op := rtBuild(t, 13, "Conv", c.attrs...)
		metas := []Meta{{tensor.Float32, x.Shape}, {tensor.Float32, c.w.Shape}}
		consts := []*tensor.Tensor{nil, c.w}
		if _, err := Infer(op, metas, consts, nil); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if channelsLast(op, metas, consts) != nil {
			t.Errorf("%s: got a channels-last operator", c.name)
		}
	}
	// Weights known only at run time.
	op := rtBuild(t, 13, "Conv")
	metas := []Meta{{tensor.Float32, x.Shape}, {tensor.Float32, []int{4, 4, 1, 1}}}
	if _, err := Infer(op, metas, []*tensor.Tensor{nil, nil}, nil); err != nil {
		t.Fatal(err)
	}
	if channelsLast(op, metas, []*tensor.Tensor{nil, nil}) != nil {
		t.Error("weights computed at run time: got a channels-last operator")
	}
}

// The depthwise kernels on NaN and infinite inputs agree with the Go
// kernel bit for bit: a NaN read makes a NaN whatever the clamp.
func TestDepthwiseNHWCNaNInf(t *testing.T) {
	const ch, w = 19, 12
	row := func(seed int) []float32 {
		v := make([]float32, (w+1)*ch)
		for i := range v {
			v[i] = float32((i + seed) % 7)
		}
		return v
	}
	src := [5][]float32{row(0), row(1), row(2)}
	src[1][ch+5*ch+3] = float32(math.NaN())
	src[2][ch+9*ch+17] = float32(math.Inf(1))
	weights := make([]float32, 9*ch)
	for i := range weights {
		weights[i] = float32(i%3) - 0.5
	}
	bias := make([]float32, ch)
	for _, bounds := range [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, 6}} {
		args := func(out []float32) *dwLastArgs {
			return &dwLastArgs{k: 3, src: src, at: [5]int{ch, ch, ch}, col0: 0, w: weights, bias: bias, out: out,
				n: w - 2, c: ch, step: ch, lo: bounds[0], hi: bounds[1]}
		}
		want := make([]float32, (w-2)*ch)
		dwLastGo(args(want))
		if v := want[4*ch+3]; !math.IsNaN(float64(v)) {
			t.Fatalf("Go kernel: %v, want NaN", v)
		}
		forEachGemmImpl(t, func(t *testing.T) {
			got := make([]float32, (w-2)*ch)
			dwLast(args(got))
			if !sameBits(f32(sh(len(got)), got...), f32(sh(len(want)), want...)) {
				t.Errorf("bounds %v: got %v, want %v", bounds, got, want)
			}
		})
	}
}

// The layout operators are each other's inverse and put value (n, c, y,
// x) where the channels-last layout says.
func TestChannelsLastTranspose(t *testing.T) {
	x := iota32(2, 3, 4, 5)
	last := rtMust(t, ToChannelsLast(), 2, 1, []*tensor.Tensor{x}, nil)[0]
	for n := 0; n < 2; n++ {
		for c := 0; c < 3; c++ {
			for y := 0; y < 4; y++ {
				for xx := 0; xx < 5; xx++ {
					if got, want := last.F32[((n*4+y)*5+xx)*3+c], x.F32[((n*3+c)*4+y)*5+xx]; got != want {
						t.Fatalf("(%d,%d,%d,%d): %v, want %v", n, c, y, xx, got, want)
					}
				}
			}
		}
	}
	back := rtMust(t, ToChannelsFirst(), 1, 1, []*tensor.Tensor{last}, nil)[0]
	if !sameBits(back, x) {
		t.Fatal("ToChannelsFirst(ToChannelsLast(x)) != x")
	}
}

// The depthwise convolutions of MobileNetV2 (3×3) and MobileNetV3 (5×5),
// one image, in the usual layout and channels-last, on every
// implementation: output values per ns.
func BenchmarkDepthwiseLayouts(b *testing.B) {
	for _, g := range []struct{ c, hw, k, s int }{{96, 112, 3, 2}, {144, 56, 3, 1}, {960, 7, 3, 1}, {672, 14, 5, 1}} {
		r := rtRand(uint64(g.c))
		x, w, bias := randT(r, 1, g.c, g.hw, g.hw), randT(r, g.c, 1, g.k, g.k), randT(r, g.c)
		p := g.k / 2
		op := rtBuild(b, 13, "Conv", aInt("group", int64(g.c)), aInts("pads", int64(p), int64(p), int64(p), int64(p)),
			aInts("strides", int64(g.s), int64(g.s)))
		last, outShape := prepareChannelsLast(b, op, []*tensor.Tensor{x, w, bias})
		y := tensor.New(tensor.Float32, outShape...)
		for _, im := range gemm.Available() {
			for _, layout := range []struct {
				name string
				op   Op
			}{{"first", op}, {"last", last}} {
				b.Run(fmt.Sprintf("%dx%dx%d/k%d/s%d/%s/%v", g.c, g.hw, g.hw, g.k, g.s, layout.name, im), func(b *testing.B) {
					prev, _ := gemm.SetImpl(im)
					defer gemm.SetImpl(prev)
					ctx := &Ctx{Workers: 1}
					in := []*tensor.Tensor{x, w, bias}
					for i := 0; i < b.N; i++ {
						if err := layout.op.Run(ctx, in, []*tensor.Tensor{y}); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N)*float64(len(y.F32))/float64(b.Elapsed().Nanoseconds()), "values/ns")
				})
			}
		}
	}
}
