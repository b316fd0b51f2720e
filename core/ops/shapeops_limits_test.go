package ops

import (
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// The shape and resizing operators' output sizes come from the model
// (shapes, sizes, scales, repeats, block sizes): each is checked before a
// tensor of it can exist, from metas only.
func TestShapeOpsSizesAreChecked(t *testing.T) {
	meta := func(s ...int) Meta { return Meta{DType: tensor.Float32, Shape: s} }
	ints := func(v ...int64) *tensor.Tensor { return i64(sh(len(v)), v...) }
	for _, tc := range []struct {
		name   string
		op     string
		attrs  []*onnx.Attribute
		in     []Meta
		consts []*tensor.Tensor
		want   string
	}{
		{"Expand", "Expand", nil, []Meta{meta(1, 1), {tensor.Int64, sh(2)}}, []*tensor.Tensor{nil, ints(1<<30, 1<<30)}, "elements"},
		{"Expand wrapping", "Expand", nil, []Meta{meta(1, 1), {tensor.Int64, sh(2)}}, []*tensor.Tensor{nil, ints(1<<32, 1<<32)}, "elements"},
		{"Resize sizes", "Resize", nil, []Meta{meta(1, 1, 2, 2), {}, {}, {tensor.Int64, sh(4)}},
			[]*tensor.Tensor{nil, nil, nil, ints(1, 1, 1<<30, 1<<30)}, "elements"},
		{"Resize scales", "Resize", nil, []Meta{meta(1, 1, 2, 2), {}, {tensor.Float32, sh(4)}},
			[]*tensor.Tensor{nil, nil, f32(sh(4), 1, 1, 1<<29, 1<<29)}, "elements"},
		{"Range", "Range", nil, []Meta{{tensor.Int64, sh()}, {tensor.Int64, sh()}, {tensor.Int64, sh()}},
			[]*tensor.Tensor{i64(sh(), 0), i64(sh(), 1<<50), i64(sh(), 1)}, "at most"},
		{"DepthToSpace", "DepthToSpace", []*onnx.Attribute{aInt("blocksize", 1<<20)}, []Meta{meta(1, 0, 1<<30, 1<<30)}, nil, "too large"},
		{"SpaceToDepth", "SpaceToDepth", []*onnx.Attribute{aInt("blocksize", 1<<10)}, []Meta{meta(1, 1<<30, 1<<10, 1<<10)}, nil, "elements"},
		{"ConvTranspose", "ConvTranspose", []*onnx.Attribute{aInts("strides", 1<<20, 1<<20)},
			[]Meta{meta(1, 1, 1<<10, 1<<10), meta(1, 1, 1, 1)}, nil, "elements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := rtBuild(t, 19, tc.op, tc.attrs...)
			consts := tc.consts
			if consts == nil {
				consts = make([]*tensor.Tensor, len(tc.in))
			}
			_, err := Infer(op, tc.in, consts, nil)
			wantErr(t, err, tc.want)
		})
	}
}
