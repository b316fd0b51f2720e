package ops

import (
	"fmt"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// TestShapeOpsNeverPanic drives the shape, resizing and indexing operators
// with random small shapes, attributes and constant inputs, many of them
// inconsistent: each node must be refused with an error or run, never
// crash (rtEval turns a panic into an error starting "panic:").
func TestShapeOpsNeverPanic(t *testing.T) {
	r := rtRand(1515)
	dim := func() int { return r.IntN(4) }
	shape := func(rank int) []int {
		s := make([]int, rank)
		for i := range s {
			s[i] = dim() + 1
		}
		return s
	}
	smallInts := func(n int, lo, hi int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(lo + r.IntN(hi-lo+1))
		}
		return v
	}
	type trial struct {
		op    string
		opset int64
		nOut  int
		attrs []*onnx.Attribute
		in    []*tensor.Tensor
	}
	gens := []func() trial{
		func() trial {
			x := randT(r, shape(1+r.IntN(4))...)
			n := 1 + r.IntN(3)
			tr := trial{op: "Split", opset: []int64{11, 13, 18}[r.IntN(3)], nOut: n, attrs: []*onnx.Attribute{aInt("axis", int64(r.IntN(9)-4))}, in: []*tensor.Tensor{x}}
			switch r.IntN(3) {
			case 0:
				tr.in = append(tr.in, i64(sh(n), smallInts(n, -1, 4)...))
			case 1:
				tr.attrs = append(tr.attrs, aInt("num_outputs", int64(n)))
			}
			return tr
		},
		func() trial {
			x := randT(r, shape(r.IntN(4))...)
			k := r.IntN(4)
			return trial{op: "Expand", opset: 13, nOut: 1, in: []*tensor.Tensor{x, i64(sh(k), smallInts(k, -1, 3)...)}}
		},
		func() trial {
			rank := 1 + r.IntN(3)
			x := randT(r, shape(rank)...)
			k := rank + r.IntN(3) - 1
			return trial{op: "Tile", opset: 13, nOut: 1, in: []*tensor.Tensor{x, i64(sh(k), smallInts(k, -1, 3)...)}}
		},
		func() trial {
			rank := 1 + r.IntN(4)
			x := randT(r, shape(rank)...)
			modes := []string{"nearest", "linear", "cubic"}
			coords := []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"}
			attrs := []*onnx.Attribute{aString("mode", modes[r.IntN(3)]), aString("coordinate_transformation_mode", coords[r.IntN(5)]),
				aInt("exclude_outside", int64(r.IntN(2)))}
			n := rank
			if r.IntN(3) == 0 {
				n = 1 + r.IntN(rank)
				axes := make([]int64, n)
				for i := range axes {
					axes[i] = int64(r.IntN(2*rank) - rank)
				}
				attrs = append(attrs, aInts("axes", axes...))
			}
			in := []*tensor.Tensor{x, nil, nil, nil}
			if r.IntN(2) == 0 {
				v := make([]float32, n)
				for i := range v {
					v[i] = []float32{0, 0.3, 0.5, 1, 1.7, 3, -1}[r.IntN(7)]
				}
				in[2] = f32(sh(n), v...)
			} else {
				in[3] = i64(sh(n), smallInts(n, -1, 6)...)
			}
			return trial{op: "Resize", opset: 19, nOut: 1, attrs: attrs, in: in}
		},
		func() trial {
			rank := 1 + r.IntN(2)
			c, g := 1+r.IntN(4), 1+r.IntN(2)
			xs := append([]int{1 + r.IntN(2), c}, shape(rank)...)
			ws := append([]int{c, 1 + r.IntN(3)}, shape(rank)...)
			attrs := []*onnx.Attribute{aInt("group", int64(g)), aInts("strides", smallInts(rank, 1, 3)...),
				aInts("dilations", smallInts(rank, 1, 2)...)}
			switch r.IntN(4) {
			case 0:
				attrs = append(attrs, aInts("pads", smallInts(2*rank, 0, 3)...))
			case 1:
				attrs = append(attrs, aString("auto_pad", []string{"SAME_UPPER", "SAME_LOWER", "VALID"}[r.IntN(3)]))
			case 2:
				attrs = append(attrs, aInts("output_shape", smallInts(rank, 0, 12)...))
			}
			if r.IntN(3) == 0 {
				attrs = append(attrs, aInts("output_padding", smallInts(rank, 0, 2)...))
			}
			return trial{op: "ConvTranspose", opset: 13, nOut: 1, attrs: attrs, in: []*tensor.Tensor{randT(r, xs...), randT(r, ws...)}}
		},
		func() trial {
			x := randT(r, shape(1+r.IntN(3))...)
			return trial{op: "TopK", opset: 11, nOut: 2, attrs: []*onnx.Attribute{aInt("axis", int64(r.IntN(5)-2))}, in: []*tensor.Tensor{x, i64(sh(1), int64(r.IntN(5)-1))}}
		},
		func() trial {
			s := shape(1 + r.IntN(3))
			ix := make([]int, len(s))
			for i := range ix {
				ix[i] = dim() + 1
			}
			idx := tensor.New(tensor.Int64, ix...)
			for i := range idx.I64 {
				idx.I64[i] = int64(r.IntN(9) - 4)
			}
			op := []string{"GatherElements", "ScatterElements"}[r.IntN(2)]
			in := []*tensor.Tensor{randT(r, s...), idx}
			if op == "ScatterElements" {
				in = append(in, randT(r, ix...))
			}
			return trial{op: op, opset: 13, nOut: 1, attrs: []*onnx.Attribute{aInt("axis", int64(r.IntN(5)-2))}, in: in}
		},
		func() trial {
			s := shape(1 + r.IntN(3))
			q := r.IntN(len(s) + 2)
			lead := 1 + r.IntN(3)
			idx := tensor.New(tensor.Int64, lead, q)
			for i := range idx.I64 {
				idx.I64[i] = int64(r.IntN(9) - 4)
			}
			us := []int{lead}
			if q <= len(s) {
				us = append(us, s[q:]...)
			}
			return trial{op: "ScatterND", opset: 13, nOut: 1, in: []*tensor.Tensor{randT(r, s...), idx, randT(r, us...)}}
		},
	}
	ran := map[string]int{}
	for i := 0; i < 3000; i++ {
		tr := gens[i%len(gens)]()
		n := &onnx.Node{Name: "n", OpType: tr.op, Attrs: tr.attrs}
		for j := 0; j < tr.nOut; j++ {
			n.Outputs = append(n.Outputs, string(rune('a'+j)))
		}
		op, err := Build(n, tr.opset)
		if err != nil {
			continue
		}
		_, err = rtEval(op, 1+r.IntN(3), tr.nOut, tr.in, allConst)
		if err == nil {
			ran[tr.op]++
		}
		if err != nil && strings.HasPrefix(err.Error(), "panic:") {
			shapes := make([][]int, len(tr.in))
			for j, x := range tr.in {
				if x != nil {
					shapes[j] = x.Shape
				}
			}
			t.Fatalf("%s (opset %d) attrs %v inputs %v: %v", tr.op, tr.opset, describeAttrs(tr.attrs), shapes, err)
		}
	}
	t.Logf("ran without error (the rest refused): %v", ran)
}

// describeAttrs formats attributes for a failure message.
func describeAttrs(attrs []*onnx.Attribute) string {
	var b strings.Builder
	for _, a := range attrs {
		switch a.Type {
		case onnx.AttrInt:
			fmt.Fprintf(&b, "%s=%d ", a.Name, a.I)
		case onnx.AttrInts:
			fmt.Fprintf(&b, "%s=%v ", a.Name, a.Ints)
		default:
			fmt.Fprintf(&b, "%s=%q ", a.Name, a.S)
		}
	}
	return b.String()
}
