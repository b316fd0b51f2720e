package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// refBroadcastIndex maps an output index onto the flat index of an input of
// shape s right-aligned against out (numpy broadcasting).
func refBroadcastIndex(outIdx []int, s []int) int {
	off := len(outIdx) - len(s)
	flat := 0
	for i, d := range s {
		v := outIdx[off+i]
		if d == 1 {
			v = 0
		}
		flat = flat*d + v
	}
	return flat
}

func refBroadcastShape(a, b []int) []int {
	rank := max(len(a), len(b))
	out := make([]int, rank)
	for i := range out {
		da, db := 1, 1
		if j := i - (rank - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (rank - len(b)); j >= 0 {
			db = b[j]
		}
		out[i] = max(da, db)
		if da == 0 || db == 0 {
			out[i] = 0
		}
	}
	return out
}

var refFloatOps = map[string]func(x, y float64) float64{
	"Add": func(x, y float64) float64 { return x + y },
	"Sub": func(x, y float64) float64 { return x - y },
	"Mul": func(x, y float64) float64 { return x * y },
	"Div": func(x, y float64) float64 { return x / y },
}

func TestBinaryBroadcastReference(t *testing.T) {
	shapes := []struct {
		name string
		a, b []int
	}{
		{"same-shape", []int{2, 3, 4}, []int{2, 3, 4}},
		{"scalar-right", []int{2, 3, 4}, []int{}},
		{"scalar-left", []int{}, []int{3, 5}},
		{"one-element-1D", []int{2, 3}, []int{1}},
		{"[C,1,1]-vs-NCHW", []int{2, 3, 4, 5}, []int{3, 1, 1}},
		{"[1,C,1,1]-vs-NCHW", []int{2, 3, 4, 5}, []int{1, 3, 1, 1}},
		{"NCHW-vs-[1,C,1,1]-left", []int{1, 3, 1, 1}, []int{2, 3, 4, 5}},
		{"rank-mismatch-trailing", []int{2, 3, 4}, []int{4}},
		{"rank-mismatch-middle", []int{2, 3, 4}, []int{3, 1}},
		{"both-sides-[3,1]x[1,4]", []int{3, 1}, []int{1, 4}},
		{"both-sides-[3,1]x[4]", []int{3, 1}, []int{4}},
		{"both-sides-4D", []int{2, 1, 4, 1}, []int{1, 3, 1, 5}},
		{"inner-broadcast-[4,1]x[4,6]", []int{4, 1}, []int{4, 6}},
		{"outer-broadcast-[1,6]x[4,6]", []int{1, 6}, []int{4, 6}},
		{"alternating", []int{2, 1, 3, 1, 2}, []int{1, 4, 1, 5, 1}},
		{"size-1-dims-everywhere", []int{1, 1, 3}, []int{1, 2, 1}},
		{"large/parallel", []int{3, 64, 257}, []int{64, 1}},
		{"large/same/parallel", []int{5, 80, 81}, []int{5, 80, 81}},
	}
	r := rtRand(20)
	for _, kind := range []string{"Add", "Sub", "Mul", "Div"} {
		for _, s := range shapes {
			t.Run(kind+"/"+s.name, func(t *testing.T) {
				a, b := randT(r, s.a...), randT(r, s.b...)
				if kind == "Div" {
					// keep divisors away from zero
					for i, v := range b.F32 {
						b.F32[i] = float32(math.Copysign(0.5+math.Abs(float64(v)), float64(v)))
					}
				}
				outShape := refBroadcastShape(s.a, s.b)
				n := tensor.NumElements(outShape)
				want := make([]float64, n)
				for i := range want {
					idx := unravel(i, outShape)
					x := float64(a.F32[refBroadcastIndex(idx, s.a)])
					y := float64(b.F32[refBroadcastIndex(idx, s.b)])
					// float32 arithmetic, as the kernel does
					want[i] = float64(float32(refFloatOps[kind](x, y)))
				}
				for _, workers := range []int{1, 4} {
					op := rtBuild(t, 14, kind)
					out := rtMust(t, op, workers, 1, []*tensor.Tensor{a, b}, allConst)
					t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
						checkClose(t, out[0], outShape, want, 1e-6)
					})
				}
			})
		}
	}
}

func TestBinaryHand(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, 4, 5, 6)
	col := f32(sh(2, 1), 10, 20)
	row := f32(sh(3), 1, 2, 4)
	for _, tc := range []struct {
		name  string
		op    string
		a, b  *tensor.Tensor
		shape []int
		want  []float32
	}{
		{"Add/col", "Add", x, col, sh(2, 3), []float32{11, 12, 13, 24, 25, 26}},
		{"Add/row", "Add", x, row, sh(2, 3), []float32{2, 4, 7, 5, 7, 10}},
		{"Sub/col-left", "Sub", col, x, sh(2, 3), []float32{9, 8, 7, 16, 15, 14}},
		{"Mul/scalar", "Mul", x, f32(sh(), -2), sh(2, 3), []float32{-2, -4, -6, -8, -10, -12}},
		{"Div/row", "Div", x, row, sh(2, 3), []float32{1, 1, 0.75, 4, 2.5, 1.5}},
		{"Div/by-zero-float", "Div", f32(sh(3), 1, -1, 0), f32(sh(), 0), sh(3), []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}},
		{"Add/[3,1]x[1,4]", "Add", f32(sh(3, 1), 0, 10, 20), f32(sh(1, 4), 1, 2, 3, 4), sh(3, 4), []float32{1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkF(t, rtOne(t, 14, tc.op, []*tensor.Tensor{tc.a, tc.b}), tc.shape, tc.want...)
		})
	}
}

func TestBinaryInt64(t *testing.T) {
	x := i64(sh(2, 3), 7, -7, 8, 0, 100, -9)
	for _, tc := range []struct {
		name  string
		op    string
		a, b  *tensor.Tensor
		shape []int
		want  []int64
	}{
		{"Add/same", "Add", x, x, sh(2, 3), []int64{14, -14, 16, 0, 200, -18}},
		{"Add/[2,1]", "Add", x, i64(sh(2, 1), 1, 1000), sh(2, 3), []int64{8, -6, 9, 1000, 1100, 991}},
		{"Sub/scalar-left", "Sub", i64(sh(), 1), x, sh(2, 3), []int64{-6, 8, -7, 1, -99, 10}},
		{"Mul/row", "Mul", x, i64(sh(3), 2, -1, 3), sh(2, 3), []int64{14, 7, 24, 0, -100, -27}},
		// Integer division truncates toward zero (as C and ONNX Runtime do).
		{"Div/truncates-toward-zero", "Div", x, i64(sh(), 2), sh(2, 3), []int64{3, -3, 4, 0, 50, -4}},
		{"Div/negative-divisor", "Div", i64(sh(4), 7, -7, 6, -6), i64(sh(4), -2, -2, -4, 4), sh(4), []int64{-3, 3, -1, -1}},
		{"Add/[3,1]x[1,4]", "Add", i64(sh(3, 1), 0, 10, 20), i64(sh(1, 4), 1, 2, 3, 4), sh(3, 4), []int64{1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24}},
		{"Mul/large-values", "Mul", i64(sh(1), 1<<40), i64(sh(1), 3), sh(1), []int64{3 << 40}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkI(t, rtOne(t, 14, tc.op, []*tensor.Tensor{tc.a, tc.b}), tensor.Int64, tc.shape, tc.want...)
		})
	}
	t.Run("Div/by-zero-is-an-error", func(t *testing.T) {
		err := rtErr(14, "Div", []*tensor.Tensor{i64(sh(3), 1, 2, 3), i64(sh(3), 1, 0, 1)})
		wantErr(t, err, "division by zero")
	})
	t.Run("mixed-types-refused", func(t *testing.T) {
		if err := rtErr(14, "Add", []*tensor.Tensor{i64(sh(3), 1, 2, 3), f32(sh(3), 1, 2, 3)}); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("incompatible-shapes-refused", func(t *testing.T) {
		if err := rtErr(14, "Add", []*tensor.Tensor{tensor.New(tensor.Float32, 2, 3), tensor.New(tensor.Float32, 2, 4)}); err == nil {
			t.Error("got no error")
		}
	})
}

// Empty tensors are legal ONNX values (a zero-length sequence, a batch of
// nothing); broadcasting them gives an empty result.
func TestBinaryEmpty(t *testing.T) {
	for _, tc := range []struct {
		name       string
		a, b, want []int
	}{
		{"[0,3]+[0,3]", []int{0, 3}, []int{0, 3}, []int{0, 3}},
		{"[2,0]+[1]", []int{2, 0}, []int{1}, []int{2, 0}},
		{"[0]+scalar", []int{0}, []int{}, []int{0}},
	} {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Int64} {
			t.Run(tc.name+"/"+dt.String(), func(t *testing.T) {
				op := rtBuild(t, 14, "Add")
				out, err := rtEval(op, 1, 1, []*tensor.Tensor{tensor.New(dt, tc.a...), tensor.New(dt, tc.b...)}, allConst)
				if err != nil {
					t.Fatal(err)
				}
				checkShape(t, out[0], dt, tc.want)
			})
		}
	}
}

func TestBinaryFusedActivation(t *testing.T) {
	op := rtBuild(t, 14, "Add")
	if !op.(Fusable).FuseActivation(Activation{Kind: ClipActivation, Min: 0, Max: 6}) {
		t.Fatal("FuseActivation refused")
	}
	out := rtMust(t, op, 1, 1, []*tensor.Tensor{f32(sh(4), -3, 1, 5, 9), f32(sh(), 1)}, allConst)
	checkF(t, out[0], sh(4), 0, 2, 6, 6)
}

func TestUnaryHand(t *testing.T) {
	x := f32(sh(2, 3), -2, -0.5, 0, 0.5, 2, 100)
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name  string
		opset int64
		op    string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		want  []float32
	}{
		{"Relu", 14, "Relu", []*tensor.Tensor{x}, nil, []float32{0, 0, 0, 0.5, 2, 100}},
		{"Relu/inf", 14, "Relu", []*tensor.Tensor{f32(sh(2), -inf, inf)}, nil, []float32{0, inf}},
		// 1/(1+e^2) = 0.11920292, 1/(1+e^0.5) = 0.37754067, sigmoid(100) = 1.
		{"Sigmoid", 13, "Sigmoid", []*tensor.Tensor{x}, nil, []float32{0.11920292, 0.37754067, 0.5, 0.62245933, 0.88079708, 1}},
		{"Sigmoid/extremes", 13, "Sigmoid", []*tensor.Tensor{f32(sh(3), -1000, 1000, -inf)}, nil, []float32{0, 1, 0}},
		{"Clip/opset6-attrs", 6, "Clip", []*tensor.Tensor{x}, []*onnx.Attribute{aFloat("min", -1), aFloat("max", 1)}, []float32{-1, -0.5, 0, 0.5, 1, 1}},
		{"Clip/opset6-min-only", 6, "Clip", []*tensor.Tensor{x}, []*onnx.Attribute{aFloat("min", 0.25)}, []float32{0.25, 0.25, 0.25, 0.5, 2, 100}},
		{"Clip/opset6-max-only", 6, "Clip", []*tensor.Tensor{x}, []*onnx.Attribute{aFloat("max", 0)}, []float32{-2, -0.5, 0, 0, 0, 0}},
		{"Clip/opset6-no-bounds", 6, "Clip", []*tensor.Tensor{x}, nil, []float32{-2, -0.5, 0, 0.5, 2, 100}},
		{"Clip/opset11-inputs", 11, "Clip", []*tensor.Tensor{x, f32(sh(), -1), f32(sh(), 1)}, nil, []float32{-1, -0.5, 0, 0.5, 1, 1}},
		{"Clip/opset11-min-only", 11, "Clip", []*tensor.Tensor{x, f32(sh(), 0)}, nil, []float32{0, 0, 0, 0.5, 2, 100}},
		{"Clip/opset13-max-only", 13, "Clip", []*tensor.Tensor{x, nil, f32(sh(), 0.5)}, nil, []float32{-2, -0.5, 0, 0.5, 0.5, 0.5}},
		{"Clip/opset13-none", 13, "Clip", []*tensor.Tensor{x}, nil, []float32{-2, -0.5, 0, 0.5, 2, 100}},
		{"Clip/opset13-relu6", 13, "Clip", []*tensor.Tensor{x, f32(sh(), 0), f32(sh(), 6)}, nil, []float32{0, 0, 0, 0.5, 2, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkF(t, rtOne(t, tc.opset, tc.op, tc.in, tc.attrs...), tc.in[0].Shape, tc.want...)
		})
	}
}

func TestUnaryLargeParallel(t *testing.T) {
	r := rtRand(21)
	x := randT(r, 3, 100, 130) // > minParallel elements
	for i := range x.F32 {
		x.F32[i] *= 8
	}
	for _, tc := range []struct {
		name  string
		opset int64
		op    string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		ref   func(float64) float64
	}{
		{"Relu", 14, "Relu", []*tensor.Tensor{x}, nil, func(v float64) float64 { return math.Max(v, 0) }},
		{"Sigmoid", 13, "Sigmoid", []*tensor.Tensor{x}, nil, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
		{"Clip", 13, "Clip", []*tensor.Tensor{x, f32(sh(), -2), f32(sh(), 3)}, nil, func(v float64) float64 { return math.Min(math.Max(v, -2), 3) }},
	} {
		want := make([]float64, x.Len())
		for i, v := range x.F32 {
			want[i] = tc.ref(float64(v))
		}
		for _, workers := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/workers=%d", tc.name, workers), func(t *testing.T) {
				op := rtBuild(t, tc.opset, tc.op, tc.attrs...)
				out := rtMust(t, op, workers, 1, tc.in, allConst)
				checkClose(t, out[0], x.Shape, want, 1e-6)
			})
		}
	}
}

func TestUnaryErrors(t *testing.T) {
	x := tensor.New(tensor.Float32, 4)
	t.Run("Clip/opset11-attr-refused", func(t *testing.T) {
		_, err := Build(rtNode("Clip", aFloat("min", 0)), 11)
		if err == nil {
			t.Error("got no error")
		}
	})
	t.Run("Clip/opset11-runtime-bound-refused", func(t *testing.T) {
		op := rtBuild(t, 11, "Clip")
		if _, err := rtEval(op, 1, 1, []*tensor.Tensor{x, f32(sh(), 0)}, constAt(2, 0)); err == nil {
			t.Error("a non-constant bound was accepted")
		}
	})
	t.Run("Relu/int64-refused", func(t *testing.T) {
		if err := rtErr(14, "Relu", []*tensor.Tensor{tensor.New(tensor.Int64, 3)}); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("Clip/Activation-reporting", func(t *testing.T) {
		op := rtBuild(t, 6, "Clip", aFloat("min", 0), aFloat("max", 6))
		a, ok := op.(interface{ Activation() (Activation, bool) }).Activation()
		if !ok || a.Kind != ClipActivation || a.Min != 0 || a.Max != 6 {
			t.Errorf("Activation() = %+v, %v; want Clip(0, 6)", a, ok)
		}
		sig := rtBuild(t, 13, "Sigmoid")
		if _, ok := sig.(interface{ Activation() (Activation, bool) }).Activation(); ok {
			t.Error("Sigmoid reports itself as fusable")
		}
	})
}

func TestIdentityAndDropout(t *testing.T) {
	x := f32(sh(2, 2), 1, -2, 3, -4)
	t.Run("Identity/float", func(t *testing.T) {
		checkF(t, rtOne(t, 14, "Identity", []*tensor.Tensor{x}), sh(2, 2), 1, -2, 3, -4)
	})
	t.Run("Identity/int64", func(t *testing.T) {
		checkI(t, rtOne(t, 14, "Identity", []*tensor.Tensor{i64(sh(3), 5, -6, 7)}), tensor.Int64, sh(3), 5, -6, 7)
	})
	t.Run("Dropout/opset13-mask-all-ones", func(t *testing.T) {
		op := rtBuild(t, 13, "Dropout")
		out := rtMust(t, op, 1, 2, []*tensor.Tensor{x, f32(sh(), 0.5)}, allConst)
		checkF(t, out[0], sh(2, 2), 1, -2, 3, -4)
		checkI(t, out[1], tensor.Bool, sh(2, 2), 1, 1, 1, 1)
	})
	t.Run("Dropout/opset7-ratio-attr", func(t *testing.T) {
		op := rtBuild(t, 7, "Dropout", aFloat("ratio", 0.3))
		out := rtMust(t, op, 1, 1, []*tensor.Tensor{x}, allConst)
		checkF(t, out[0], sh(2, 2), 1, -2, 3, -4)
	})
	t.Run("Dropout/training_mode-false", func(t *testing.T) {
		op := rtBuild(t, 13, "Dropout")
		out := rtMust(t, op, 1, 2, []*tensor.Tensor{x, nil, i64(sh(), 0)}, allConst)
		checkF(t, out[0], sh(2, 2), 1, -2, 3, -4)
		checkI(t, out[1], tensor.Bool, sh(2, 2), 1, 1, 1, 1)
	})
	t.Run("Dropout/training_mode-true-is-an-error", func(t *testing.T) {
		tm := &tensor.Tensor{DType: tensor.Bool, Shape: []int{}, I64: []int64{1}}
		err := rtErr(13, "Dropout", []*tensor.Tensor{x, f32(sh(), 0.5), tm})
		wantErr(t, err, "training")
	})
	t.Run("Dropout/training_mode-runtime-refused", func(t *testing.T) {
		op := rtBuild(t, 13, "Dropout")
		tm := &tensor.Tensor{DType: tensor.Bool, Shape: []int{}, I64: []int64{0}}
		if _, err := rtEval(op, 1, 1, []*tensor.Tensor{x, nil, tm}, constAt(3, 0)); err == nil {
			t.Error("a non-constant training_mode was accepted")
		}
	})
	t.Run("Dropout/is_test=0-refused", func(t *testing.T) {
		_, err := Build(rtNode("Dropout", aInt("is_test", 0)), 7)
		if err == nil {
			t.Error("got no error")
		}
	})
}
