package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// refReduce reduces x over the axes in mask with f folding float64 values
// from init, in the plainest way: every input element is added to the
// output element its kept indices name.
func refReduce(x *tensor.Tensor, mask []bool, init float64, f func(acc, v float64) float64) (shape []int, out []float64) {
	for i, d := range x.Shape {
		if mask[i] {
			d = 1
		}
		shape = append(shape, d)
	}
	out = make([]float64, tensor.NumElements(shape))
	for i := range out {
		out[i] = init
	}
	for i, v := range x.F32 {
		idx := unravel(i, x.Shape)
		for d := range idx {
			if mask[d] {
				idx[d] = 0
			}
		}
		o := 0
		for d, n := range shape {
			o = o*n + idx[d]
		}
		out[o] = f(out[o], float64(v))
	}
	return shape, out
}

func TestReduceReference(t *testing.T) {
	r := rtRand(11)
	x := randT(r, 3, 4, 5, 6)
	sum := func(a, v float64) float64 { return a + v }
	kinds := []struct {
		op     string
		init   float64
		f      func(a, v float64) float64
		finish func(acc float64, n int) float64
	}{
		{"ReduceSum", 0, sum, nil},
		{"ReduceMean", 0, sum, func(a float64, n int) float64 { return a / float64(n) }},
		{"ReduceMax", math.Inf(-1), math.Max, nil},
		{"ReduceMin", math.Inf(1), math.Min, nil},
		{"ReduceProd", 1, func(a, v float64) float64 { return a * (v + 1.5) }, nil},
		{"ReduceSumSquare", 0, func(a, v float64) float64 { return a + v*v }, nil},
		{"ReduceL1", 0, func(a, v float64) float64 { return a + math.Abs(v) }, nil},
		{"ReduceL2", 0, func(a, v float64) float64 { return a + v*v }, func(a float64, _ int) float64 { return math.Sqrt(a) }},
		{"ReduceLogSumExp", 0, func(a, v float64) float64 { return a + math.Exp(v) }, func(a float64, _ int) float64 { return math.Log(a) }},
		{"ReduceLogSum", 0, func(a, v float64) float64 { return a + v + 1.5 }, func(a float64, _ int) float64 { return math.Log(a) }},
	}
	axesSets := [][]int64{{3}, {-1}, {0}, {1}, {2, 3}, {1, 2}, {0, 2}, {1, 3}, {0, 1, 2, 3}, {0, 3}, nil}
	for _, k := range kinds {
		for _, axes := range axesSets {
			for _, keep := range []int64{0, 1} {
				t.Run(fmt.Sprintf("%s/axes=%v/keepdims=%d", k.op, axes, keep), func(t *testing.T) {
					in := x
					if k.op == "ReduceProd" || k.op == "ReduceLogSum" {
						// positive values, so the product and its log are tame
						in = x.Clone()
						for i := range in.F32 {
							in.F32[i] += 1.5
						}
					}
					mask := make([]bool, 4)
					for _, a := range axes {
						mask[(int(a)+4)%4] = true
					}
					if axes == nil {
						mask = []bool{true, true, true, true}
					}
					shape, want := refReduce(x, mask, k.init, k.f)
					n := x.Len() / len(want)
					for i := range want {
						if k.finish != nil {
							want[i] = k.finish(want[i], n)
						}
						// the result is a float32 (a product of all 360
						// elements overflows it)
						want[i] = float64(float32(want[i]))
					}
					if keep == 0 {
						var s []int
						for i, d := range shape {
							if !mask[i] {
								s = append(s, d)
							}
						}
						shape = sh(s...)
					}
					// opset 13 (axes attribute, ReduceSum's input) and 18
					// (axes input for all)
					for _, opset := range []int64{13, 18} {
						attrs := []*onnx.Attribute{aInt("keepdims", keep)}
						ins := []*tensor.Tensor{in}
						if opset >= 18 || k.op == "ReduceSum" {
							if axes != nil {
								ins = append(ins, i64(sh(len(axes)), axes...))
							}
						} else if axes != nil {
							attrs = append(attrs, aInts("axes", axes...))
						}
						for _, workers := range []int{1, 4} {
							out := rtMust(t, rtBuild(t, opset, k.op, attrs...), workers, 1, ins, allConst)
							checkClose(t, out[0], shape, want, 1e-6)
						}
					}
				})
			}
		}
	}
}

func TestReduceHand(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, 4, 5, nan)
	checkClose(t, rtOne(t, 18, "ReduceMean", []*tensor.Tensor{x, i64(sh(1), 1)}), sh(2, 1), []float64{2, math.NaN()}, 1e-7)
	checkClose(t, rtOne(t, 18, "ReduceMax", []*tensor.Tensor{x, i64(sh(1), 0)}, aInt("keepdims", 0)), sh(3), []float64{4, 5, math.NaN()}, 0)
	checkClose(t, rtOne(t, 18, "ReduceMin", []*tensor.Tensor{x, i64(sh(1), -1)}), sh(2, 1), []float64{1, math.NaN()}, 0)
	// LogSumExp does not overflow where e^x would.
	checkClose(t, rtOne(t, 18, "ReduceLogSumExp", []*tensor.Tensor{f32(sh(2), 1000, 1000)}), sh(1), []float64{1000 + math.Ln2}, 1e-7)
	// a scalar reduces to itself
	checkF(t, rtOne(t, 18, "ReduceSum", []*tensor.Tensor{f32(sh(), 4)}), sh(), 4)

	// Empty axes: all of them, or none with noop_with_empty_axes=1.
	checkF(t, rtOne(t, 18, "ReduceSum", []*tensor.Tensor{f32(sh(2), 1, 2), i64(sh(0))}), sh(1), 3)
	checkF(t, rtOne(t, 18, "ReduceSum", []*tensor.Tensor{f32(sh(2), 1, 2), i64(sh(0))}, aInt("noop_with_empty_axes", 1)), sh(2), 1, 2)
	checkF(t, rtOne(t, 13, "ReduceSum", []*tensor.Tensor{f32(sh(2), 1, 2)}, aInt("noop_with_empty_axes", 1)), sh(2), 1, 2)

	// Reducing over an empty set gives the identity.
	e := tensor.New(tensor.Float32, 2, 0)
	for _, c := range []struct {
		op   string
		want float64
	}{
		{"ReduceSum", 0}, {"ReduceProd", 1}, {"ReduceMax", math.Inf(-1)}, {"ReduceMin", math.Inf(1)},
		{"ReduceMean", math.NaN()}, {"ReduceL2", 0}, {"ReduceLogSumExp", math.Inf(-1)}, {"ReduceLogSum", math.Inf(-1)},
	} {
		checkClose(t, rtOne(t, 18, c.op, []*tensor.Tensor{e, i64(sh(1), 1)}), sh(2, 1), []float64{c.want, c.want}, 0)
	}
	// an empty output is fine
	checkF(t, rtOne(t, 18, "ReduceSum", []*tensor.Tensor{e, i64(sh(1), 0)}), sh(1, 0))

	// integers accumulate exactly and wrap to the type
	xi := i64(sh(2, 2), 3, -4, math.MaxInt64, 1)
	checkI(t, rtOne(t, 13, "ReduceSum", []*tensor.Tensor{xi, i64(sh(1), 1)}, aInt("keepdims", 0)), tensor.Int64, sh(2), -1, math.MinInt64)
	checkI(t, rtOne(t, 18, "ReduceMax", []*tensor.Tensor{xi}, aInt("keepdims", 0)), tensor.Int64, sh(), math.MaxInt64)
	checkI(t, rtOne(t, 18, "ReduceL1", []*tensor.Tensor{i64(sh(3), -1, 2, -3)}), tensor.Int64, sh(1), 6)
	x32 := &tensor.Tensor{DType: tensor.Int32, Shape: sh(2, 0)}
	checkI(t, rtOne(t, 18, "ReduceMax", []*tensor.Tensor{x32, i64(sh(1), 1)}), tensor.Int32, sh(2, 1), math.MinInt32, math.MinInt32)
	checkI(t, rtOne(t, 20, "ReduceMax", []*tensor.Tensor{bools(sh(2, 2), 0, 0, 0, 1), i64(sh(1), 1)}), tensor.Bool, sh(2, 1), 0, 1)
}

func TestReduceRefused(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, 4, 5, 6)
	wantErr(t, rtErr(18, "ReduceMean", []*tensor.Tensor{x}, aInts("axes", 1)), "axes became input 1 in opset 18")
	wantErr(t, rtErr(13, "ReduceMean", []*tensor.Tensor{x}, aInt("noop_with_empty_axes", 1)), "from opset 18 on")
	wantErr(t, rtErr(18, "ReduceMean", []*tensor.Tensor{x, i64(sh(1), 2)}), "out of range")
	wantErr(t, rtErr(18, "ReduceMean", []*tensor.Tensor{x, i64(sh(2), 1, -1)}), "twice")
	wantErr(t, rtErr(18, "ReduceMean", []*tensor.Tensor{x, f32(sh(1), 1)}), "int64")
	wantErr(t, rtErr(18, "ReduceMean", []*tensor.Tensor{i64(sh(1), 1)}), "int64", "float")
	wantErr(t, rtErr(18, "ReduceSum", []*tensor.Tensor{bools(sh(1), 1)}), "bool")
	// Axes that are not known before running cannot give a shape.
	op := rtBuild(t, 18, "ReduceMean")
	_, err := rtEval(op, 1, 1, []*tensor.Tensor{x, i64(sh(1), 1)}, constAt(2, 0))
	wantErr(t, err, "axes", "constant")
}

func TestArgMaxMin(t *testing.T) {
	x := f32(sh(2, 3), 1, 5, 5, 7, 2, 7)
	for _, tc := range []struct {
		op    string
		attrs []*onnx.Attribute
		shape []int
		want  []int64
	}{
		{"ArgMax", nil, sh(1, 3), []int64{1, 0, 1}},
		{"ArgMax", []*onnx.Attribute{aInt("axis", 1)}, sh(2, 1), []int64{1, 0}},
		{"ArgMax", []*onnx.Attribute{aInt("axis", -1), aInt("select_last_index", 1)}, sh(2, 1), []int64{2, 2}},
		{"ArgMax", []*onnx.Attribute{aInt("axis", 1), aInt("keepdims", 0)}, sh(2), []int64{1, 0}},
		{"ArgMin", []*onnx.Attribute{aInt("axis", 1)}, sh(2, 1), []int64{0, 1}},
		{"ArgMin", []*onnx.Attribute{aInt("axis", 0), aInt("keepdims", 0)}, sh(3), []int64{0, 1, 0}},
	} {
		checkI(t, rtOne(t, 13, tc.op, []*tensor.Tensor{x}, tc.attrs...), tensor.Int64, tc.shape, tc.want...)
	}
	// NaN is the extreme either way, as in NumPy.
	n := f32(sh(4), 1, nan, 3, nan)
	checkI(t, rtOne(t, 13, "ArgMax", []*tensor.Tensor{n}), tensor.Int64, sh(1), 1)
	checkI(t, rtOne(t, 13, "ArgMin", []*tensor.Tensor{n}), tensor.Int64, sh(1), 1)
	checkI(t, rtOne(t, 13, "ArgMin", []*tensor.Tensor{n}, aInt("select_last_index", 1)), tensor.Int64, sh(1), 3)
	checkI(t, rtOne(t, 13, "ArgMax", []*tensor.Tensor{i64(sh(3), -5, 9, 2)}), tensor.Int64, sh(1), 1)
	// large: split over workers
	r := rtRand(3)
	big := randT(r, 64, 1000)
	out := rtMust(t, rtBuild(t, 13, "ArgMax", aInt("axis", 1)), 4, 1, []*tensor.Tensor{big}, allConst)
	for i := 0; i < 64; i++ {
		row := big.F32[i*1000 : (i+1)*1000]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if out[0].I64[i] != int64(best) {
			t.Fatalf("row %d: got %d, want %d", i, out[0].I64[i], best)
		}
	}
	wantErr(t, rtErr(13, "ArgMax", []*tensor.Tensor{tensor.New(tensor.Float32, 2, 0)}, aInt("axis", 1)), "empty")
	wantErr(t, rtErr(13, "ArgMax", []*tensor.Tensor{x}, aInt("axis", 2)), "out of range")
}

func TestCumSum(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, 4, 5, 6)
	for _, tc := range []struct {
		axis           int64
		exclusive, rev int64
		want           []float32
	}{
		{1, 0, 0, []float32{1, 3, 6, 4, 9, 15}},
		{-1, 1, 0, []float32{0, 1, 3, 0, 4, 9}},
		{1, 0, 1, []float32{6, 5, 3, 15, 11, 6}},
		{1, 1, 1, []float32{5, 3, 0, 11, 6, 0}},
		{0, 0, 0, []float32{1, 2, 3, 5, 7, 9}},
		{0, 1, 1, []float32{4, 5, 6, 0, 0, 0}},
	} {
		for _, workers := range []int{1, 2} {
			op := rtBuild(t, 14, "CumSum", aInt("exclusive", tc.exclusive), aInt("reverse", tc.rev))
			out := rtMust(t, op, workers, 1, []*tensor.Tensor{x, i64(sh(), tc.axis)}, allConst)
			checkF(t, out[0], sh(2, 3), tc.want...)
		}
	}
	// position ids from a mask: int64, exact
	checkI(t, rtOne(t, 14, "CumSum", []*tensor.Tensor{i64(sh(1, 4), 1, 1, 0, 1), i64(sh(1), 1)}), tensor.Int64, sh(1, 4), 1, 2, 2, 3)
	a32 := &tensor.Tensor{DType: tensor.Int32, Shape: sh(), I64: []int64{0}}
	checkF(t, rtOne(t, 14, "CumSum", []*tensor.Tensor{f32(sh(2), 1, 2), a32}), sh(2), 1, 3)
	checkF(t, rtOne(t, 14, "CumSum", []*tensor.Tensor{tensor.New(tensor.Float32, 0, 3), i64(sh(), 1)}), sh(0, 3))
	wantErr(t, rtErr(14, "CumSum", []*tensor.Tensor{x, i64(sh(), 2)}), "out of range")
	wantErr(t, rtErr(14, "CumSum", []*tensor.Tensor{x, f32(sh(), 1)}), "axis is float32")
	wantErr(t, rtErr(14, "CumSum", []*tensor.Tensor{x, i64(sh(2), 0, 1)}), "one value")
	// an axis known only when running (a graph input) is read then
	op := rtBuild(t, 14, "CumSum")
	out := rtMust(t, op, 1, 1, []*tensor.Tensor{x, i64(sh(), 0)}, constAt(2, 0))
	checkF(t, out[0], sh(2, 3), 1, 2, 3, 5, 7, 9)
	_, err := rtEval(op, 1, 1, []*tensor.Tensor{x, i64(sh(), 5)}, constAt(2, 0))
	wantErr(t, err, "out of range")
}
