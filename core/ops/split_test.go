package ops

import (
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// splitNode builds a Split node with nOut outputs.
func splitNode(nOut int, attrs ...*onnx.Attribute) *onnx.Node {
	n := rtNode("Split", attrs...)
	for i := 0; i < nOut; i++ {
		n.Outputs = append(n.Outputs, string(rune('a'+i)))
	}
	return n
}

func TestSplit(t *testing.T) {
	x := iota32(2, 5) // rows 1..5 and 6..10
	for _, tc := range []struct {
		name   string
		opset  int64
		nOut   int
		attrs  []*onnx.Attribute
		split  *tensor.Tensor
		shapes [][]int
		want   [][]float32
	}{
		{"equal/axis0", 13, 2, nil, nil, [][]int{{1, 5}, {1, 5}},
			[][]float32{{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}}},
		{"input-sizes/negative-axis", 13, 2, []*onnx.Attribute{aInt("axis", -1)}, i64(sh(2), 2, 3), [][]int{{2, 2}, {2, 3}},
			[][]float32{{1, 2, 6, 7}, {3, 4, 5, 8, 9, 10}}},
		{"attr-sizes/opset11", 11, 3, []*onnx.Attribute{aInt("axis", 1), aInts("split", 1, 0, 4)}, nil, [][]int{{2, 1}, {2, 0}, {2, 4}},
			[][]float32{{1, 6}, {}, {2, 3, 4, 5, 7, 8, 9, 10}}},
		// Opset 18: parts of ceil(5/3) = 2, the remainder last.
		{"num_outputs/remainder", 18, 3, []*onnx.Attribute{aInt("axis", 1), aInt("num_outputs", 3)}, nil, [][]int{{2, 2}, {2, 2}, {2, 1}},
			[][]float32{{1, 2, 6, 7}, {3, 4, 8, 9}, {5, 10}}},
		{"num_outputs/even", 18, 5, []*onnx.Attribute{aInt("axis", 1), aInt("num_outputs", 5)}, nil, [][]int{{2, 1}, {2, 1}, {2, 1}, {2, 1}, {2, 1}},
			[][]float32{{1, 6}, {2, 7}, {3, 8}, {4, 9}, {5, 10}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op, err := Build(splitNode(tc.nOut, tc.attrs...), tc.opset)
			if err != nil {
				t.Fatal(err)
			}
			in := []*tensor.Tensor{x}
			if tc.split != nil {
				in = append(in, tc.split)
			}
			out := rtMust(t, op, 1, tc.nOut, in, allConst)
			for i := range out {
				checkF(t, out[i], tc.shapes[i], tc.want[i]...)
			}
		})
	}
	t.Run("int64/omitted-output", func(t *testing.T) {
		n := splitNode(3)
		n.Outputs[1] = ""
		op, err := Build(n, 13)
		if err != nil {
			t.Fatal(err)
		}
		metas, err := Infer(op, []Meta{{tensor.Int64, sh(6)}}, []*tensor.Tensor{nil}, n.Outputs)
		if err != nil {
			t.Fatal(err)
		}
		out := []*tensor.Tensor{tensor.New(tensor.Int64, metas[0].Shape...), nil, tensor.New(tensor.Int64, metas[2].Shape...)}
		if err := op.Run(&Ctx{Workers: 1}, []*tensor.Tensor{iota64(6)}, out); err != nil {
			t.Fatal(err)
		}
		checkI(t, out[0], tensor.Int64, sh(2), 0, 1)
		checkI(t, out[2], tensor.Int64, sh(2), 4, 5)
	})
	for _, tc := range []struct {
		name  string
		opset int64
		nOut  int
		attrs []*onnx.Attribute
		split *tensor.Tensor
		want  string
	}{
		{"uneven-without-sizes", 13, 3, nil, nil, "equal parts"},
		{"sizes-wrong-sum", 13, 2, nil, i64(sh(2), 1, 2), "sums to 3"},
		{"sizes-wrong-count", 13, 2, nil, i64(sh(3), 1, 0, 1), "3 sizes for 2 outputs"},
		{"negative-size", 13, 2, nil, i64(sh(2), 5, -1), "sizes must be"},
		{"attr-after-13", 13, 2, []*onnx.Attribute{aInts("split", 1, 1)}, nil, "became an input"},
		{"num_outputs-before-18", 13, 2, []*onnx.Attribute{aInt("num_outputs", 2)}, nil, "opset 18"},
		{"num_outputs-mismatch", 18, 2, []*onnx.Attribute{aInt("num_outputs", 3)}, nil, "3 but the node has 2"},
		{"num_outputs-and-split", 18, 2, []*onnx.Attribute{aInt("num_outputs", 2)}, i64(sh(2), 1, 1), "give one"},
		{"axis-out-of-range", 13, 2, []*onnx.Attribute{aInt("axis", 2)}, nil, "out of range"},
	} {
		t.Run("error/"+tc.name, func(t *testing.T) {
			op, err := Build(splitNode(tc.nOut, tc.attrs...), tc.opset)
			if err == nil {
				in := []*tensor.Tensor{iota32(4, 2)}
				if tc.split != nil {
					in = append(in, tc.split)
				}
				_, err = rtEval(op, 1, tc.nOut, in, allConst)
			}
			wantErr(t, err, tc.want)
		})
	}
	t.Run("num_outputs-too-many", func(t *testing.T) {
		// ceil(2/4) = 1: parts 1, 1, 1 and -1: refused, not a negative shape.
		op, err := Build(splitNode(4, aInt("num_outputs", 4)), 18)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rtEval(op, 1, 4, []*tensor.Tensor{iota32(2)}, allConst)
		wantErr(t, err, "cannot be split into 4 parts")
	})
}
