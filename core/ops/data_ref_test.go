package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func TestConcat(t *testing.T) {
	a := f32(sh(2, 2), 1, 2, 3, 4)
	b := f32(sh(2, 1), 5, 6)
	for _, tc := range []struct {
		name  string
		axis  int64
		in    []*tensor.Tensor
		shape []int
		want  []float32
	}{
		{"axis1", 1, []*tensor.Tensor{a, b}, sh(2, 3), []float32{1, 2, 5, 3, 4, 6}},
		{"axis-1", -1, []*tensor.Tensor{a, b}, sh(2, 3), []float32{1, 2, 5, 3, 4, 6}},
		{"axis0", 0, []*tensor.Tensor{a, f32(sh(1, 2), 7, 8)}, sh(3, 2), []float32{1, 2, 3, 4, 7, 8}},
		{"axis-2", -2, []*tensor.Tensor{f32(sh(1, 2), 7, 8), a}, sh(3, 2), []float32{7, 8, 1, 2, 3, 4}},
		{"three-inputs-axis1", 1, []*tensor.Tensor{b, a, b}, sh(2, 4), []float32{5, 1, 2, 5, 6, 3, 4, 6}},
		{"single-input", 0, []*tensor.Tensor{a}, sh(2, 2), []float32{1, 2, 3, 4}},
		{"empty-input", 1, []*tensor.Tensor{a, tensor.New(tensor.Float32, 2, 0), b}, sh(2, 3), []float32{1, 2, 5, 3, 4, 6}},
		{"1D", 0, []*tensor.Tensor{f32(sh(2), 1, 2), f32(sh(1), 3)}, sh(3), []float32{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkF(t, rtOne(t, 13, "Concat", tc.in, aInt("axis", tc.axis)), tc.shape, tc.want...)
		})
	}
	t.Run("int64/shape-vectors", func(t *testing.T) {
		got := rtOne(t, 13, "Concat", []*tensor.Tensor{i64(sh(1), -1), i64(sh(2), 3, 4), i64(sh(0))}, aInt("axis", 0))
		checkI(t, got, tensor.Int64, sh(3), -1, 3, 4)
	})
	t.Run("int64/axis-1", func(t *testing.T) {
		got := rtOne(t, 13, "Concat", []*tensor.Tensor{iota64(2, 2), i64(sh(2, 1), 9, 9)}, aInt("axis", -1))
		checkI(t, got, tensor.Int64, sh(2, 3), 0, 1, 9, 2, 3, 9)
	})
	t.Run("3D-axis1-reference", func(t *testing.T) {
		r := rtRand(50)
		x, y, z := randT(r, 2, 3, 4), randT(r, 2, 1, 4), randT(r, 2, 5, 4)
		var want []float32
		for n := 0; n < 2; n++ {
			want = append(want, x.F32[n*12:(n+1)*12]...)
			want = append(want, y.F32[n*4:(n+1)*4]...)
			want = append(want, z.F32[n*20:(n+1)*20]...)
		}
		checkF(t, rtOne(t, 13, "Concat", []*tensor.Tensor{x, y, z}, aInt("axis", 1)), sh(2, 9, 4), want...)
	})
	for _, tc := range []struct {
		name  string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
	}{
		{"missing-axis", []*tensor.Tensor{a, a}, nil},
		{"axis-out-of-range", []*tensor.Tensor{a, a}, []*onnx.Attribute{aInt("axis", 2)}},
		{"other-dim-differs", []*tensor.Tensor{a, f32(sh(1, 3), 1, 2, 3)}, []*onnx.Attribute{aInt("axis", 1)}},
		{"rank-differs", []*tensor.Tensor{a, f32(sh(2), 1, 2)}, []*onnx.Attribute{aInt("axis", 0)}},
		{"dtype-differs", []*tensor.Tensor{a, i64(sh(2, 2), 1, 2, 3, 4)}, []*onnx.Attribute{aInt("axis", 0)}},
	} {
		t.Run("error/"+tc.name, func(t *testing.T) {
			if err := rtErr(13, "Concat", tc.in, tc.attrs...); err == nil {
				t.Error("got no error")
			}
		})
	}
}

// specSlice returns the indices ONNX Slice selects from an axis of length
// n, following the operator specification (as ONNX Runtime implements it):
// negative starts/ends have n added; then for a positive step start and end
// are clamped into [0, n], for a negative step start into [0, n-1] and end
// into [-1, n-1]. This differs from numpy in one corner: with a negative
// step, a start below -n selects element 0 (numpy selects nothing). An
// empty axis always gives an empty slice.
func specSlice(n, start, end, step int) []int {
	if n == 0 {
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	var idx []int
	if step > 0 {
		start, end = min(max(start, 0), n), min(max(end, 0), n)
		for i := start; i < end; i += step {
			idx = append(idx, i)
			if step >= n { // a step past the axis selects one element (and i+step could overflow)
				break
			}
		}
	} else {
		start, end = min(max(start, 0), n-1), min(max(end, -1), n-1)
		for i := start; i > end; i += step {
			idx = append(idx, i)
			if step <= -n {
				break
			}
		}
	}
	return idx
}

func TestSliceHand(t *testing.T) {
	x := iota32(3, 4) // [[1 2 3 4] [5 6 7 8] [9 10 11 12]]
	big, small := int64(math.MaxInt64), int64(math.MinInt64)
	v1 := func(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }
	for _, tc := range []struct {
		name  string
		opset int64
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		shape []int
		want  []float32
	}{
		{"opset9/attrs", 9, []*tensor.Tensor{x}, []*onnx.Attribute{aInts("starts", 1, 0), aInts("ends", 3, 2)}, sh(2, 2), []float32{5, 6, 9, 10}},
		{"opset9/axes", 9, []*tensor.Tensor{x}, []*onnx.Attribute{aInts("starts", 1), aInts("ends", 3), aInts("axes", 1)}, sh(3, 2), []float32{2, 3, 6, 7, 10, 11}},
		{"opset9/negative", 9, []*tensor.Tensor{x}, []*onnx.Attribute{aInts("starts", -2), aInts("ends", 1000), aInts("axes", -1)}, sh(3, 2), []float32{3, 4, 7, 8, 11, 12}},
		{"opset13/axes-omitted", 13, []*tensor.Tensor{x, v1(1), v1(2)}, nil, sh(1, 4), []float32{5, 6, 7, 8}},
		{"opset13/negative-starts-ends", 13, []*tensor.Tensor{x, v1(-3, -3), v1(-1, -1), v1(0, 1)}, nil, sh(2, 2), []float32{2, 3, 6, 7}},
		{"opset13/step2", 13, []*tensor.Tensor{x, v1(0), v1(big), v1(1), v1(2)}, nil, sh(3, 2), []float32{1, 3, 5, 7, 9, 11}},
		{"opset13/step-1-reverse", 13, []*tensor.Tensor{x, v1(-1), v1(small), v1(1), v1(-1)}, nil, sh(3, 4), []float32{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9}},
		{"opset13/step-1-both-axes", 13, []*tensor.Tensor{x, v1(big, big), v1(small, small), v1(0, 1), v1(-1, -1)}, nil, sh(3, 4), []float32{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"opset13/step-2-from-end", 13, []*tensor.Tensor{x, v1(3), v1(0), v1(-1), v1(-2)}, nil, sh(3, 2), []float32{4, 2, 8, 6, 12, 10}},
		{"opset13/INT64_MAX-end", 13, []*tensor.Tensor{x, v1(2), v1(big), v1(1)}, nil, sh(3, 2), []float32{3, 4, 7, 8, 11, 12}},
		{"opset13/INT64_MIN-start", 13, []*tensor.Tensor{x, v1(small), v1(2), v1(0)}, nil, sh(2, 4), []float32{1, 2, 3, 4, 5, 6, 7, 8}},
		{"opset13/empty-result", 13, []*tensor.Tensor{x, v1(3), v1(1), v1(1)}, nil, sh(3, 0), nil},
		{"opset13/steps-without-axes", 13, []*tensor.Tensor{x, v1(0, 0), v1(3, 4), nil, v1(2, 3)}, nil, sh(2, 2), []float32{1, 4, 9, 12}},
		{"opset10/inputs", 10, []*tensor.Tensor{x, v1(1), v1(-1), v1(1)}, nil, sh(3, 2), []float32{2, 3, 6, 7, 10, 11}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkF(t, rtOne(t, tc.opset, "Slice", tc.in, tc.attrs...), tc.shape, tc.want...)
		})
	}
	t.Run("int64-data", func(t *testing.T) {
		got := rtOne(t, 13, "Slice", []*tensor.Tensor{i64(sh(4), 2, 3, 4, 5), v1(-1), v1(-3), v1(0), v1(-1)})
		checkI(t, got, tensor.Int64, sh(2), 5, 4)
	})
	t.Run("int32-bounds", func(t *testing.T) {
		st := &tensor.Tensor{DType: tensor.Int32, Shape: []int{1}, I64: []int64{1}}
		en := &tensor.Tensor{DType: tensor.Int32, Shape: []int{1}, I64: []int64{3}}
		checkF(t, rtOne(t, 13, "Slice", []*tensor.Tensor{x, st, en}), sh(2, 4), 5, 6, 7, 8, 9, 10, 11, 12)
	})
}

// TestSliceSweep compares every combination of start, end and step on one
// axis, including the INT64_MIN/INT64_MAX sentinels and huge steps, with the
// specification's semantics.
func TestSliceSweep(t *testing.T) {
	bounds := []int64{math.MinInt64, -100, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 100, math.MaxInt64}
	for _, sc := range []struct {
		name  string
		steps []int64
	}{
		{"steps", []int64{-7, -3, -2, -1, 1, 2, 3, 7}},
		// A step larger than the axis takes one element; the count must
		// not overflow for steps near the int64 limits.
		{"huge-steps", []int64{math.MaxInt64, math.MaxInt64 - 1, math.MinInt64 + 1, math.MinInt64 + 2}},
	} {
		for n := 0; n <= 5; n++ {
			t.Run(fmt.Sprintf("%s/len%d", sc.name, n), func(t *testing.T) {
				x := iota32(n)
				bad := 0
				for _, st := range bounds {
					for _, en := range bounds {
						for _, step := range sc.steps {
							idx := specSlice(n, int(st), int(en), int(step))
							want := make([]float32, len(idx))
							for i, j := range idx {
								want[i] = float32(j + 1)
							}
							op := rtBuild(t, 13, "Slice")
							out, err := rtEval(op, 1, 1, []*tensor.Tensor{x, i64(sh(1), st), i64(sh(1), en), i64(sh(1), 0), i64(sh(1), step)}, allConst)
							ok := err == nil && tensor.EqualShape(out[0].Shape, []int{len(want)})
							if ok {
								for i := range want {
									ok = ok && out[0].F32[i] == want[i]
								}
							}
							if !ok {
								if bad < 4 {
									if err != nil {
										t.Errorf("x[%d:%d:%d] of length %d: %v, want %v", st, en, step, n, err, want)
									} else {
										t.Errorf("x[%d:%d:%d] of length %d = %v, want %v", st, en, step, n, out[0].F32, want)
									}
								}
								bad++
							}
						}
					}
				}
				if bad > 0 {
					t.Errorf("%d mismatches", bad)
				}
			})
		}
	}
}

func TestSliceErrors(t *testing.T) {
	x := iota32(3, 4)
	v1 := func(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }
	for _, tc := range []struct {
		name  string
		opset int64
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
	}{
		{"step0", 13, []*tensor.Tensor{x, v1(0), v1(2), v1(0), v1(0)}, nil},
		{"length-mismatch", 13, []*tensor.Tensor{x, v1(0, 0), v1(2)}, nil},
		{"axis-out-of-range", 13, []*tensor.Tensor{x, v1(0), v1(2), v1(2)}, nil},
		{"opset9-missing-ends", 9, []*tensor.Tensor{x}, []*onnx.Attribute{aInts("starts", 0)}},
		{"opset13-attrs", 13, []*tensor.Tensor{x, v1(0), v1(2)}, []*onnx.Attribute{aInts("starts", 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := rtErr(tc.opset, "Slice", tc.in, tc.attrs...); err == nil {
				t.Error("got no error")
			}
		})
	}
	// The output shape depends on starts, ends, axes and steps: Infer must
	// refuse to guess when one of them is present but not known at load
	// time (Run, which sees the value, would disagree with the shape).
	for _, tc := range []struct {
		name    string
		in      []*tensor.Tensor
		runtime int
	}{
		{"runtime-starts", []*tensor.Tensor{x, v1(1), v1(3)}, 1},
		{"runtime-ends", []*tensor.Tensor{x, v1(1), v1(3)}, 2},
		{"runtime-axes", []*tensor.Tensor{x, v1(1), v1(3), v1(1)}, 3},
		{"runtime-steps", []*tensor.Tensor{x, v1(0), v1(4), v1(1), v1(2)}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			constant := make([]bool, len(tc.in))
			for i := range constant {
				constant[i] = i != tc.runtime
			}
			op := rtBuild(t, 13, "Slice")
			out, err := rtEval(op, 1, 1, tc.in, constant)
			if err == nil {
				t.Errorf("a non-constant input %d was accepted (inferred shape %v)", tc.runtime, out[0].Shape)
			}
		})
	}
}

func TestGather(t *testing.T) {
	x := iota32(3, 4) // [[1 2 3 4] [5 6 7 8] [9 10 11 12]]
	for _, tc := range []struct {
		name  string
		axis  *int64
		idx   *tensor.Tensor
		shape []int
		want  []float32
	}{
		{"axis0-default", nil, i64(sh(2), 2, 0), sh(2, 4), []float32{9, 10, 11, 12, 1, 2, 3, 4}},
		{"axis0-negative", ptr(int64(0)), i64(sh(2), -1, -3), sh(2, 4), []float32{9, 10, 11, 12, 1, 2, 3, 4}},
		{"axis0-2D-indices", ptr(int64(0)), i64(sh(2, 2), 0, 1, -1, 0), sh(2, 2, 4), []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4}},
		{"axis0-scalar-index", ptr(int64(0)), i64(sh(), 1), sh(4), []float32{5, 6, 7, 8}},
		{"axis1", ptr(int64(1)), i64(sh(2), 3, -4), sh(3, 2), []float32{4, 1, 8, 5, 12, 9}},
		{"axis-1", ptr(int64(-1)), i64(sh(2), 3, 0), sh(3, 2), []float32{4, 1, 8, 5, 12, 9}},
		{"axis1-scalar-index", ptr(int64(1)), i64(sh(), -3), sh(3), []float32{2, 6, 10}},
		{"axis1-repeated", ptr(int64(1)), i64(sh(1, 3), 2, 2, 2), sh(3, 1, 3), []float32{3, 3, 3, 7, 7, 7, 11, 11, 11}},
		{"empty-indices", ptr(int64(0)), i64(sh(0)), sh(0, 4), nil},
		{"int32-indices", ptr(int64(0)), &tensor.Tensor{DType: tensor.Int32, Shape: []int{1}, I64: []int64{2}}, sh(1, 4), []float32{9, 10, 11, 12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attrs []*onnx.Attribute
			if tc.axis != nil {
				attrs = append(attrs, aInt("axis", *tc.axis))
			}
			checkF(t, rtOne(t, 13, "Gather", []*tensor.Tensor{x, tc.idx}, attrs...), tc.shape, tc.want...)
		})
	}
	t.Run("int64-data/shape-element", func(t *testing.T) {
		got := rtOne(t, 13, "Gather", []*tensor.Tensor{i64(sh(4), 1, 3, 224, 224), i64(sh(), 0)}, aInt("axis", 0))
		checkI(t, got, tensor.Int64, sh(), 1)
	})
	t.Run("3D-axis1", func(t *testing.T) {
		y := iota32(2, 3, 2)
		got := rtOne(t, 13, "Gather", []*tensor.Tensor{y, i64(sh(2), 2, 0)}, aInt("axis", 1))
		checkF(t, got, sh(2, 2, 2), 5, 6, 1, 2, 11, 12, 7, 8)
	})
	for _, ix := range []int64{3, -4, 100} {
		t.Run(fmt.Sprintf("error/index%d-out-of-range", ix), func(t *testing.T) {
			err := rtErr(13, "Gather", []*tensor.Tensor{x, i64(sh(1), ix)})
			wantErr(t, err, "out of range")
		})
	}
	t.Run("error/float-indices", func(t *testing.T) {
		if err := rtErr(13, "Gather", []*tensor.Tensor{x, f32(sh(1), 0)}); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("error/axis-out-of-range", func(t *testing.T) {
		if err := rtErr(13, "Gather", []*tensor.Tensor{x, i64(sh(1), 0)}, aInt("axis", 2)); err == nil {
			t.Error("got no error")
		}
	})
}

func TestConstant(t *testing.T) {
	t.Run("value-tensor-float", func(t *testing.T) {
		got := rtOne(t, 13, "Constant", nil, aTensor("value", f32(sh(2, 2), 1, 2, 3, 4)))
		checkF(t, got, sh(2, 2), 1, 2, 3, 4)
	})
	t.Run("value-tensor-int64", func(t *testing.T) {
		got := rtOne(t, 13, "Constant", nil, aTensor("value", i64(sh(3), 1, -1, 7)))
		checkI(t, got, tensor.Int64, sh(3), 1, -1, 7)
	})
	t.Run("value_float-scalar", func(t *testing.T) {
		checkF(t, rtOne(t, 13, "Constant", nil, aFloat("value_float", 2.5)), sh(), 2.5)
	})
	t.Run("value_floats", func(t *testing.T) {
		checkF(t, rtOne(t, 13, "Constant", nil, aFloats("value_floats", 1, 2)), sh(2), 1, 2)
	})
	t.Run("value_int-scalar", func(t *testing.T) {
		checkI(t, rtOne(t, 13, "Constant", nil, aInt("value_int", -4)), tensor.Int64, sh(), -4)
	})
	t.Run("value_ints", func(t *testing.T) {
		checkI(t, rtOne(t, 13, "Constant", nil, aInts("value_ints", 0, -1, 5)), tensor.Int64, sh(3), 0, -1, 5)
	})
	t.Run("Value-accessor", func(t *testing.T) {
		op := rtBuild(t, 13, "Constant", aInts("value_ints", 3))
		v := op.(interface{ Value() *tensor.Tensor }).Value()
		checkI(t, v, tensor.Int64, sh(1), 3)
	})
	t.Run("error/no-attribute", func(t *testing.T) {
		if _, err := Build(rtNode("Constant"), 13); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("error/two-attributes", func(t *testing.T) {
		if _, err := Build(rtNode("Constant", aInt("value_int", 1), aFloat("value_float", 1)), 13); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("error/value_string", func(t *testing.T) {
		if _, err := Build(rtNode("Constant", aString("value_string", "x")), 13); err == nil {
			t.Error("got no error")
		}
	})
}

func TestConstantOfShape(t *testing.T) {
	t.Run("default-float-zero", func(t *testing.T) {
		checkF(t, rtOne(t, 13, "ConstantOfShape", []*tensor.Tensor{i64(sh(2), 2, 3)}), sh(2, 3), 0, 0, 0, 0, 0, 0)
	})
	t.Run("float-value", func(t *testing.T) {
		checkF(t, rtOne(t, 13, "ConstantOfShape", []*tensor.Tensor{i64(sh(1), 3)}, aTensor("value", f32(sh(1), 1.5))), sh(3), 1.5, 1.5, 1.5)
	})
	t.Run("int64-value", func(t *testing.T) {
		got := rtOne(t, 13, "ConstantOfShape", []*tensor.Tensor{i64(sh(2), 1, 2)}, aTensor("value", i64(sh(1), -7)))
		checkI(t, got, tensor.Int64, sh(1, 2), -7, -7)
	})
	t.Run("scalar-output", func(t *testing.T) {
		checkF(t, rtOne(t, 13, "ConstantOfShape", []*tensor.Tensor{i64(sh(0))}, aTensor("value", f32(sh(1), 4))), sh(), 4)
	})
	t.Run("empty-output", func(t *testing.T) {
		checkShape(t, rtOne(t, 13, "ConstantOfShape", []*tensor.Tensor{i64(sh(2), 2, 0)}), tensor.Float32, sh(2, 0))
	})
	t.Run("error/negative-dim", func(t *testing.T) {
		if err := rtErr(13, "ConstantOfShape", []*tensor.Tensor{i64(sh(2), 2, -1)}); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("error/value-two-elements", func(t *testing.T) {
		if _, err := Build(rtNode("ConstantOfShape", aTensor("value", f32(sh(2), 1, 2))), 13); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("error/runtime-shape", func(t *testing.T) {
		op := rtBuild(t, 13, "ConstantOfShape")
		if _, err := rtEval(op, 1, 1, []*tensor.Tensor{i64(sh(1), 2)}, constAt(1)); err == nil {
			t.Error("a non-constant shape was accepted")
		}
	})
}

func TestCast(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	castF := func(t *testing.T, to tensor.DType, x *tensor.Tensor) *tensor.Tensor {
		t.Helper()
		return rtOne(t, 13, "Cast", []*tensor.Tensor{x}, aInt("to", int64(to)))
	}
	t.Run("float-to-int64-truncates-toward-zero", func(t *testing.T) {
		got := castF(t, tensor.Int64, f32(sh(8), -2.7, -2.5, -0.5, -0, 0.5, 1.999, 2.7, 1e10))
		checkI(t, got, tensor.Int64, sh(8), -2, -2, 0, 0, 0, 1, 2, 10000000000)
	})
	t.Run("float-to-int32", func(t *testing.T) {
		got := castF(t, tensor.Int32, f32(sh(3), -3.9, 3.9, 2147483520))
		checkI(t, got, tensor.Int32, sh(3), -3, 3, 2147483520)
	})
	t.Run("float-to-int8-wraps", func(t *testing.T) {
		got := castF(t, tensor.Int8, f32(sh(3), 127, 128, -129.5))
		checkI(t, got, tensor.Int8, sh(3), 127, -128, 127)
	})
	t.Run("float-to-uint8-wraps", func(t *testing.T) {
		got := castF(t, tensor.Uint8, f32(sh(5), 255, 256, 300.7, -1.5, 0.9))
		checkI(t, got, tensor.Uint8, sh(5), 255, 0, 44, 255, 0)
	})
	t.Run("float-to-bool", func(t *testing.T) {
		got := castF(t, tensor.Bool, f32(sh(6), 0, float32(math.Copysign(0, -1)), 0.1, -3, nan, inf))
		checkI(t, got, tensor.Bool, sh(6), 0, 0, 1, 1, 1, 1)
	})
	t.Run("float-to-float16-rounds", func(t *testing.T) {
		// Half precision has 10 fraction bits: next after 1 is 1+2^-10.
		tiny := float32(math.Ldexp(1, -20))
		half := float32(math.Ldexp(1, -11)) // half a half-ulp at 1
		got := castF(t, tensor.Float16, f32(sh(9),
			1.0009765625+tiny, // 1+2^-10 (exact) plus a bit: rounds back down to 1+2^-10
			1+half,            // tie between 1 and 1+2^-10: to even (1)
			1+half+tiny,       // just above the tie: up
			1+3*half,          // tie between 1+2^-10 (odd) and 1+2^-9 (even): up to even
			0.1,               // 0.0999755859375 in half
			65504,             // max half
			65520,             // rounds to infinity
			-70000,
			float32(math.Ldexp(1, -25))+tiny*tiny, // just above half the smallest subnormal: 2^-24
		))
		checkShape(t, got, tensor.Float16, sh(9))
		want := []float32{1.0009765625, 1, 1.0009765625, 1.001953125, 0.0999755859375, 65504, inf, -inf, float32(math.Ldexp(1, -24))}
		for i, w := range want {
			if got.F32[i] != w {
				t.Errorf("element %d: got %.12g, want %.12g", i, got.F32[i], w)
			}
		}
	})
	t.Run("int-to-float16", func(t *testing.T) {
		got := castF(t, tensor.Float16, i64(sh(3), 2049, 2051, 70000))
		checkShape(t, got, tensor.Float16, sh(3))
		// 2049 ties to 2048 (even), 2051 ties to 2052, 70000 overflows.
		for i, w := range []float32{2048, 2052, inf} {
			if got.F32[i] != w {
				t.Errorf("element %d: got %v, want %v", i, got.F32[i], w)
			}
		}
	})
	t.Run("int64-to-float", func(t *testing.T) {
		got := castF(t, tensor.Float32, i64(sh(4), -3, 0, 16777216, 16777217))
		checkShape(t, got, tensor.Float32, sh(4))
		checkF(t, got, sh(4), -3, 0, 16777216, 16777216)
	})
	t.Run("int64-to-int32-wraps", func(t *testing.T) {
		got := castF(t, tensor.Int32, i64(sh(2), 1<<32+5, -1<<31-1))
		checkI(t, got, tensor.Int32, sh(2), 5, 1<<31-1)
	})
	t.Run("int64-to-bool", func(t *testing.T) {
		checkI(t, castF(t, tensor.Bool, i64(sh(3), 0, 5, -1)), tensor.Bool, sh(3), 0, 1, 1)
	})
	t.Run("bool-to-float", func(t *testing.T) {
		b := &tensor.Tensor{DType: tensor.Bool, Shape: []int{2}, I64: []int64{1, 0}}
		got := castF(t, tensor.Float32, b)
		checkShape(t, got, tensor.Float32, sh(2))
		checkF(t, got, sh(2), 1, 0)
	})
	t.Run("float-to-float-identity", func(t *testing.T) {
		got := castF(t, tensor.Float32, f32(sh(2), 1.5, -inf))
		checkShape(t, got, tensor.Float32, sh(2))
		checkF(t, got, sh(2), 1.5, -inf)
	})
	t.Run("error/missing-to", func(t *testing.T) {
		if _, err := Build(rtNode("Cast"), 13); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("error/string", func(t *testing.T) {
		if _, err := Build(rtNode("Cast", aInt("to", 8)), 13); err == nil {
			t.Error("got no error")
		}
	})
}

func TestPad(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, 4, 5, 6)
	pads := func(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }
	reflectWant := []float32{
		6, 5, 4, 5, 6, 5, 4,
		3, 2, 1, 2, 3, 2, 1,
		6, 5, 4, 5, 6, 5, 4,
		3, 2, 1, 2, 3, 2, 1,
	}
	edgeWant := []float32{
		1, 1, 1, 2, 3, 3, 3,
		1, 1, 1, 2, 3, 3, 3,
		4, 4, 4, 5, 6, 6, 6,
		4, 4, 4, 5, 6, 6, 6,
	}
	constWant := []float32{
		9, 1, 2, 3, 9, 9,
		9, 4, 5, 6, 9, 9,
		9, 9, 9, 9, 9, 9,
	}
	for _, tc := range []struct {
		name  string
		opset int64
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		shape []int
		want  []float32
	}{
		{"opset2/constant-value", 2, []*tensor.Tensor{x}, []*onnx.Attribute{aInts("pads", 0, 1, 1, 2), aFloat("value", 9)}, sh(3, 6), constWant},
		{"opset2/constant-default-0", 2, []*tensor.Tensor{x}, []*onnx.Attribute{aInts("pads", 1, 0, 0, 0)}, sh(3, 3), []float32{0, 0, 0, 1, 2, 3, 4, 5, 6}},
		{"opset2/reflect", 2, []*tensor.Tensor{x}, []*onnx.Attribute{aString("mode", "reflect"), aInts("pads", 1, 2, 1, 2)}, sh(4, 7), reflectWant},
		{"opset2/edge", 2, []*tensor.Tensor{x}, []*onnx.Attribute{aString("mode", "edge"), aInts("pads", 1, 2, 1, 2)}, sh(4, 7), edgeWant},
		{"opset11/constant-value", 11, []*tensor.Tensor{x, pads(0, 1, 1, 2), f32(sh(), 9)}, nil, sh(3, 6), constWant},
		{"opset13/constant-no-value", 13, []*tensor.Tensor{x, pads(0, 1, 0, 0)}, nil, sh(2, 4), []float32{0, 1, 2, 3, 0, 4, 5, 6}},
		{"opset13/reflect", 13, []*tensor.Tensor{x, pads(1, 2, 1, 2)}, []*onnx.Attribute{aString("mode", "reflect")}, sh(4, 7), reflectWant},
		{"opset13/edge", 13, []*tensor.Tensor{x, pads(1, 2, 1, 2)}, []*onnx.Attribute{aString("mode", "edge")}, sh(4, 7), edgeWant},
		{"opset13/edge-large", 13, []*tensor.Tensor{f32(sh(2), 1, 2), pads(3, 2)}, []*onnx.Attribute{aString("mode", "edge")}, sh(7), []float32{1, 1, 1, 1, 2, 2, 2}},
		{"opset13/negative-crops", 13, []*tensor.Tensor{x, pads(0, -1, 0, 1)}, nil, sh(2, 3), []float32{2, 3, 0, 5, 6, 0}},
		{"opset13/negative-crops-both", 13, []*tensor.Tensor{x, pads(-1, -1, 0, -1)}, nil, sh(1, 1), []float32{5}},
		{"opset13/negative-reflect", 13, []*tensor.Tensor{x, pads(0, -1, 0, 1)}, []*onnx.Attribute{aString("mode", "reflect")}, sh(2, 3), []float32{2, 3, 2, 5, 6, 5}},
		{"opset13/zero-pads", 13, []*tensor.Tensor{x, pads(0, 0, 0, 0)}, nil, sh(2, 3), []float32{1, 2, 3, 4, 5, 6}},
		{"opset18/axes", 18, []*tensor.Tensor{x, pads(1, 1), f32(sh(), -1), i64(sh(1), 1)}, nil, sh(2, 5), []float32{-1, 1, 2, 3, -1, -1, 4, 5, 6, -1}},
		{"opset18/negative-axes", 18, []*tensor.Tensor{x, pads(1, 0), f32(sh(), -1), i64(sh(1), -2)}, nil, sh(3, 3), []float32{-1, -1, -1, 1, 2, 3, 4, 5, 6}},
		{"opset18/axes-no-value", 18, []*tensor.Tensor{x, pads(0, 1), nil, i64(sh(1), 0)}, nil, sh(3, 3), []float32{1, 2, 3, 4, 5, 6, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkF(t, rtOne(t, tc.opset, "Pad", tc.in, tc.attrs...), tc.shape, tc.want...)
		})
	}
	t.Run("NCHW-spatial-reflect-reference", func(t *testing.T) {
		r := rtRand(60)
		x := randT(r, 2, 3, 4, 5)
		got := rtOne(t, 13, "Pad", []*tensor.Tensor{x, pads(0, 0, 1, 3, 0, 0, 2, 4)}, aString("mode", "reflect"))
		refl := func(i, n int) int {
			for i < 0 || i >= n {
				if i < 0 {
					i = -i
				}
				if i >= n {
					i = 2*(n-1) - i
				}
			}
			return i
		}
		want := make([]float32, 0, 2*3*7*12)
		for p := 0; p < 6; p++ {
			for y := -1; y < 6; y++ {
				for xx := -3; xx < 9; xx++ {
					want = append(want, x.F32[p*20+refl(y, 4)*5+refl(xx, 5)])
				}
			}
		}
		checkF(t, got, sh(2, 3, 7, 12), want...)
	})
	// Constant pads against a value-by-value reference, on shapes whose
	// trailing dimensions are often left alone (copied as one run with
	// the padded dimension before them: a ResNet shortcut's channel
	// padding) and pads that crop too.
	t.Run("constant-random-reference", func(t *testing.T) {
		r := rtRand(61)
		for iter := 0; iter < 300; iter++ {
			rank := 1 + r.IntN(4)
			shape := make([]int, rank)
			for d := range shape {
				shape[d] = 1 + r.IntN(4)
			}
			x := randT(r, shape...)
			p := make([]int64, 2*rank)
			out := make([]int, rank)
			for d := range shape {
				if r.IntN(2) == 0 { // most trailing dimensions untouched
					p[d], p[rank+d] = int64(r.IntN(4)-1), int64(r.IntN(4)-1)
				}
				if int(p[d]) <= -shape[d] || int(p[rank+d]) <= -shape[d] || shape[d]+int(p[d]+p[rank+d]) < 1 {
					p[d], p[rank+d] = 0, 0
				}
				out[d] = shape[d] + int(p[d]+p[rank+d])
			}
			got := rtOne(t, 13, "Pad", []*tensor.Tensor{x, pads(p...), f32(sh(), -7)})
			want := make([]float32, tensor.NumElements(out))
			xs, ys := tensor.Strides(shape), tensor.Strides(out)
			for i := range want {
				at, inside := 0, true
				for d := range out {
					j := i/ys[d]%out[d] - int(p[d])
					if j < 0 || j >= shape[d] {
						inside = false
						break
					}
					at += j * xs[d]
				}
				want[i] = -7
				if inside {
					want[i] = x.F32[at]
				}
			}
			checkF(t, got, out, want...)
		}
	})
	t.Run("int64/constant", func(t *testing.T) {
		got := rtOne(t, 13, "Pad", []*tensor.Tensor{i64(sh(2), 1, 2), pads(1, 1), i64(sh(), 7)})
		checkI(t, got, tensor.Int64, sh(4), 7, 1, 2, 7)
	})
	t.Run("int64/constant-large-value-exact", func(t *testing.T) {
		// constant_value has the data's type: an int64 fill must not go
		// through float32 (which holds only 24 significant bits).
		got := rtOne(t, 13, "Pad", []*tensor.Tensor{i64(sh(1), 1), pads(1, 0), i64(sh(), 123456789)})
		checkI(t, got, tensor.Int64, sh(2), 123456789, 1)
	})
	t.Run("int64/edge", func(t *testing.T) {
		got := rtOne(t, 13, "Pad", []*tensor.Tensor{i64(sh(2), 1, 2), pads(2, 1)}, aString("mode", "edge"))
		checkI(t, got, tensor.Int64, sh(5), 1, 1, 1, 2, 2)
	})
	for _, tc := range []struct {
		name  string
		opset int64
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
	}{
		{"reflect-pad-not-smaller-than-dim", 13, []*tensor.Tensor{x, pads(2, 0, 0, 0)}, []*onnx.Attribute{aString("mode", "reflect")}},
		{"crop-below-zero", 13, []*tensor.Tensor{x, pads(-2, 0, -1, 0)}, nil},
		{"pads-wrong-length", 13, []*tensor.Tensor{x, pads(1, 1)}, nil},
		{"unknown-mode", 13, []*tensor.Tensor{x, pads(0, 0, 0, 0)}, []*onnx.Attribute{aString("mode", "wrap")}},
		{"opset2-missing-pads", 2, []*tensor.Tensor{x}, nil},
		{"opset11-pads-attr", 11, []*tensor.Tensor{x, pads(0, 0, 0, 0)}, []*onnx.Attribute{aInts("pads", 0, 0, 0, 0)}},
	} {
		t.Run("error/"+tc.name, func(t *testing.T) {
			if err := rtErr(tc.opset, "Pad", tc.in, tc.attrs...); err == nil {
				t.Error("got no error")
			}
		})
	}
	t.Run("error/runtime-pads", func(t *testing.T) {
		op := rtBuild(t, 13, "Pad")
		if _, err := rtEval(op, 1, 1, []*tensor.Tensor{x, pads(0, 0, 0, 0)}, constAt(2, 0)); err == nil {
			t.Error("non-constant pads were accepted")
		}
	})
}

// A Slice large enough to be split between workers gives, with 3 workers,
// what per-axis index lists give: every split starts its rows from the
// right input element (negative and larger steps on the outer axes
// included).
func TestSliceSplitBetweenWorkers(t *testing.T) {
	x := iota32(6, 160, 48, 8)
	starts, ends, steps := []int64{5, 1, 0, 7}, []int64{-100, 159, 48, 0}, []int64{-2, 2, 1, -3}
	var idx [4][]int
	for a, n := range x.Shape {
		idx[a] = specSlice(n, int(starts[a]), int(ends[a]), int(steps[a]))
	}
	var want []float32
	for _, i := range idx[0] {
		for _, j := range idx[1] {
			for _, k := range idx[2] {
				for _, l := range idx[3] {
					want = append(want, x.F32[((i*160+j)*48+k)*8+l])
				}
			}
		}
	}
	op := rtBuild(t, 13, "Slice")
	in := []*tensor.Tensor{x, i64(sh(4), starts...), i64(sh(4), ends...), i64(sh(4), 0, 1, 2, 3), i64(sh(4), steps...)}
	out, err := rtEval(op, 3, 1, in, allConst)
	if err != nil {
		t.Fatal(err)
	}
	// Rows of 3 values, at least 1<<14/3 rows a worker: 3 workers need
	// more than twice that.
	if rows := len(want) / 3; len(out[0].F32) != len(want) || rows <= 2*(1<<14/3) {
		t.Fatalf("%d values, want %d in more than %d rows", len(out[0].F32), len(want), 2*(1<<14/3))
	}
	for i := range want {
		if out[0].F32[i] != want[i] {
			t.Fatalf("value %d = %v, want %v", i, out[0].F32[i], want[i])
		}
	}
}

// Every other value of the last axis of a whole tensor (everyOther: a
// ResNet shortcut's Slice, one vector pass) gives the strided walk's
// bits, NaN payloads included, on every implementation and with 1 to 3
// workers; an odd last axis and a partial outer axis take the walk.
func TestSliceEveryOther(t *testing.T) {
	forEachGemmImpl(t, func(t *testing.T) {
		r := rtRand(63)
		for _, tc := range []struct {
			shape      []int
			start, end []int64 // on axes 0 and 3
			fast       bool
		}{
			{[]int{3, 16, 16, 32}, []int64{0, 0}, []int64{math.MaxInt64, math.MaxInt64}, true},
			{[]int{2, 3, 5, 2}, []int64{0, 0}, []int64{2, 2}, true},
			{[]int{50, 1, 1, 2050}, []int64{0, 0}, []int64{math.MaxInt64, 2050}, true},
			{[]int{2, 3, 5, 7}, []int64{0, 0}, []int64{math.MaxInt64, math.MaxInt64}, false},
			{[]int{3, 4, 4, 8}, []int64{1, 0}, []int64{math.MaxInt64, math.MaxInt64}, false},
		} {
			x := randT(r, tc.shape...)
			for i := range x.F32 {
				if r.IntN(7) == 0 {
					x.F32[i] = math.Float32frombits(0x7fc00000 | uint32(r.IntN(1<<22)) | uint32(r.IntN(2))<<31)
				}
			}
			dims := []sliceDim{{int(tc.start[0]), 1, tc.shape[0] - int(tc.start[0])}, {0, 1, tc.shape[1]}, {0, 1, tc.shape[2]}, {0, 2, (tc.shape[3] + 1) / 2}}
			if everyOther(dims, tc.shape) != tc.fast {
				t.Fatalf("%v: everyOther = %v", tc.shape, !tc.fast)
			}
			var want []float32
			for a := int(tc.start[0]); a < tc.shape[0]; a++ {
				for b := 0; b < tc.shape[1]*tc.shape[2]; b++ {
					for c := 0; c < tc.shape[3]; c += 2 {
						want = append(want, x.F32[(a*tc.shape[1]*tc.shape[2]+b)*tc.shape[3]+c])
					}
				}
			}
			for _, workers := range []int{1, 2, 3} {
				in := []*tensor.Tensor{x, i64(sh(2), tc.start...), i64(sh(2), tc.end...), i64(sh(2), 0, 3), i64(sh(2), 1, 2)}
				out, err := rtEval(rtBuild(t, 13, "Slice"), workers, 1, in, allConst)
				if err != nil {
					t.Fatal(err)
				}
				if len(out[0].F32) != len(want) {
					t.Fatalf("%v: %d values, want %d", tc.shape, len(out[0].F32), len(want))
				}
				for i, v := range want {
					if math.Float32bits(out[0].F32[i]) != math.Float32bits(v) {
						t.Fatalf("%v, %d workers: value %d = %#x, want %#x", tc.shape, workers, i, math.Float32bits(out[0].F32[i]), math.Float32bits(v))
					}
				}
			}
		}
	})
}
