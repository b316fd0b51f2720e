package ops

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// benchPair runs the float operator op and its INT8 variant (inputs
// quantized with per-tensor scales for the inputs named by
// Int8Inputs) on the same inputs, as sub-benchmarks fp32 and int8.
// consts are the inputs given to Prepare (nil for activations).
func benchPair(b *testing.B, op Op, in, consts []*tensor.Tensor) {
	metas := make([]Meta, len(in))
	constant := make([]bool, len(in))
	for i, t := range in {
		metas[i] = Meta{tensor.Float32, t.Shape}
		constant[i] = consts[i] != nil
	}
	ms, err := op.Infer(metas, consts)
	if err != nil {
		b.Fatal(err)
	}
	if err := op.(Preparer).Prepare(consts); err != nil {
		b.Fatal(err)
	}
	need, ok := op.(Int8Capable).Int8Inputs(constant)
	if !ok {
		b.Fatal("no INT8 kernel")
	}
	scales := make([]float32, len(in))
	for _, i := range need {
		scales[i] = clipScale(in[i])
	}
	q, ok := op.(Int8Capable).Int8(scales)
	if !ok {
		b.Fatal("no INT8 variant")
	}
	if err := q.(Preparer).Prepare(consts); err != nil {
		b.Fatal(err)
	}
	out := []*tensor.Tensor{tensor.New(tensor.Float32, ms[0].Shape...)}
	ctx := &Ctx{Workers: parallel.Workers()}
	for _, v := range []struct {
		name string
		op   Op
	}{{"fp32", op}, {"int8", q}} {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				if err := v.op.Run(ctx, in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A transformer's projection: [32·64 tokens, 192] × [192, 384] weights.
func BenchmarkInt8MatMulWeights(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	a, w := randomTensor(rng, 32, 64, 192), randomTensor(rng, 192, 384)
	op, _ := Build(&onnx.Node{Name: "mm", OpType: "MatMul"}, 13)
	benchPair(b, op, []*tensor.Tensor{a, w}, []*tensor.Tensor{nil, w})
}

// Attention's Q·Kᵀ: [B·H, S, D] × [B·H, D, S] for 32 heads × batches,
// S = 128, D = 64.
func BenchmarkInt8MatMulAttention(b *testing.B) {
	rng := rand.New(rand.NewSource(2))
	q, k := randomTensor(rng, 32, 128, 64), randomTensor(rng, 32, 64, 128)
	op, _ := Build(&onnx.Node{Name: "mm", OpType: "MatMul"}, 13)
	benchPair(b, op, []*tensor.Tensor{q, k}, []*tensor.Tensor{nil, nil})
}

// MobileNetV2's depthwise 3×3 convolutions (stride 1 and 2, pad 1) at
// batch 8.
func BenchmarkInt8DepthwiseConv(b *testing.B) {
	for _, tc := range []struct{ c, hw, stride int }{{144, 56, 1}, {144, 56, 2}, {384, 14, 1}, {960, 7, 1}} {
		b.Run(fmt.Sprintf("c%d_%dx%d_s%d", tc.c, tc.hw, tc.hw, tc.stride), func(b *testing.B) {
			rng := rand.New(rand.NewSource(3))
			x, w, bias := randomTensor(rng, 8, tc.c, tc.hw, tc.hw), randomTensor(rng, tc.c, 1, 3, 3), randomTensor(rng, tc.c)
			op, err := Build(&onnx.Node{Name: "dw", OpType: "Conv", Attrs: []*onnx.Attribute{
				aInt("group", int64(tc.c)), aInts("pads", 1, 1, 1, 1), aInts("strides", int64(tc.stride), int64(tc.stride))}}, 13)
			if err != nil {
				b.Fatal(err)
			}
			benchPair(b, op, []*tensor.Tensor{x, w, bias}, []*tensor.Tensor{nil, w, bias})
		})
	}
}

// Grouped 3×3 convolutions at batch 8: ResNeXt's 32 groups of 4 channels
// and RegNet's groups of 16 (stride 1, pad 1).
func BenchmarkInt8GroupedConv(b *testing.B) {
	for _, tc := range []struct{ c, group, hw int }{{128, 32, 28}, {256, 16, 14}} {
		b.Run(fmt.Sprintf("c%d_g%d_%dx%d", tc.c, tc.group, tc.hw, tc.hw), func(b *testing.B) {
			rng := rand.New(rand.NewSource(4))
			x, w, bias := randomTensor(rng, 8, tc.c, tc.hw, tc.hw), randomTensor(rng, tc.c, tc.c/tc.group, 3, 3), randomTensor(rng, tc.c)
			op, err := Build(&onnx.Node{Name: "gc", OpType: "Conv", Attrs: []*onnx.Attribute{
				aInt("group", int64(tc.group)), aInts("pads", 1, 1, 1, 1)}}, 13)
			if err != nil {
				b.Fatal(err)
			}
			benchPair(b, op, []*tensor.Tensor{x, w, bias}, []*tensor.Tensor{nil, w, bias})
		})
	}
}

// U-Net's up-sampling: 2×2 transposed convolutions of stride 2 at batch 8.
func BenchmarkInt8ConvTranspose(b *testing.B) {
	for _, tc := range []struct{ c, m, hw int }{{128, 64, 16}, {64, 32, 32}} {
		b.Run(fmt.Sprintf("c%d_m%d_%dx%d", tc.c, tc.m, tc.hw, tc.hw), func(b *testing.B) {
			rng := rand.New(rand.NewSource(5))
			x, w, bias := randomTensor(rng, 8, tc.c, tc.hw, tc.hw), randomTensor(rng, tc.c, tc.m, 2, 2), randomTensor(rng, tc.m)
			op, err := Build(&onnx.Node{Name: "up", OpType: "ConvTranspose", Attrs: []*onnx.Attribute{aInts("strides", 2, 2)}}, 13)
			if err != nil {
				b.Fatal(err)
			}
			benchPair(b, op, []*tensor.Tensor{x, w, bias}, []*tensor.Tensor{nil, w, bias})
		})
	}
}
