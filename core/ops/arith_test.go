package ops

import (
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

func bools(shape []int, v ...int64) *tensor.Tensor {
	return &tensor.Tensor{DType: tensor.Bool, Shape: shape, I64: append([]int64(nil), v...)}
}

func TestVariadic(t *testing.T) {
	a := f32(sh(2, 3), 1, 5, -2, 4, nan, 0)
	col := f32(sh(2, 1), 3, -1)
	row := f32(sh(3), 0, 10, -5)
	for _, tc := range []struct {
		op    string
		in    []*tensor.Tensor
		shape []int
		want  []float64
	}{
		{"Max", []*tensor.Tensor{a}, sh(2, 3), []float64{1, 5, -2, 4, math.NaN(), 0}},
		// three-way broadcast; NaN propagates
		{"Max", []*tensor.Tensor{a, col, row}, sh(2, 3), []float64{3, 10, 3, 4, math.NaN(), 0}},
		{"Min", []*tensor.Tensor{a, col, row}, sh(2, 3), []float64{0, 3, -5, -1, math.NaN(), -5}},
		{"Sum", []*tensor.Tensor{col, row}, sh(2, 3), []float64{3, 13, -2, -1, 9, -6}},
		{"Mean", []*tensor.Tensor{col, row}, sh(2, 3), []float64{1.5, 6.5, -1, -0.5, 4.5, -3}},
		{"Mean", []*tensor.Tensor{col, row, f32(sh(), 3)}, sh(2, 3), []float64{2, 16.0 / 3, 1.0 / 3, 2.0 / 3, 4, -1}},
		{"Sum", []*tensor.Tensor{f32(sh(2, 0), nil...), f32(sh(1), 1)}, sh(2, 0), nil},
	} {
		t.Run(tc.op, func(t *testing.T) {
			for _, workers := range []int{1, 3} {
				out := rtMust(t, rtBuild(t, 13, tc.op), workers, 1, tc.in, allConst)
				checkClose(t, out[0], tc.shape, tc.want, 1e-7)
			}
		})
	}
	// Integers for Max and Min.
	checkI(t, rtOne(t, 13, "Max", []*tensor.Tensor{i64(sh(3), 1, -7, 3), i64(sh(1), 2)}), tensor.Int64, sh(3), 2, 2, 3)
	checkI(t, rtOne(t, 13, "Min", []*tensor.Tensor{i64(sh(3), 1, -7, 3), i64(sh(1), 2)}), tensor.Int64, sh(3), 1, -7, 2)

	wantErr(t, rtErr(13, "Sum", []*tensor.Tensor{i64(sh(1), 1), i64(sh(1), 1)}), "int64", "Sum")
	wantErr(t, rtErr(13, "Max", []*tensor.Tensor{f32(sh(1), 1), i64(sh(1), 1)}), "input 1 is int64")
	wantErr(t, rtErr(13, "Max", []*tensor.Tensor{f32(sh(2), 1, 2), f32(sh(3), 1, 2, 3)}), "cannot be broadcast")
	wantErr(t, rtErr(13, "Max", nil), "at least one input")
}

func TestPow(t *testing.T) {
	x := f32(sh(2, 2), 2, -3, 4, 0.5)
	checkClose(t, rtOne(t, 15, "Pow", []*tensor.Tensor{x, f32(sh(), 2)}), sh(2, 2), []float64{4, 9, 16, 0.25}, 1e-7)
	checkClose(t, rtOne(t, 15, "Pow", []*tensor.Tensor{x, f32(sh(), 3)}), sh(2, 2), []float64{8, -27, 64, 0.125}, 1e-7)
	// √ of a negative base is NaN, as math.Pow's.
	checkClose(t, rtOne(t, 15, "Pow", []*tensor.Tensor{x, f32(sh(), 0.5)}), sh(2, 2), []float64{math.Sqrt2, math.NaN(), 2, math.Sqrt(0.5)}, 1e-7)
	checkClose(t, rtOne(t, 15, "Pow", []*tensor.Tensor{x, f32(sh(2, 1), -1, 1.5)}), sh(2, 2), []float64{0.5, -1.0 / 3, 8, math.Pow(0.5, 1.5)}, 1e-7)
	// an integer exponent on a float base
	checkClose(t, rtOne(t, 15, "Pow", []*tensor.Tensor{x, i64(sh(2), 2, 3)}), sh(2, 2), []float64{4, -27, 16, 0.125}, 1e-7)
	// integer bases: exact, wrapped to the type, negative exponents truncate
	checkI(t, rtOne(t, 15, "Pow", []*tensor.Tensor{i64(sh(5), 3, -2, 2, 1, -1), i64(sh(5), 4, 3, -1, -5, -3)}), tensor.Int64, sh(5), 81, -8, 0, 1, -1)
	i32 := &tensor.Tensor{DType: tensor.Int32, Shape: sh(1), I64: []int64{2}}
	checkI(t, rtOne(t, 15, "Pow", []*tensor.Tensor{i32, i64(sh(1), 31)}), tensor.Int32, sh(1), math.MinInt32)
	checkI(t, rtOne(t, 15, "Pow", []*tensor.Tensor{i64(sh(2), 9, 2), f32(sh(2), 0.5, 2.5)}), tensor.Int64, sh(2), 3, 5)
	wantErr(t, rtErr(15, "Pow", []*tensor.Tensor{i64(sh(1), 0), i64(sh(1), -1)}), "0 raised to a negative power")
	wantErr(t, rtErr(15, "Pow", []*tensor.Tensor{bools(sh(1), 1), i64(sh(1), 1)}), "bool")
}

func TestMod(t *testing.T) {
	a, b := i64(sh(4), 7, -7, 7, -7), i64(sh(4), 3, 3, -3, -3)
	// fmod=0: the divisor's sign (Python); fmod=1: the dividend's (C).
	checkI(t, rtOne(t, 13, "Mod", []*tensor.Tensor{a, b}), tensor.Int64, sh(4), 1, 2, -2, -1)
	checkI(t, rtOne(t, 13, "Mod", []*tensor.Tensor{a, b}, aInt("fmod", 1)), tensor.Int64, sh(4), 1, -1, 1, -1)
	checkClose(t, rtOne(t, 13, "Mod", []*tensor.Tensor{f32(sh(3), 5.5, -5.5, 1), f32(sh(1), 2)}, aInt("fmod", 1)), sh(3), []float64{1.5, -1.5, 1}, 1e-7)
	wantErr(t, rtErr(13, "Mod", []*tensor.Tensor{f32(sh(1), 1), f32(sh(1), 2)}), "fmod=1")
	wantErr(t, rtErr(13, "Mod", []*tensor.Tensor{a, i64(sh(1), 0)}), "modulo by zero")
}

func TestPRelu(t *testing.T) {
	x := f32(sh(1, 2, 2), -1, 2, -3, 4)
	// per-channel slope [C,1,1] broadcast to [N,C,L]
	checkF(t, rtOne(t, 16, "PRelu", []*tensor.Tensor{x, f32(sh(2, 1), 0.1, 0.5)}), sh(1, 2, 2), -0.1, 2, -1.5, 4)
	checkF(t, rtOne(t, 16, "PRelu", []*tensor.Tensor{x, f32(sh(1), 0.25)}), sh(1, 2, 2), -0.25, 2, -0.75, 4)
	// The slope must not grow the output.
	wantErr(t, rtErr(16, "PRelu", []*tensor.Tensor{f32(sh(2), 1, 2), f32(sh(3, 1), 1, 2, 3)}), "does not broadcast")
}

func TestCompareAndLogic(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, nan, 5, 6)
	y := f32(sh(3), 2, 2, 2)
	for _, tc := range []struct {
		op   string
		want []int64
	}{
		{"Equal", []int64{0, 1, 0, 0, 0, 0}},
		{"Less", []int64{1, 0, 0, 0, 0, 0}},
		{"Greater", []int64{0, 0, 1, 0, 1, 1}},
		{"LessOrEqual", []int64{1, 1, 0, 0, 0, 0}},
		{"GreaterOrEqual", []int64{0, 1, 1, 0, 1, 1}},
	} {
		for _, workers := range []int{1, 2} {
			out := rtMust(t, rtBuild(t, 16, tc.op), workers, 1, []*tensor.Tensor{x, y}, allConst)
			checkI(t, out[0], tensor.Bool, sh(2, 3), tc.want...)
		}
	}
	checkI(t, rtOne(t, 13, "Equal", []*tensor.Tensor{i64(sh(2, 1), 1, 2), i64(sh(1, 2), 2, 1)}), tensor.Bool, sh(2, 2), 0, 1, 1, 0)
	checkI(t, rtOne(t, 13, "Equal", []*tensor.Tensor{bools(sh(2), 1, 0), bools(sh(), 0)}), tensor.Bool, sh(2), 0, 1)

	p, q := bools(sh(2, 2), 0, 0, 1, 1), bools(sh(2), 0, 1)
	checkI(t, rtOne(t, 13, "And", []*tensor.Tensor{p, q}), tensor.Bool, sh(2, 2), 0, 0, 0, 1)
	checkI(t, rtOne(t, 13, "Or", []*tensor.Tensor{p, q}), tensor.Bool, sh(2, 2), 0, 1, 1, 1)
	checkI(t, rtOne(t, 13, "Xor", []*tensor.Tensor{p, q}), tensor.Bool, sh(2, 2), 0, 1, 1, 0)

	wantErr(t, rtErr(13, "And", []*tensor.Tensor{i64(sh(1), 1), i64(sh(1), 1)}), "want bool")
	wantErr(t, rtErr(13, "Less", []*tensor.Tensor{bools(sh(1), 1), bools(sh(1), 1)}), "numeric")
	wantErr(t, rtErr(13, "Less", []*tensor.Tensor{f32(sh(1), 1), i64(sh(1), 1)}), "types must match")
	wantErr(t, rtErr(11, "LessOrEqual", []*tensor.Tensor{f32(sh(1), 1), f32(sh(1), 1)}), "needs opset 12")
}

func TestWhere(t *testing.T) {
	cond := bools(sh(2, 1), 1, 0)
	x := f32(sh(3), 1, 2, 3)
	y := f32(sh(), -1)
	// condition [2,1], X [3], Y scalar: all three broadcast to [2,3]
	for _, workers := range []int{1, 2} {
		out := rtMust(t, rtBuild(t, 16, "Where"), workers, 1, []*tensor.Tensor{cond, x, y}, allConst)
		checkF(t, out[0], sh(2, 3), 1, 2, 3, -1, -1, -1)
	}
	// the condition alone sets the output's shape
	checkF(t, rtOne(t, 16, "Where", []*tensor.Tensor{bools(sh(2, 2), 1, 0, 0, 1), f32(sh(1), 5), f32(sh(2), 7, 8)}), sh(2, 2), 5, 8, 7, 5)
	// integers (the attention mask's -inf fill works on any type)
	checkI(t, rtOne(t, 16, "Where", []*tensor.Tensor{bools(sh(3), 0, 1, 0), i64(sh(3), 1, 2, 3), i64(sh(1), 0)}), tensor.Int64, sh(3), 0, 2, 0)
	checkF(t, rtOne(t, 16, "Where", []*tensor.Tensor{bools(sh(0)), f32(sh(1), 1), f32(sh(1), 2)}), sh(0))

	wantErr(t, rtErr(16, "Where", []*tensor.Tensor{f32(sh(1), 1), x, y}), "condition", "bool")
	wantErr(t, rtErr(16, "Where", []*tensor.Tensor{cond, x, i64(sh(1), 1)}), "types must match")
	wantErr(t, rtErr(16, "Where", []*tensor.Tensor{bools(sh(2), 1, 0), x, y}), "cannot be broadcast")
}

// Broadcasting can name outputs no tensor can have: ops.Infer refuses them
// (from metas only; nothing of that size is allocated).
func TestBroadcastOutputsChecked(t *testing.T) {
	f := func(s ...int) Meta { return Meta{DType: tensor.Float32, Shape: s} }
	b := func(s ...int) Meta { return Meta{DType: tensor.Bool, Shape: s} }
	for _, tc := range []struct {
		op string
		in []Meta
	}{
		{"Max", []Meta{f(1<<30, 1), f(1, 1<<30)}},
		{"Sum", []Meta{f(1<<21, 1, 1), f(1, 1<<21, 1), f(1 << 21)}},
		{"Pow", []Meta{f(1<<30, 1), f(1, 1<<30)}},
		{"Equal", []Meta{f(1<<30, 1), f(1, 1<<30)}},
		{"Where", []Meta{b(1<<21, 1, 1), f(1, 1<<21, 1), f(1 << 21)}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			_, err := Infer(rtBuild(t, 16, tc.op), tc.in, make([]*tensor.Tensor, len(tc.in)), []string{"y"})
			wantErr(t, err, `output "y"`, "elements")
		})
	}
}

// CastLike (what dynamo exports put beside scalars) casts to the type of
// its second input, whatever that input's shape or values.
func TestCastLike(t *testing.T) {
	checkI(t, rtOne(t, 15, "CastLike", []*tensor.Tensor{f32(sh(3), -1.7, 0, 2.9), i64(sh(2, 2), 9, 9, 9, 9)}), tensor.Int64, sh(3), -1, 0, 2)
	got := rtOne(t, 19, "CastLike", []*tensor.Tensor{i64(sh(), 3), f32(sh(1), 0)}, aInt("saturate", 1))
	checkF(t, got, sh(), 3)
	wantErr(t, rtErr(15, "CastLike", []*tensor.Tensor{f32(sh(1), 1)}), "want 2")
	wantErr(t, rtErr(14, "CastLike", []*tensor.Tensor{f32(sh(1), 1), f32(sh(1), 1)}), "needs opset 15")
}
