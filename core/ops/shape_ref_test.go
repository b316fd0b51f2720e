package ops

import (
	"fmt"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func TestReshape(t *testing.T) {
	x := iota32(2, 3, 4)
	values := x.F32
	for _, tc := range []struct {
		name   string
		x      *tensor.Tensor
		target []int64
		attrs  []*onnx.Attribute
		want   []int
	}{
		{"explicit", x, []int64{4, 6}, nil, []int{4, 6}},
		{"minus1-infer-last", x, []int64{2, -1}, nil, []int{2, 12}},
		{"minus1-infer-first", x, []int64{-1, 4}, nil, []int{6, 4}},
		{"zero-copies-dim", x, []int64{0, -1}, nil, []int{2, 12}},
		{"zero-copies-middle", x, []int64{0, 0, 2, 2}, nil, []int{2, 3, 2, 2}},
		{"flatten-all", x, []int64{-1}, nil, []int{24}},
		{"add-unit-dims", x, []int64{1, 2, 1, 12, 1}, nil, []int{1, 2, 1, 12, 1}},
		{"scalar-to-1", f32(sh(), 7), []int64{1, 1}, nil, []int{1, 1}},
		{"to-scalar", f32(sh(1, 1), 7), []int64{}, nil, []int{}},
		{"allowzero-0-keeps-copy-semantics", x, []int64{0, 12}, []*onnx.Attribute{aInt("allowzero", 0)}, []int{2, 12}},
		{"allowzero-1-literal-zero", tensor.New(tensor.Float32, 0, 3), []int64{3, 0}, []*onnx.Attribute{aInt("allowzero", 1)}, []int{3, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtOne(t, 14, "Reshape", []*tensor.Tensor{tc.x, tensor.FromInt64(tc.target, len(tc.target))}, tc.attrs...)
			checkShape(t, got, tensor.Float32, tc.want)
			if tc.x == x {
				checkF(t, got, tc.want, values...)
			}
		})
	}
	t.Run("int64-data", func(t *testing.T) {
		got := rtOne(t, 14, "Reshape", []*tensor.Tensor{iota64(2, 3), i64(sh(1), -1)})
		checkI(t, got, tensor.Int64, sh(6), 0, 1, 2, 3, 4, 5)
	})
	for _, tc := range []struct {
		name   string
		target []int64
		attrs  []*onnx.Attribute
	}{
		{"two-minus1", []int64{-1, -1}, nil},
		{"wrong-count", []int64{5, 5}, nil},
		{"minus1-not-divisible", []int64{5, -1}, nil},
		{"negative", []int64{-2, 12}, nil},
		{"zero-past-rank", []int64{2, 3, 4, 0}, nil},
		{"allowzero-with-minus1", []int64{0, -1}, []*onnx.Attribute{aInt("allowzero", 1)}},
	} {
		t.Run("error/"+tc.name, func(t *testing.T) {
			if err := rtErr(14, "Reshape", []*tensor.Tensor{x, tensor.FromInt64(tc.target, len(tc.target))}, tc.attrs...); err == nil {
				t.Error("got no error")
			}
		})
	}
	t.Run("error/runtime-shape", func(t *testing.T) {
		op := rtBuild(t, 14, "Reshape")
		if _, err := rtEval(op, 1, 1, []*tensor.Tensor{x, i64(sh(1), -1)}, constAt(2, 0)); err == nil {
			t.Error("a non-constant shape was accepted")
		}
	})
}

func TestFlatten(t *testing.T) {
	x := iota32(2, 3, 4, 5)
	for _, tc := range []struct {
		name  string
		attrs []*onnx.Attribute
		want  []int
	}{
		{"default-axis1", nil, []int{2, 60}},
		{"axis0", []*onnx.Attribute{aInt("axis", 0)}, []int{1, 120}},
		{"axis1", []*onnx.Attribute{aInt("axis", 1)}, []int{2, 60}},
		{"axis2", []*onnx.Attribute{aInt("axis", 2)}, []int{6, 20}},
		{"axis4=rank", []*onnx.Attribute{aInt("axis", 4)}, []int{120, 1}},
		{"axis-1", []*onnx.Attribute{aInt("axis", -1)}, []int{24, 5}},
		{"axis-4", []*onnx.Attribute{aInt("axis", -4)}, []int{1, 120}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtOne(t, 13, "Flatten", []*tensor.Tensor{x}, tc.attrs...)
			checkF(t, got, tc.want, x.F32...)
		})
	}
	for _, axis := range []int64{5, -5} {
		t.Run(fmt.Sprintf("error/axis%d", axis), func(t *testing.T) {
			if err := rtErr(13, "Flatten", []*tensor.Tensor{x}, aInt("axis", axis)); err == nil {
				t.Error("got no error")
			}
		})
	}
}

func TestTranspose(t *testing.T) {
	t.Run("hand/2D-default", func(t *testing.T) {
		got := rtOne(t, 13, "Transpose", []*tensor.Tensor{iota32(2, 3)})
		checkF(t, got, sh(3, 2), 1, 4, 2, 5, 3, 6)
	})
	t.Run("hand/3D-default-reverses", func(t *testing.T) {
		// x[i][j][k] = 1 + 4i + 2j + k over [2,2,2]; out[k][j][i] = x[i][j][k].
		got := rtOne(t, 13, "Transpose", []*tensor.Tensor{iota32(2, 2, 2)})
		checkF(t, got, sh(2, 2, 2), 1, 5, 3, 7, 2, 6, 4, 8)
	})
	t.Run("int64", func(t *testing.T) {
		got := rtOne(t, 13, "Transpose", []*tensor.Tensor{iota64(2, 3)}, aInts("perm", 1, 0))
		checkI(t, got, tensor.Int64, sh(3, 2), 0, 3, 1, 4, 2, 5)
	})
	x := randT(rtRand(40), 2, 3, 4, 5)
	for _, perm := range [][]int{{0, 1, 2, 3}, {0, 2, 3, 1}, {0, 3, 1, 2}, {3, 2, 1, 0}, {1, 0, 3, 2}, {2, 0, 1, 3}, nil} {
		name := fmt.Sprint(perm)
		var attrs []*onnx.Attribute
		p := perm
		if perm == nil {
			name, p = "default", []int{3, 2, 1, 0}
		} else {
			ints := make([]int64, len(perm))
			for i, v := range perm {
				ints[i] = int64(v)
			}
			attrs = append(attrs, aInts("perm", ints...))
		}
		t.Run(name, func(t *testing.T) {
			shape := make([]int, len(p))
			for i, q := range p {
				shape[i] = x.Shape[q]
			}
			want := refTranspose(x.F32, x.Shape, p)
			got := rtOne(t, 13, "Transpose", []*tensor.Tensor{x}, attrs...)
			checkF(t, got, shape, want...)
		})
	}
	for _, perm := range [][]int64{{0, 1, 2}, {0, 1, 2, 2}, {0, 1, 2, 4}} {
		t.Run(fmt.Sprintf("error/perm%v", perm), func(t *testing.T) {
			if err := rtErr(13, "Transpose", []*tensor.Tensor{x}, aInts("perm", perm...)); err == nil {
				t.Error("got no error")
			}
		})
	}
}

func TestSqueezeUnsqueeze(t *testing.T) {
	x := iota32(1, 3, 1, 2)
	for _, tc := range []struct {
		name  string
		opset int64
		op    string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		want  []int
	}{
		{"Squeeze/opset11/attr", 11, "Squeeze", []*tensor.Tensor{x}, []*onnx.Attribute{aInts("axes", 0)}, []int{3, 1, 2}},
		{"Squeeze/opset11/negative-attr", 11, "Squeeze", []*tensor.Tensor{x}, []*onnx.Attribute{aInts("axes", -2)}, []int{1, 3, 2}},
		{"Squeeze/opset11/all", 11, "Squeeze", []*tensor.Tensor{x}, nil, []int{3, 2}},
		{"Squeeze/opset13/input", 13, "Squeeze", []*tensor.Tensor{x, i64(sh(2), 0, 2)}, nil, []int{3, 2}},
		{"Squeeze/opset13/negative-input", 13, "Squeeze", []*tensor.Tensor{x, i64(sh(1), -4)}, nil, []int{3, 1, 2}},
		{"Squeeze/opset13/no-axes-all", 13, "Squeeze", []*tensor.Tensor{x}, nil, []int{3, 2}},
		{"Squeeze/to-scalar", 13, "Squeeze", []*tensor.Tensor{f32(sh(1, 1), 5)}, nil, []int{}},
		{"Unsqueeze/opset11/attr", 11, "Unsqueeze", []*tensor.Tensor{x}, []*onnx.Attribute{aInts("axes", 0, 5)}, []int{1, 1, 3, 1, 2, 1}},
		{"Unsqueeze/opset11/negative-attr", 11, "Unsqueeze", []*tensor.Tensor{x}, []*onnx.Attribute{aInts("axes", -1)}, []int{1, 3, 1, 2, 1}},
		{"Unsqueeze/opset13/input", 13, "Unsqueeze", []*tensor.Tensor{x, i64(sh(2), 1, 3)}, nil, []int{1, 1, 3, 1, 1, 2}},
		{"Unsqueeze/opset13/negative-input", 13, "Unsqueeze", []*tensor.Tensor{x, i64(sh(2), -1, -3)}, nil, []int{1, 3, 1, 1, 2, 1}},
		{"Unsqueeze/opset13/unordered", 13, "Unsqueeze", []*tensor.Tensor{x, i64(sh(2), 4, 0)}, nil, []int{1, 1, 3, 1, 1, 2}},
		{"Unsqueeze/scalar", 13, "Unsqueeze", []*tensor.Tensor{f32(sh(), 5), i64(sh(1), 0)}, nil, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtOne(t, tc.opset, tc.op, tc.in, tc.attrs...)
			checkF(t, got, tc.want, tc.in[0].F32...)
		})
	}
	t.Run("int64", func(t *testing.T) {
		got := rtOne(t, 13, "Unsqueeze", []*tensor.Tensor{iota64(3), i64(sh(1), 0)})
		checkI(t, got, tensor.Int64, sh(1, 3), 0, 1, 2)
	})
	for _, tc := range []struct {
		name  string
		opset int64
		op    string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
	}{
		{"Squeeze/non-unit-axis", 13, "Squeeze", []*tensor.Tensor{x, i64(sh(1), 1)}, nil},
		{"Squeeze/axis-out-of-range", 13, "Squeeze", []*tensor.Tensor{x, i64(sh(1), 4)}, nil},
		{"Squeeze/opset13-attr", 13, "Squeeze", []*tensor.Tensor{x}, []*onnx.Attribute{aInts("axes", 0)}},
		{"Unsqueeze/opset11-no-axes", 11, "Unsqueeze", []*tensor.Tensor{x}, nil},
		{"Unsqueeze/opset13-no-axes", 13, "Unsqueeze", []*tensor.Tensor{x}, nil},
		{"Unsqueeze/repeated-axis", 13, "Unsqueeze", []*tensor.Tensor{x, i64(sh(2), 0, -6)}, nil},
		{"Unsqueeze/axis-out-of-range", 13, "Unsqueeze", []*tensor.Tensor{x, i64(sh(1), 5)}, nil},
	} {
		t.Run("error/"+tc.name, func(t *testing.T) {
			if err := rtErr(tc.opset, tc.op, tc.in, tc.attrs...); err == nil {
				t.Error("got no error")
			}
		})
	}
}

func TestShape(t *testing.T) {
	x := tensor.New(tensor.Float32, 2, 3, 4, 5)
	for _, tc := range []struct {
		name  string
		opset int64
		x     *tensor.Tensor
		attrs []*onnx.Attribute
		want  []int64
	}{
		{"opset13", 13, x, nil, []int64{2, 3, 4, 5}},
		{"scalar", 13, f32(sh(), 1), nil, []int64{}},
		{"int64-input", 13, tensor.New(tensor.Int64, 7), nil, []int64{7}},
		{"opset15/start1", 15, x, []*onnx.Attribute{aInt("start", 1)}, []int64{3, 4, 5}},
		{"opset15/end-1", 15, x, []*onnx.Attribute{aInt("end", -1)}, []int64{2, 3, 4}},
		{"opset15/start-2", 15, x, []*onnx.Attribute{aInt("start", -2)}, []int64{4, 5}},
		{"opset15/start1-end3", 15, x, []*onnx.Attribute{aInt("start", 1), aInt("end", 3)}, []int64{3, 4}},
		{"opset15/clamped", 15, x, []*onnx.Attribute{aInt("start", -10), aInt("end", 10)}, []int64{2, 3, 4, 5}},
		{"opset15/empty", 15, x, []*onnx.Attribute{aInt("start", 3), aInt("end", 1)}, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtOne(t, tc.opset, "Shape", []*tensor.Tensor{tc.x}, tc.attrs...)
			checkI(t, got, tensor.Int64, sh(len(tc.want)), tc.want...)
		})
	}
	t.Run("error/start-before-opset15", func(t *testing.T) {
		if _, err := Build(rtNode("Shape", aInt("start", 1)), 14); err == nil {
			t.Error("got no error")
		}
	})
}
