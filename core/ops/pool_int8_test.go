package ops

import (
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// Max pooling passed int8 (Int8Passer) gives the bytes of the float32
// pooling quantized: quantizing is monotonic, so it commutes with the
// max, for every window kind (the 2×2 fast path, padding, ceil mode,
// dilation, windows overhanging the input). Average pooling does not
// commute and refuses.
func TestMaxPoolPassesInt8(t *testing.T) {
	rng := rand.New(rand.NewSource(20))
	ints := func(v ...int64) *onnx.Attribute { return &onnx.Attribute{Type: onnx.AttrInts, Ints: v} }
	for _, tc := range []struct {
		name  string
		attrs map[string]*onnx.Attribute
		h, w  int
	}{
		{"2x2 stride 2", map[string]*onnx.Attribute{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}, 24, 24},
		{"2x2 stride 2, odd size", map[string]*onnx.Attribute{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}, 9, 11},
		{"3x3 stride 2 pad 1", map[string]*onnx.Attribute{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}, 13, 12},
		{"3x3 ceil mode", map[string]*onnx.Attribute{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "ceil_mode": {Type: onnx.AttrInt, I: 1}}, 10, 10},
		{"2x2 dilated", map[string]*onnx.Attribute{"kernel_shape": ints(2, 2), "dilations": ints(2, 2)}, 7, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attrs []*onnx.Attribute
			for name, a := range tc.attrs {
				a.Name = name
				attrs = append(attrs, a)
			}
			build := func() Op {
				op, err := Build(&onnx.Node{Name: "p", OpType: "MaxPool", Attrs: attrs}, 13)
				if err != nil {
					t.Fatal(err)
				}
				return op
			}
			x := tensor.New(tensor.Float32, 2, 3, tc.h, tc.w)
			for i := range x.F32 {
				x.F32[i] = float32(rng.NormFloat64() * 2)
			}
			f := build()
			ms, err := f.Infer([]Meta{{tensor.Float32, x.Shape}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			y := tensor.New(tensor.Float32, ms[0].Shape...)
			if err := f.Run(&Ctx{Workers: 2}, []*tensor.Tensor{x}, []*tensor.Tensor{y, nil}); err != nil {
				t.Fatal(err)
			}
			const scale = 0.02 // values past ±2.56 saturate
			xq := &tensor.Tensor{DType: tensor.Int8, Shape: x.Shape, I8: make([]int8, x.Len())}
			qgemm.Quantize(xq.I8, x.F32, scale)
			want := make([]int8, y.Len())
			qgemm.Quantize(want, y.F32, scale)
			q := build()
			p := q.(Int8Passer)
			if !p.CanPassInt8() {
				t.Fatal("MaxPool cannot pass int8")
			}
			p.PassInt8()
			got := &tensor.Tensor{DType: tensor.Int8, Shape: y.Shape, I8: make([]int8, y.Len())}
			if err := q.Run(&Ctx{Workers: 2}, []*tensor.Tensor{xq}, []*tensor.Tensor{got, nil}); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got.I8[i] != want[i] {
					t.Fatalf("byte %d = %d, want %d", i, got.I8[i], want[i])
				}
			}
		})
	}
	avg, err := Build(&onnx.Node{Name: "a", OpType: "AveragePool", Attrs: []*onnx.Attribute{{Name: "kernel_shape", Type: onnx.AttrInts, Ints: []int64{2, 2}}}}, 13)
	if err != nil {
		t.Fatal(err)
	}
	if avg.(Int8Passer).CanPassInt8() {
		t.Error("AveragePool says it can pass int8")
	}
}
