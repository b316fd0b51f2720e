package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// convCase is one convolution. For a 1-D case (oneD) only the W entries of
// the spatial parameters are used and the input is N,C,L.
type convCase struct {
	name       string
	n, c, h, w int
	m, kh, kw  int
	group      int
	stride     [2]int
	dilation   [2]int
	pads       [4]int // hBegin, wBegin, hEnd, wEnd (ONNX order)
	autoPad    string // "" = NOTSET (attribute omitted)
	bias       bool
	oneD       bool
	noKernAttr bool // omit kernel_shape (inferred from the weights)
	act        Activation
}

func (c convCase) attrs() []*onnx.Attribute {
	var a []*onnx.Attribute
	if c.oneD {
		if !c.noKernAttr {
			a = append(a, aInts("kernel_shape", int64(c.kw)))
		}
		a = append(a,
			aInts("strides", int64(c.stride[1])),
			aInts("dilations", int64(c.dilation[1])))
		if c.autoPad == "" {
			a = append(a, aInts("pads", int64(c.pads[1]), int64(c.pads[3])))
		}
	} else {
		if !c.noKernAttr {
			a = append(a, aInts("kernel_shape", int64(c.kh), int64(c.kw)))
		}
		a = append(a,
			aInts("strides", int64(c.stride[0]), int64(c.stride[1])),
			aInts("dilations", int64(c.dilation[0]), int64(c.dilation[1])))
		if c.autoPad == "" {
			a = append(a, aInts("pads", int64(c.pads[0]), int64(c.pads[1]), int64(c.pads[2]), int64(c.pads[3])))
		}
	}
	if c.autoPad != "" {
		a = append(a, aString("auto_pad", c.autoPad))
	}
	if c.group != 1 {
		a = append(a, aInt("group", int64(c.group)))
	}
	return a
}

// refPads resolves the padding of one spatial dimension as the ONNX spec
// describes it, and returns the output extent.
func refPads(in, k, s, d, pb, pe int, autoPad string) (begin, end, out int) {
	ext := (k-1)*d + 1
	switch autoPad {
	case "VALID":
		pb, pe = 0, 0
	case "SAME_UPPER", "SAME_LOWER":
		out = int(math.Ceil(float64(in) / float64(s)))
		total := (out-1)*s + ext - in
		if total < 0 {
			total = 0
		}
		small, big := total/2, total-total/2
		if autoPad == "SAME_UPPER" {
			pb, pe = small, big
		} else {
			pb, pe = big, small
		}
	}
	out = int(math.Floor(float64(in+pb+pe-ext)/float64(s))) + 1
	return pb, pe, out
}

// refConv is a direct convolution in float64: 7 nested loops over batch,
// output channel, output row, output column, input channel of the group,
// kernel row and kernel column. x is N,C,H,W; w is M,C/group,KH,KW.
func refConv(x []float32, n, c, h, wd int, w []float32, m, kh, kw int, b []float32,
	group int, s, d, pb [2]int, oh, ow int, act Activation) []float64 {
	out := make([]float64, n*m*oh*ow)
	cg, mg := c/group, m/group
	for in := 0; in < n; in++ {
		for om := 0; om < m; om++ {
			g := om / mg
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					sum := 0.0
					if b != nil {
						sum = float64(b[om])
					}
					for ic := 0; ic < cg; ic++ {
						ch := g*cg + ic
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								y := oy*s[0] - pb[0] + ky*d[0]
								xx := ox*s[1] - pb[1] + kx*d[1]
								if y < 0 || y >= h || xx < 0 || xx >= wd {
									continue
								}
								sum += float64(x[((in*c+ch)*h+y)*wd+xx]) * float64(w[((om*cg+ic)*kh+ky)*kw+kx])
							}
						}
					}
					switch act.Kind {
					case ReluActivation:
						sum = math.Max(sum, 0)
					case ClipActivation:
						sum = math.Min(math.Max(sum, float64(act.Min)), float64(act.Max))
					}
					out[((in*m+om)*oh+oy)*ow+ox] = sum
				}
			}
		}
	}
	return out
}

// run builds the Conv, runs it for each worker count and with constant and
// run-time weights, and compares with refConv.
func (cc convCase) run(t *testing.T, r *rand.Rand) {
	t.Helper()
	h, kh := cc.h, cc.kh
	s, d := cc.stride, cc.dilation
	if cc.oneD {
		h, kh = 1, 1
		s[0], d[0] = 1, 1
	}
	cg := cc.c / cc.group
	var xShape, wShape []int
	if cc.oneD {
		xShape, wShape = []int{cc.n, cc.c, cc.w}, []int{cc.m, cg, cc.kw}
	} else {
		xShape, wShape = []int{cc.n, cc.c, h, cc.w}, []int{cc.m, cg, kh, cc.kw}
	}
	x := randT(r, xShape...)
	w := randT(r, wShape...)
	var b *tensor.Tensor
	if cc.bias {
		b = randT(r, cc.m)
	}
	pbH, _, oh := refPads(h, kh, s[0], d[0], cc.pads[0], cc.pads[2], cc.autoPad)
	if cc.oneD {
		pbH, oh = 0, 1
	}
	pbW, _, ow := refPads(cc.w, cc.kw, s[1], d[1], cc.pads[1], cc.pads[3], cc.autoPad)
	var bv []float32
	if b != nil {
		bv = b.F32
	}
	want := refConv(x.F32, cc.n, cc.c, h, cc.w, w.F32, cc.m, kh, cc.kw, bv, cc.group, s, d, [2]int{pbH, pbW}, oh, ow, cc.act)
	wantShape := []int{cc.n, cc.m, oh, ow}
	if cc.oneD {
		wantShape = []int{cc.n, cc.m, ow}
	}
	in := []*tensor.Tensor{x, w}
	if b != nil {
		in = append(in, b)
	}
	var first *tensor.Tensor
	for _, workers := range []int{1, 4} {
		for _, constW := range []bool{true, false} {
			name := fmt.Sprintf("workers=%d/constW=%v", workers, constW)
			op := rtBuild(t, 13, "Conv", cc.attrs()...)
			if cc.act.Kind != NoActivation {
				f, ok := op.(Fusable)
				if !ok || !f.FuseActivation(cc.act) {
					t.Fatalf("Conv does not accept a fused %v", cc.act)
				}
			}
			constant := constAt(len(in))
			if constW {
				for i := 1; i < len(in); i++ {
					constant[i] = true
				}
			}
			out, err := rtEval(op, workers, 1, in, constant)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			t.Run(name, func(t *testing.T) { checkClose(t, out[0], wantShape, want, 1e-4) })
			if first == nil {
				first = out[0]
				continue
			}
			// Different worker counts split the work differently but must
			// compute the same values.
			for i := range first.F32 {
				if d := math.Abs(float64(first.F32[i] - out[0].F32[i])); d > 1e-6*math.Max(1, math.Abs(float64(first.F32[i]))) {
					t.Errorf("%s: element %d = %v, workers=1/const gave %v", name, i, out[0].F32[i], first.F32[i])
					break
				}
			}
		}
	}
}

func TestConvReference(t *testing.T) {
	relu := Activation{Kind: ReluActivation}
	clip := Activation{Kind: ClipActivation, Min: -0.25, Max: 0.5}
	one, two := [2]int{1, 1}, [2]int{2, 2}
	cases := []convCase{
		{name: "3x3/pad1/bias", n: 1, c: 3, h: 7, w: 6, m: 5, kh: 3, kw: 3, group: 1, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true},
		{name: "3x3/nopad/nobias", n: 1, c: 5, h: 6, w: 7, m: 3, kh: 3, kw: 3, group: 1, stride: one, dilation: one},
		{name: "asymmetric-pads", n: 1, c: 3, h: 5, w: 6, m: 4, kh: 3, kw: 2, group: 1, stride: one, dilation: one, pads: [4]int{0, 2, 1, 0}, bias: true},
		{name: "asymmetric-pads-large", n: 2, c: 1, h: 4, w: 4, m: 3, kh: 2, kw: 3, group: 1, stride: one, dilation: one, pads: [4]int{3, 1, 0, 2}},
		{name: "stride2", n: 1, c: 3, h: 9, w: 8, m: 7, kh: 3, kw: 3, group: 1, stride: two, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true},
		{name: "stride-2x3", n: 1, c: 5, h: 10, w: 11, m: 3, kh: 3, kw: 2, group: 1, stride: [2]int{2, 3}, dilation: one, pads: [4]int{1, 0, 0, 1}},
		{name: "dilation2", n: 1, c: 3, h: 9, w: 9, m: 5, kh: 3, kw: 3, group: 1, stride: one, dilation: two, pads: [4]int{2, 2, 2, 2}, bias: true},
		{name: "dilation-2x3/stride2", n: 1, c: 3, h: 11, w: 12, m: 3, kh: 3, kw: 2, group: 1, stride: two, dilation: [2]int{2, 3}, pads: [4]int{1, 2, 0, 1}},
		{name: "SAME_UPPER", n: 1, c: 3, h: 6, w: 7, m: 5, kh: 4, kw: 3, group: 1, stride: one, dilation: one, autoPad: "SAME_UPPER", bias: true},
		{name: "SAME_UPPER/stride2", n: 1, c: 3, h: 7, w: 8, m: 5, kh: 3, kw: 4, group: 1, stride: two, dilation: one, autoPad: "SAME_UPPER"},
		{name: "SAME_LOWER", n: 1, c: 3, h: 6, w: 7, m: 5, kh: 4, kw: 2, group: 1, stride: one, dilation: one, autoPad: "SAME_LOWER", bias: true},
		{name: "SAME_LOWER/stride2/dilation2", n: 1, c: 3, h: 9, w: 8, m: 3, kh: 2, kw: 3, group: 1, stride: two, dilation: two, autoPad: "SAME_LOWER"},
		{name: "VALID", n: 1, c: 3, h: 7, w: 6, m: 5, kh: 3, kw: 3, group: 1, stride: two, dilation: one, autoPad: "VALID", bias: true},
		{name: "groups3", n: 1, c: 9, h: 6, w: 5, m: 6, kh: 3, kw: 3, group: 3, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true},
		{name: "groups/odd-channels", n: 2, c: 15, h: 5, w: 5, m: 5, kh: 3, kw: 1, group: 5, stride: [2]int{1, 2}, dilation: one, pads: [4]int{1, 0, 1, 0}},
		{name: "depthwise", n: 1, c: 7, h: 8, w: 9, m: 7, kh: 3, kw: 3, group: 7, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true},
		{name: "depthwise/stride2/multiplier2", n: 1, c: 5, h: 9, w: 8, m: 10, kh: 3, kw: 3, group: 5, stride: two, dilation: one, pads: [4]int{0, 1, 1, 0}},
		{name: "pointwise1x1", n: 1, c: 7, h: 5, w: 6, m: 9, kh: 1, kw: 1, group: 1, stride: one, dilation: one, bias: true},
		{name: "pointwise1x1/groups", n: 2, c: 9, h: 3, w: 4, m: 3, kh: 1, kw: 1, group: 3, stride: one, dilation: one},
		{name: "1x1/stride2", n: 1, c: 5, h: 7, w: 6, m: 3, kh: 1, kw: 1, group: 1, stride: two, dilation: one, bias: true},
		{name: "1x1/pad1", n: 1, c: 3, h: 4, w: 4, m: 3, kh: 1, kw: 1, group: 1, stride: one, dilation: one, pads: [4]int{1, 0, 0, 1}},
		{name: "kernel-from-weights", n: 1, c: 3, h: 6, w: 6, m: 3, kh: 3, kw: 2, group: 1, stride: one, dilation: one, pads: [4]int{1, 0, 1, 1}, noKernAttr: true},
		{name: "kernel-equals-input", n: 1, c: 3, h: 4, w: 5, m: 7, kh: 4, kw: 5, group: 1, stride: one, dilation: one, bias: true},
		{name: "1D", n: 1, c: 3, w: 11, m: 5, kw: 3, group: 1, stride: one, dilation: one, pads: [4]int{0, 1, 0, 1}, bias: true, oneD: true},
		{name: "1D/stride2/dilation2/asym", n: 2, c: 5, w: 13, m: 3, kw: 3, group: 1, stride: two, dilation: two, pads: [4]int{0, 2, 0, 1}, oneD: true},
		{name: "1D/SAME_UPPER", n: 1, c: 3, w: 10, m: 3, kw: 4, group: 1, stride: two, dilation: one, autoPad: "SAME_UPPER", oneD: true},
		{name: "1D/SAME_LOWER/depthwise", n: 1, c: 5, w: 9, m: 5, kw: 4, group: 5, stride: one, dilation: one, autoPad: "SAME_LOWER", bias: true, oneD: true},
		{name: "1D/pointwise", n: 3, c: 5, w: 8, m: 3, kw: 1, group: 1, stride: one, dilation: one, oneD: true, noKernAttr: true},
		{name: "batch5>workers", n: 5, c: 3, h: 6, w: 5, m: 5, kh: 3, kw: 3, group: 1, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true},
		{name: "batch6>workers/groups", n: 6, c: 9, h: 5, w: 5, m: 3, kh: 2, kw: 2, group: 3, stride: two, dilation: one, pads: [4]int{0, 0, 1, 1}, bias: true},
		{name: "batch9/pointwise", n: 9, c: 5, h: 3, w: 3, m: 3, kh: 1, kw: 1, group: 1, stride: one, dilation: one},
		{name: "relu", n: 1, c: 3, h: 6, w: 6, m: 5, kh: 3, kw: 3, group: 1, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu},
		{name: "relu/batch5", n: 5, c: 3, h: 5, w: 4, m: 3, kh: 3, kw: 3, group: 3, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu},
		{name: "clip", n: 1, c: 5, h: 6, w: 6, m: 3, kh: 3, kw: 3, group: 1, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true, act: clip},
		{name: "clip/pointwise/batch5", n: 5, c: 5, h: 4, w: 4, m: 3, kh: 1, kw: 1, group: 1, stride: one, dilation: one, act: clip},
		{name: "big-spatial/workers-split", n: 1, c: 3, h: 24, w: 23, m: 5, kh: 3, kw: 3, group: 1, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true},
	}
	r := rtRand(1)
	for _, cc := range cases {
		t.Run(cc.name, func(t *testing.T) { cc.run(t, r) })
	}
}

// TestConvRandom sweeps random geometries with odd channel counts.
func TestConvRandom(t *testing.T) {
	r := rtRand(2)
	pads := []string{"", "", "", "SAME_UPPER", "SAME_LOWER", "VALID"}
	odd := []int{1, 3, 5, 7}
	for i := 0; i < 40; i++ {
		var cc convCase
		for {
			cc = convCase{
				n:     1 + r.IntN(3),
				oneD:  r.IntN(5) == 0,
				h:     1 + r.IntN(9),
				w:     1 + r.IntN(9),
				kh:    1 + r.IntN(4),
				kw:    1 + r.IntN(4),
				group: []int{1, 1, 1, 3, 5}[r.IntN(5)],
			}
			cc.c = cc.group * odd[r.IntN(len(odd))]
			cc.m = cc.group * (1 + r.IntN(3))
			cc.stride = [2]int{1 + r.IntN(3), 1 + r.IntN(3)}
			cc.dilation = [2]int{1 + r.IntN(2), 1 + r.IntN(2)}
			cc.autoPad = pads[r.IntN(len(pads))]
			for j := range cc.pads {
				cc.pads[j] = r.IntN(3)
			}
			cc.bias = r.IntN(2) == 0
			cc.noKernAttr = r.IntN(4) == 0
			if r.IntN(4) == 0 {
				cc.act = Activation{Kind: ReluActivation}
			}
			h, kh := cc.h, cc.kh
			if cc.oneD {
				h, kh = 1, 1
			}
			_, _, oh := refPads(h, kh, cc.stride[0], cc.dilation[0], cc.pads[0], cc.pads[2], cc.autoPad)
			_, _, ow := refPads(cc.w, cc.kw, cc.stride[1], cc.dilation[1], cc.pads[1], cc.pads[3], cc.autoPad)
			if cc.oneD {
				oh = 1
			}
			if oh >= 1 && ow >= 1 {
				break
			}
		}
		cc.name = fmt.Sprintf("%d/n%d_c%d_%dx%d_m%d_k%dx%d_g%d_s%v_d%v_p%v_%s_1d=%v", i, cc.n, cc.c, cc.h, cc.w, cc.m, cc.kh, cc.kw, cc.group, cc.stride, cc.dilation, cc.pads, cc.autoPad, cc.oneD)
		t.Run(cc.name, func(t *testing.T) { cc.run(t, r) })
	}
}

// TestConvHand checks a convolution small enough to compute by hand.
func TestConvHand(t *testing.T) {
	// x = [[1 2 3] [4 5 6] [7 8 9]], w = [[1 0] [0 -1]], bias 10:
	// out[y][x] = x[y][x] - x[y+1][x+1] + 10 = 10 - 4 = 6 everywhere.
	x := iota32(1, 1, 3, 3)
	w := f32(sh(1, 1, 2, 2), 1, 0, 0, -1)
	b := f32(sh(1), 10)
	got := rtOne(t, 11, "Conv", []*tensor.Tensor{x, w, b}, aInts("kernel_shape", 2, 2))
	checkF(t, got, sh(1, 1, 2, 2), 6, 6, 6, 6)

	// 3x3 box filter with pads 1 on a 3x3 ramp: sums of the neighbourhoods.
	ones := f32(sh(1, 1, 3, 3), 1, 1, 1, 1, 1, 1, 1, 1, 1)
	got = rtOne(t, 11, "Conv", []*tensor.Tensor{x, ones}, aInts("pads", 1, 1, 1, 1))
	checkF(t, got, sh(1, 1, 3, 3),
		1+2+4+5, 1+2+3+4+5+6, 2+3+5+6,
		1+2+4+5+7+8, 45, 2+3+5+6+8+9,
		4+5+7+8, 4+5+6+7+8+9, 5+6+8+9)

	// Stride 2 with pads 1: the corners of the above.
	got = rtOne(t, 11, "Conv", []*tensor.Tensor{x, ones}, aInts("pads", 1, 1, 1, 1), aInts("strides", 2, 2))
	checkF(t, got, sh(1, 1, 2, 2), 12, 16, 24, 28)

	// 1-D: x = [1 2 3 4 5], w = [1 2], dilation 2: x[i] + 2 x[i+2].
	got = rtOne(t, 11, "Conv", []*tensor.Tensor{iota32(1, 1, 5), f32(sh(1, 1, 2), 1, 2)}, aInts("dilations", 2))
	checkF(t, got, sh(1, 1, 3), 1+6, 2+8, 3+10)

	// Depthwise, two channels with their own 1x1 weight and bias.
	got = rtOne(t, 11, "Conv", []*tensor.Tensor{iota32(1, 2, 1, 2), f32(sh(2, 1, 1, 1), 2, -1), f32(sh(2), 0.5, 1)}, aInt("group", 2))
	checkF(t, got, sh(1, 2, 1, 2), 2.5, 4.5, -2, -3)
}

func TestConvFuseActivation(t *testing.T) {
	op := rtBuild(t, 13, "Conv")
	f := op.(Fusable)
	if !f.FuseActivation(Activation{Kind: ReluActivation}) {
		t.Fatal("first FuseActivation refused")
	}
	if f.FuseActivation(Activation{Kind: ClipActivation, Min: 0, Max: 6}) {
		t.Error("second FuseActivation accepted: a Conv can hold only one activation")
	}
	// Clip(0, 6) after Relu would be a different function; the Relu must stay.
	x := f32(sh(1, 1, 1, 3), -1, 2, 9)
	w := f32(sh(1, 1, 1, 1), 1)
	out := rtMust(t, op, 1, 1, []*tensor.Tensor{x, w}, allConst)
	checkF(t, out[0], sh(1, 1, 1, 3), 0, 2, 9)
}

func TestConvErrors(t *testing.T) {
	x := randT(rtRand(3), 1, 4, 5, 5)
	for _, tc := range []struct {
		name  string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
	}{
		{"channels-not-divisible-by-group", []*tensor.Tensor{x, tensor.New(tensor.Float32, 3, 4, 3, 3)}, []*onnx.Attribute{aInt("group", 3)}},
		{"weight-channels-mismatch", []*tensor.Tensor{x, tensor.New(tensor.Float32, 2, 3, 3, 3)}, nil},
		{"kernel_shape-disagrees", []*tensor.Tensor{x, tensor.New(tensor.Float32, 2, 4, 3, 3)}, []*onnx.Attribute{aInts("kernel_shape", 2, 2)}},
		{"kernel-larger-than-input", []*tensor.Tensor{x, tensor.New(tensor.Float32, 2, 4, 6, 6)}, nil},
		{"bias-wrong-length", []*tensor.Tensor{x, tensor.New(tensor.Float32, 2, 4, 3, 3), tensor.New(tensor.Float32, 3)}, nil},
		{"rank-mismatch", []*tensor.Tensor{x, tensor.New(tensor.Float32, 2, 4, 3)}, nil},
		{"int64-input", []*tensor.Tensor{tensor.New(tensor.Int64, 1, 4, 5, 5), tensor.New(tensor.Float32, 2, 4, 3, 3)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := rtErr(13, "Conv", tc.in, tc.attrs...); err == nil {
				t.Error("got no error")
			}
		})
	}
	for _, tc := range []struct {
		name  string
		attrs []*onnx.Attribute
	}{
		{"bad-auto_pad", []*onnx.Attribute{aString("auto_pad", "SAME")}},
		{"group0", []*onnx.Attribute{aInt("group", 0)}},
		{"stride0", []*onnx.Attribute{aInts("strides", 0, 1)}},
		{"negative-pad", []*onnx.Attribute{aInts("pads", -1, 0, 0, 0)}},
		{"pads-wrong-length", []*onnx.Attribute{aInts("kernel_shape", 3, 3), aInts("pads", 1, 1)}},
		{"3-D", []*onnx.Attribute{aInts("kernel_shape", 3, 3, 3)}},
	} {
		t.Run("build/"+tc.name, func(t *testing.T) {
			_, err := Build(rtNode("Conv", tc.attrs...), 13)
			var ue *UnsupportedError
			if err == nil {
				t.Fatal("got no error")
			}
			if !asUnsupported(err, &ue) {
				t.Errorf("error %T is not *UnsupportedError", err)
			}
		})
	}
}

func asUnsupported(err error, target **UnsupportedError) bool {
	ue, ok := err.(*UnsupportedError)
	if ok {
		*target = ue
	}
	return ok
}
