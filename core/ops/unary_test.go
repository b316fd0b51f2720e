package ops

import (
	"math"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

var (
	inf = float32(math.Inf(1))
	nan = float32(math.NaN())
)

func TestPointwiseFloat(t *testing.T) {
	x := f32(sh(2, 3), -2, -0.5, 0, 0.5, 1, 3)
	e := math.E
	gelu := func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) }
	sp := func(v float64) float64 { return math.Log(1 + math.Exp(v)) }
	for _, tc := range []struct {
		op    string
		opset int64
		attrs []*onnx.Attribute
		want  []float64
	}{
		{"Exp", 13, nil, []float64{1 / (e * e), math.Exp(-0.5), 1, math.Exp(0.5), e, e * e * e}},
		{"Tanh", 13, nil, []float64{math.Tanh(-2), math.Tanh(-0.5), 0, math.Tanh(0.5), math.Tanh(1), math.Tanh(3)}},
		{"Erf", 13, nil, []float64{-0.9953222650189527, -0.5204998778130465, 0, 0.5204998778130465, 0.8427007929497149, 0.9999779095030014}},
		{"Abs", 13, nil, []float64{2, 0.5, 0, 0.5, 1, 3}},
		{"Neg", 13, nil, []float64{2, 0.5, 0, -0.5, -1, -3}},
		{"Reciprocal", 13, nil, []float64{-0.5, -2, math.Inf(1), 2, 1, 1.0 / 3}},
		{"Floor", 13, nil, []float64{-2, -1, 0, 0, 1, 3}},
		{"Ceil", 13, nil, []float64{-2, 0, 0, 1, 1, 3}},
		// halves round to even
		{"Round", 13, nil, []float64{-2, 0, 0, 0, 1, 3}},
		{"Sign", 13, nil, []float64{-1, -1, 0, 1, 1, 1}},
		{"Sin", 13, nil, []float64{math.Sin(-2), math.Sin(-0.5), 0, math.Sin(0.5), math.Sin(1), math.Sin(3)}},
		{"Cos", 13, nil, []float64{math.Cos(-2), math.Cos(-0.5), 1, math.Cos(0.5), math.Cos(1), math.Cos(3)}},
		{"HardSigmoid", 13, nil, []float64{0.1, 0.4, 0.5, 0.6, 0.7, 1}},
		{"HardSigmoid", 13, []*onnx.Attribute{aFloat("alpha", 0.5), aFloat("beta", 0.25)}, []float64{0, 0, 0.25, 0.5, 0.75, 1}},
		{"HardSwish", 14, nil, []float64{-2 * (1.0 / 6), -0.5 * (5.0 / 12), 0, 0.5 * (7.0 / 12), 1 * (2.0 / 3), 3}},
		{"LeakyRelu", 13, nil, []float64{-0.02, -0.005, 0, 0.5, 1, 3}},
		{"LeakyRelu", 13, []*onnx.Attribute{aFloat("alpha", 0.1)}, []float64{-0.2, -0.05, 0, 0.5, 1, 3}},
		{"Elu", 13, []*onnx.Attribute{aFloat("alpha", 2)}, []float64{2 * (1/(e*e) - 1), 2 * (math.Exp(-0.5) - 1), 0, 0.5, 1, 3}},
		{"Selu", 13, nil, []float64{1.0507009873554805 * 1.6732632423543772 * (1/(e*e) - 1), 1.0507009873554805 * 1.6732632423543772 * (math.Exp(-0.5) - 1), 0, 1.0507009873554805 * 0.5, 1.0507009873554805, 1.0507009873554805 * 3}},
		{"Celu", 13, []*onnx.Attribute{aFloat("alpha", 2)}, []float64{2 * (math.Exp(-1) - 1), 2 * (math.Exp(-0.25) - 1), 0, 0.5, 1, 3}},
		{"Softplus", 13, nil, []float64{sp(-2), sp(-0.5), math.Ln2, sp(0.5), sp(1), sp(3)}},
		{"Softsign", 13, nil, []float64{-2.0 / 3, -0.5 / 1.5, 0, 0.5 / 1.5, 0.5, 0.75}},
		{"Mish", 18, nil, []float64{-2 * math.Tanh(sp(-2)), -0.5 * math.Tanh(sp(-0.5)), 0, 0.5 * math.Tanh(sp(0.5)), math.Tanh(sp(1)), 3 * math.Tanh(sp(3))}},
		{"ThresholdedRelu", 13, []*onnx.Attribute{aFloat("alpha", 0.5)}, []float64{0, 0, 0, 0, 1, 3}},
		{"Gelu", 20, nil, []float64{gelu(-2), gelu(-0.5), 0, gelu(0.5), gelu(1), gelu(3)}},
		// 0.5·x·(1+tanh(√(2/π)·(x+0.044715x³))) at x = 1: 0.8411919906.
		{"Gelu", 20, []*onnx.Attribute{aString("approximate", "tanh")}, []float64{-0.04540230591222, -0.1542859904, 0, 0.3457140096, 0.8411919906, 2.9963625589}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			for _, workers := range []int{1, 3} {
				out := rtMust(t, rtBuild(t, tc.opset, tc.op, tc.attrs...), workers, 1, []*tensor.Tensor{x}, allConst)
				checkClose(t, out[0], sh(2, 3), tc.want, 2e-7)
			}
		})
	}
}

func TestPointwiseLogSqrtDomain(t *testing.T) {
	x := f32(sh(5), -1, 0, 1, 4, inf)
	checkClose(t, rtOne(t, 13, "Sqrt", []*tensor.Tensor{x}), sh(5), []float64{math.NaN(), 0, 1, 2, math.Inf(1)}, 1e-7)
	checkClose(t, rtOne(t, 13, "Log", []*tensor.Tensor{x}), sh(5), []float64{math.NaN(), math.Inf(-1), 0, math.Log(4), math.Inf(1)}, 1e-7)
	// NaN passes through every activation.
	for _, op := range []string{"Tanh", "Erf", "HardSigmoid", "LeakyRelu", "Softplus", "Abs", "Round"} {
		checkClose(t, rtOne(t, 13, op, []*tensor.Tensor{f32(sh(1), nan)}), sh(1), []float64{math.NaN()}, 0)
	}
	// Softplus and Gelu stay finite and exact at the extremes.
	checkClose(t, rtOne(t, 13, "Softplus", []*tensor.Tensor{f32(sh(2), 100, -100)}), sh(2), []float64{100, math.Exp(-100)}, 1e-7)
	checkClose(t, rtOne(t, 20, "Gelu", []*tensor.Tensor{f32(sh(2), 10, -10)}), sh(2), []float64{10, 0}, 1e-7)
}

func TestPointwiseIntegerAndBool(t *testing.T) {
	x := i64(sh(4), -3, 0, 2, math.MinInt64)
	checkI(t, rtOne(t, 13, "Abs", []*tensor.Tensor{x}), tensor.Int64, sh(4), 3, 0, 2, math.MinInt64)
	checkI(t, rtOne(t, 13, "Neg", []*tensor.Tensor{x}), tensor.Int64, sh(4), 3, 0, -2, math.MinInt64)
	checkI(t, rtOne(t, 13, "Sign", []*tensor.Tensor{x}), tensor.Int64, sh(4), -1, 0, 1, -1)
	// int8 wraps: -(-128) is -128.
	x8 := &tensor.Tensor{DType: tensor.Int8, Shape: sh(2), I64: []int64{-128, 5}}
	checkI(t, rtOne(t, 13, "Neg", []*tensor.Tensor{x8}), tensor.Int8, sh(2), -128, -5)

	b := &tensor.Tensor{DType: tensor.Bool, Shape: sh(3), I64: []int64{1, 0, 1}}
	checkI(t, rtOne(t, 13, "Not", []*tensor.Tensor{b}), tensor.Bool, sh(3), 0, 1, 0)

	f := f32(sh(4), nan, inf, -inf, 1)
	checkI(t, rtOne(t, 13, "IsNaN", []*tensor.Tensor{f}), tensor.Bool, sh(4), 1, 0, 0, 0)
	checkI(t, rtOne(t, 13, "IsInf", []*tensor.Tensor{f}), tensor.Bool, sh(4), 0, 1, 1, 0)
	checkI(t, rtOne(t, 13, "IsInf", []*tensor.Tensor{f}, aInt("detect_negative", 0)), tensor.Bool, sh(4), 0, 1, 0, 0)
	checkI(t, rtOne(t, 13, "IsInf", []*tensor.Tensor{f}, aInt("detect_positive", 0)), tensor.Bool, sh(4), 0, 0, 1, 0)
}

func TestPointwiseEmptyAndScalar(t *testing.T) {
	checkF(t, rtOne(t, 13, "Exp", []*tensor.Tensor{tensor.New(tensor.Float32, 2, 0)}), sh(2, 0))
	checkF(t, rtOne(t, 13, "Exp", []*tensor.Tensor{f32(sh(), 0)}), sh(), 1)
}

func TestPointwiseLarge(t *testing.T) {
	// Large enough to be split over workers: every chunk written.
	r := rtRand(7)
	x := randT(r, 3, 100, 200)
	want := make([]float64, x.Len())
	for i, v := range x.F32 {
		want[i] = math.Tanh(float64(v))
	}
	out := rtMust(t, rtBuild(t, 13, "Tanh"), 4, 1, []*tensor.Tensor{x}, allConst)
	checkClose(t, out[0], sh(3, 100, 200), want, 2e-7)
}

func TestPointwiseRefused(t *testing.T) {
	wantErr(t, rtErr(13, "Exp", []*tensor.Tensor{i64(sh(1), 1)}), "int64", "float")
	wantErr(t, rtErr(13, "Abs", []*tensor.Tensor{{DType: tensor.Bool, Shape: sh(1), I64: []int64{1}}}), "bool", "float or integer")
	wantErr(t, rtErr(13, "Not", []*tensor.Tensor{f32(sh(1), 1)}), "want bool")
	wantErr(t, rtErr(13, "IsNaN", []*tensor.Tensor{i64(sh(1), 1)}), "float")
	wantErr(t, rtErr(20, "Gelu", []*tensor.Tensor{f32(sh(1), 1)}, aString("approximate", "erf")), "approximate", "tanh")
	wantErr(t, rtErr(13, "Celu", []*tensor.Tensor{f32(sh(1), 1)}, aFloat("alpha", 0)), "alpha")
	// Operators newer than the model's opset are refused by it.
	for _, c := range []struct {
		op    string
		opset int64
	}{{"Gelu", 19}, {"HardSwish", 13}, {"Mish", 17}, {"Celu", 11}, {"Round", 10}} {
		wantErr(t, rtErr(c.opset, c.op, []*tensor.Tensor{f32(sh(1), 1)}), "needs opset")
	}
	wantErr(t, rtErr(13, "Elu", []*tensor.Tensor{f32(sh(1), 1)}, aFloat("gamma", 1)), "attribute gamma not supported")
}

// The rational erf and tanh are as accurate as float32 allows, everywhere:
// compared with math's over a dense grid, after rounding both to float32.
// GELU is too, but for the cancellation of 1+erf in its negative tail
// (an absolute error of about 0.5·|x|·1e-7).
func TestErfTanhGeluAccuracy(t *testing.T) {
	gelu := rtBuild(t, 20, "Gelu")
	const n = 200001
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(-10 + 20*float64(i)/(n-1))
	}
	in := []*tensor.Tensor{tensor.FromFloat32(x, n)}
	out := rtMust(t, gelu, 2, 1, in, allConst)[0]
	for i, v := range x {
		if v < 0 && out.F32[i] > 0 {
			t.Fatalf("Gelu(%g) = %g: positive for a negative input", v, out.F32[i])
		}
	}
	for _, c := range []struct {
		name  string
		got   func(i int) float64
		exact func(float64) float64
		rtol  float64
	}{
		{"erf", func(i int) float64 { return float64(float32(erf(float64(x[i])))) }, math.Erf, 1.3e-7},
		{"tanh", func(i int) float64 { return float64(float32(tanh(float64(x[i])))) }, math.Tanh, 2.4e-7},
		{"Gelu", func(i int) float64 { return float64(out.F32[i]) },
			func(v float64) float64 { return 0.5 * v * math.Erfc(-v/math.Sqrt2) }, 2.4e-7},
	} {
		worst, at := 0.0, 0.0
		for i, v := range x {
			w := float64(float32(c.exact(float64(v))))
			scale := math.Abs(w)
			if c.name == "Gelu" {
				scale = max(scale, 0.5*math.Abs(float64(v)))
			}
			if scale == 0 {
				continue
			}
			if e := math.Abs(c.got(i)-w) / scale; e > worst {
				worst, at = e, float64(v)
			}
		}
		if worst > c.rtol {
			t.Errorf("%s: relative error %.3g at x = %g, want at most %.3g", c.name, worst, at, c.rtol)
		}
	}
}

// TestVectorSameAsGo checks the vector GELU and Erf against gelu and
// erf bit for bit (NaNs as NaNs) on random activations of several scales
// and on the special values: infinities, zeros of both signs,
// subnormals, the ends of erf's clamp (x/√2 = ±4 for GELU, x = ±4 for
// Erf) and of float32.
func TestVectorSameAsGo(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var src []float32
	for _, scale := range []float64{1e-3, 1, 3, 10, 1e3} {
		for i := 0; i < 4000; i++ {
			src = append(src, float32(r.NormFloat64()*scale))
		}
	}
	src = append(src, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32, 1e-30, -1e-30)
	for _, edge := range []float32{4, 4 * math.Sqrt2} {
		src = append(src, edge, -edge, math.Nextafter32(edge, 0), math.Nextafter32(-edge, 0), math.Nextafter32(edge, 10), math.Nextafter32(-edge, -10))
	}
	for _, c := range []struct {
		name string
		fast func(dst, src []float32) int
		f    func(float64) float64
	}{{"Gelu", geluFast, gelu}, {"Erf", erfFast, erf}} {
		t.Run(c.name, func(t *testing.T) {
			dst := make([]float32, len(src))
			n := c.fast(dst, src)
			if n == 0 {
				t.Skip("no vector kernel on this machine or build")
			}
			if n != len(src)&^3 {
				t.Fatalf("did %d of %d values", n, len(src))
			}
			for i, x := range src[:n] {
				want := float32(c.f(float64(x)))
				if got := dst[i]; math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
					t.Errorf("%s(%g) = %g (%#x) in the vector kernel, %g (%#x) in Go", c.name, x, got, math.Float32bits(got), want, math.Float32bits(want))
				}
			}
		})
	}
}
