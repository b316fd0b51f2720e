package ops

import (
	"math"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// A Conv with a fused residual computes act(conv(x) + b + r), on every
// path: wide (stride 1, small padding), unfolded (stride 2) and pointwise.
func TestConvFusedResidual(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	fill := func(tt *tensor.Tensor) {
		for i := range tt.F32 {
			tt.F32[i] = rng.Float32()*2 - 1
		}
	}
	for _, tc := range []struct {
		name           string
		kernel, stride int
		pads           []int64
	}{
		{"wide 3x3", 3, 1, []int64{1, 1, 1, 1}},
		{"unfolded stride 2", 3, 2, []int64{1, 1, 1, 1}},
		{"pointwise", 1, 1, []int64{0, 0, 0, 0}},
	} {
		for _, relu := range []bool{false, true} {
			attrs := []*onnx.Attribute{
				{Name: "pads", Type: onnx.AttrInts, Ints: tc.pads},
				{Name: "strides", Type: onnx.AttrInts, Ints: []int64{int64(tc.stride), int64(tc.stride)}},
			}
			plain, _ := Build(&onnx.Node{Name: "c", OpType: "Conv", Attrs: attrs}, 13)
			fused, _ := Build(&onnx.Node{Name: "c", OpType: "Conv", Attrs: attrs}, 13)
			if !fused.(ResidualFusable).FuseResidual() {
				t.Fatal("FuseResidual refused")
			}
			if relu && !fused.(Fusable).FuseActivation(Activation{Kind: ReluActivation}) {
				t.Fatal("FuseActivation refused after FuseResidual")
			}
			x, w, b := tensor.New(tensor.Float32, 3, 5, 9, 9), tensor.New(tensor.Float32, 7, 5, tc.kernel, tc.kernel), tensor.New(tensor.Float32, 7)
			fill(x)
			fill(w)
			fill(b)
			ms, err := plain.Infer([]Meta{{tensor.Float32, x.Shape}, {tensor.Float32, w.Shape}, {tensor.Float32, b.Shape}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := tensor.New(tensor.Float32, ms[0].Shape...)
			fill(r)
			want := tensor.New(tensor.Float32, ms[0].Shape...)
			if err := plain.Run(&Ctx{Workers: 2}, []*tensor.Tensor{x, w, b}, []*tensor.Tensor{want}); err != nil {
				t.Fatal(err)
			}
			for i := range want.F32 {
				want.F32[i] += r.F32[i]
				if relu {
					want.F32[i] = max(want.F32[i], 0)
				}
			}
			in := []*tensor.Tensor{x, w, b, r}
			if _, err := fused.Infer([]Meta{{tensor.Float32, x.Shape}, {tensor.Float32, w.Shape}, {tensor.Float32, b.Shape}, {tensor.Float32, r.Shape}}, nil); err != nil {
				t.Fatal(err)
			}
			got := tensor.New(tensor.Float32, ms[0].Shape...)
			if err := fused.Run(&Ctx{Workers: 2}, in, []*tensor.Tensor{got}); err != nil {
				t.Fatal(err)
			}
			for i := range want.F32 {
				if math.Abs(float64(got.F32[i]-want.F32[i])) > 1e-5 {
					t.Fatalf("%s relu=%v: value %d = %v, want %v", tc.name, relu, i, got.F32[i], want.F32[i])
				}
			}
		}
	}
}
