package ops

import (
	"math"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// refQConv is the INT8 convolution written out plainly: the same
// quantization of input (per tensor) and weights (per output channel) as
// the kernel, integer products summed in int64 over a direct convolution,
// then the same dequantization, so the kernel must match it bit for bit.
func refQConv(x, w, b *tensor.Tensor, group, stride, pad, dil int, inScale float32, act Activation) []float32 {
	n, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	m, cg, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	oh := (h+2*pad-(kh-1)*dil-1)/stride + 1
	ow := (wd+2*pad-(kw-1)*dil-1)/stride + 1
	xq := make([]int8, len(x.F32))
	qgemm.Quantize(xq, x.F32, inScale)
	wq, ws := qgemm.QuantizeWeights(w.F32, m, cg*kh*kw)
	out := make([]float32, n*m*oh*ow)
	mg := m / group
	for img := 0; img < n; img++ {
		for o := 0; o < m; o++ {
			g := o / mg
			for y := 0; y < oh; y++ {
				for xx := 0; xx < ow; xx++ {
					var acc int64
					for ci := 0; ci < cg; ci++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								iy, ix := y*stride-pad+ky*dil, xx*stride-pad+kx*dil
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								a := int64(wq[((o*cg+ci)*kh+ky)*kw+kx])
								v := int64(xq[((img*c+g*cg+ci)*h+iy)*wd+ix])
								acc += a * v
							}
						}
					}
					v := float32(int32(acc))
					v = v * (ws[o] * inScale)
					if b != nil {
						v += b.F32[o]
					}
					switch {
					case act.Kind == ReluActivation && v < 0:
						v = 0
					case act.Kind == ClipActivation && v < act.Min:
						v = act.Min
					case act.Kind == ClipActivation && v > act.Max:
						v = act.Max
					}
					out[((img*m+o)*oh+y)*ow+xx] = v
				}
			}
		}
	}
	return out
}

func TestInt8ConvMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for _, tc := range []struct {
		name                                      string
		n, c, m, h, w, k, group, stride, pad, dil int
		relu, bias                                bool
		clip                                      bool // ReLU6 instead of the ReLU
	}{
		{"wide 3x3 pad 1", 3, 5, 7, 9, 9, 3, 1, 1, 1, 1, true, true, false},
		{"stride 2", 2, 4, 6, 11, 10, 3, 1, 2, 1, 1, false, true, false},
		{"groups", 2, 6, 9, 8, 8, 3, 3, 1, 1, 1, true, false, false},
		{"depthwise", 1, 4, 4, 7, 7, 3, 4, 1, 1, 1, false, true, false},
		{"depthwise stride 2", 3, 6, 6, 11, 10, 3, 6, 2, 1, 1, true, true, false},
		{"depthwise dilated 5x5", 2, 5, 5, 13, 12, 5, 5, 1, 4, 2, false, true, false},
		{"depthwise multiplier 2", 2, 4, 8, 9, 9, 3, 4, 1, 1, 1, true, false, false},
		{"depthwise stride 3 no pad", 1, 3, 3, 14, 17, 3, 3, 3, 0, 1, false, true, false},
		{"depthwise 1x1 wide rows", 2, 17, 17, 3, 40, 1, 17, 1, 0, 1, true, true, false},
		{"5x5 no pad (LeNet)", 3, 1, 20, 28, 28, 5, 1, 1, 0, 1, false, true, false},
		{"dilated", 2, 3, 5, 12, 12, 3, 1, 1, 2, 2, true, true, false},
		{"1x1", 2, 13, 11, 5, 6, 1, 1, 1, 0, 1, true, true, false},
		{"odd channels, wide", 4, 7, 3, 13, 13, 3, 1, 1, 1, 1, true, true, false},
		{"1x1 stride 2 (a shortcut: one phase read)", 2, 8, 6, 9, 10, 1, 1, 2, 0, 1, false, true, false},
		{"stride 3 dilated", 2, 6, 5, 17, 16, 3, 1, 3, 2, 2, true, true, false},
		{"groups of 4 channels", 2, 8, 6, 7, 9, 3, 2, 1, 1, 1, true, true, false},
		{"2x2 stride 2 no pad", 1, 12, 4, 8, 8, 2, 1, 2, 0, 1, false, false, false},
		{"3 channels (RGB), stride 2", 2, 3, 8, 15, 14, 3, 1, 2, 1, 1, true, true, false},
		{"ReLU6, wide", 2, 8, 5, 9, 9, 3, 1, 1, 1, 1, false, true, true},
		{"chunks of output rows", 1, 8, 64, 40, 40, 3, 1, 1, 1, 1, true, true, false},
		{"chunks of output rows, stride 2", 1, 8, 80, 81, 80, 3, 1, 2, 1, 1, false, true, false},
		{"ReLU6, depthwise", 2, 8, 8, 9, 9, 3, 8, 2, 1, 1, false, true, true},
		{"depthwise, a channel a chunk", 1, 3, 3, 100, 90, 3, 3, 1, 1, 1, true, true, false},
		{"depthwise, chunks of 2 of 5 channels", 2, 5, 5, 60, 100, 3, 5, 1, 1, 1, false, true, false},
		{"1x1, channels in blocks of 4 (blocked in and out)", 2, 8, 12, 5, 7, 1, 1, 1, 0, 1, false, true, true},
		{"depthwise, blocks of 4 channels, many chunks", 2, 12, 12, 40, 41, 3, 12, 1, 1, 1, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := tensor.New(tensor.Float32, tc.n, tc.c, tc.h, tc.w)
			w := tensor.New(tensor.Float32, tc.m, tc.c/tc.group, tc.k, tc.k)
			b := tensor.New(tensor.Float32, tc.m)
			for _, tt := range []*tensor.Tensor{x, w, b} {
				for i := range tt.F32 {
					tt.F32[i] = float32(rng.NormFloat64())
				}
			}
			var maxAbs float32
			for _, v := range x.F32 {
				maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
			}
			inScale := maxAbs * 0.8 / 127 // some values clip at ±128
			attrs := []*onnx.Attribute{
				{Name: "pads", Type: onnx.AttrInts, Ints: []int64{int64(tc.pad), int64(tc.pad), int64(tc.pad), int64(tc.pad)}},
				{Name: "strides", Type: onnx.AttrInts, Ints: []int64{int64(tc.stride), int64(tc.stride)}},
				{Name: "dilations", Type: onnx.AttrInts, Ints: []int64{int64(tc.dil), int64(tc.dil)}},
				{Name: "group", Type: onnx.AttrInt, I: int64(tc.group)},
			}
			op, err := Build(&onnx.Node{Name: "c", OpType: "Conv", Attrs: attrs}, 13)
			if err != nil {
				t.Fatal(err)
			}
			var act Activation
			switch {
			case tc.clip:
				act = Activation{Kind: ClipActivation, Min: 0, Max: 0.5}
			case tc.relu:
				act = Activation{Kind: ReluActivation}
			}
			if act.Kind != NoActivation {
				op.(Fusable).FuseActivation(act)
			}
			var bias *tensor.Tensor
			in := []*tensor.Tensor{x, w}
			metas := []Meta{{tensor.Float32, x.Shape}, {tensor.Float32, w.Shape}}
			if tc.bias {
				bias = b
				in = append(in, b)
				metas = append(metas, Meta{tensor.Float32, b.Shape})
			}
			if _, err := op.Infer(metas, nil); err != nil {
				t.Fatal(err)
			}
			q, ok := op.(Int8Capable).Int8([]float32{inScale})
			if !ok {
				t.Fatal("no INT8 variant")
			}
			if err := q.(Preparer).Prepare(append([]*tensor.Tensor{nil}, in[1:]...)); err != nil {
				t.Fatal(err)
			}
			// Every kernel (VNNI, AVX2, pure Go) and any worker count
			// gives the reference bit for bit; so does the same prepared
			// convolution on an input of another size and back (the
			// zero padding laid out for one size must not leak into
			// another).
			// (The transposed input lays out buffers of the same sizes
			// differently.)
			other := tensor.New(tensor.Float32, tc.n, tc.c, tc.h+3, tc.w+2)
			transposed := tensor.New(tensor.Float32, tc.n, tc.c, tc.w, tc.h)
			for _, tt := range []*tensor.Tensor{other, transposed} {
				for i := range tt.F32 {
					tt.F32[i] = float32(rng.NormFloat64())
				}
			}
			for _, impl := range qgemm.Available() {
				prev, err := qgemm.SetImpl(impl)
				if err != nil {
					t.Fatal(err)
				}
				for _, input := range []*tensor.Tensor{x, other, x, transposed, x} {
					in[0], metas[0] = input, Meta{tensor.Float32, input.Shape}
					ms, err := op.Infer(metas, nil)
					if err != nil {
						t.Fatal(err)
					}
					want := refQConv(input, w, bias, tc.group, tc.stride, tc.pad, tc.dil, inScale, act)
					for _, workers := range []int{1, 3} {
						got := tensor.New(tensor.Float32, ms[0].Shape...)
						if err := q.Run(&Ctx{Workers: workers}, in, []*tensor.Tensor{got}); err != nil {
							t.Fatal(err)
						}
						for i := range want {
							if math.Float32bits(got.F32[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%v, input %v, workers %d: value %d = %v, reference %v", impl, input.Shape, workers, i, got.F32[i], want[i])
							}
						}
					}
				}
				qgemm.SetImpl(prev)
			}

			// Linked as int8 (Int8Linker) on both sides: the input's
			// bytes quantized as the layer would quantize them, the
			// output the bytes Quantize makes of the float32 output.
			linked, _ := op.(Int8Capable).Int8([]float32{inScale})
			if err := linked.(Preparer).Prepare(append([]*tensor.Tensor{nil}, in[1:]...)); err != nil {
				t.Fatal(err)
			}
			const outScale = 0.01
			linked.(Int8Linker).LinkInt8(true, outScale)
			in[0], metas[0] = x, Meta{tensor.Float32, x.Shape}
			ms, err := op.Infer(metas, nil)
			if err != nil {
				t.Fatal(err)
			}
			xq := &tensor.Tensor{DType: tensor.Int8, Shape: x.Shape, I8: make([]int8, x.Len())}
			qgemm.Quantize(xq.I8, x.F32, inScale)
			ref := refQConv(x, w, bias, tc.group, tc.stride, tc.pad, tc.dil, inScale, act)
			wantQ := make([]int8, len(ref))
			qgemm.Quantize(wantQ, ref, outScale)
			linkedIn := append([]*tensor.Tensor{xq}, in[1:]...)
			for _, impl := range qgemm.Available() {
				prev, err := qgemm.SetImpl(impl)
				if err != nil {
					t.Fatal(err)
				}
				for _, workers := range []int{1, 3} {
					got := &tensor.Tensor{DType: tensor.Int8, Shape: ms[0].Shape, I8: make([]int8, len(ref))}
					if err := linked.Run(&Ctx{Workers: workers}, linkedIn, []*tensor.Tensor{got}); err != nil {
						t.Fatal(err)
					}
					for i := range wantQ {
						if got.I8[i] != wantQ[i] {
							t.Fatalf("linked, %v, workers %d: byte %d = %d, want %d", impl, workers, i, got.I8[i], wantQ[i])
						}
					}
				}
				qgemm.SetImpl(prev)
			}

			// Blocked (Int8Blocker) where the layer can read or write its
			// tensors so, on every kernel (the phase-plane depthwise path
			// and RequantizeBlocks' Go loop included, whatever
			// CanWriteBlocked says under each), the input in place (its
			// storage with Int8Slack to spare) and copied: the same bytes
			// in blocks of four channels.
			readBlocked := linked.(Int8Blocker).CanReadBlocked(metas)
			writeBlocked := linked.(Int8Blocker).CanWriteBlocked(metas)
			if readBlocked || writeBlocked {
				blocked, _ := op.(Int8Capable).Int8([]float32{inScale})
				if err := blocked.(Preparer).Prepare(append([]*tensor.Tensor{nil}, in[1:]...)); err != nil {
					t.Fatal(err)
				}
				blocked.(Int8Linker).LinkInt8(true, outScale)
				blocked.(Int8Blocker).SetBlocked(readBlocked, writeBlocked)
				src, want := xq.I8, wantQ
				if readBlocked {
					src = toBlocks(xq.I8, x.Shape)
				}
				if writeBlocked {
					want = toBlocks(wantQ, ms[0].Shape)
				}
				for _, slack := range []int{0, Int8Slack} {
					xb := &tensor.Tensor{DType: tensor.Int8, Shape: x.Shape, I8: append(make([]int8, 0, len(src)+slack), src...)}
					for _, impl := range qgemm.Available() {
						prev, err := qgemm.SetImpl(impl)
						if err != nil {
							t.Fatal(err)
						}
						got := &tensor.Tensor{DType: tensor.Int8, Shape: ms[0].Shape, I8: make([]int8, len(ref))}
						if err := blocked.Run(&Ctx{Workers: 2}, append([]*tensor.Tensor{xb}, in[1:]...), []*tensor.Tensor{got}); err != nil {
							t.Fatal(err)
						}
						for i := range want {
							if got.I8[i] != want[i] {
								t.Fatalf("blocked (in %v, out %v), %v, slack %d: byte %d = %d, want %d", readBlocked, writeBlocked, impl, slack, i, got.I8[i], want[i])
							}
						}
						qgemm.SetImpl(prev)
					}
				}
			}

			// With a fused residual r: act(conv + bias + r), the sum
			// rounded before the activation.
			withRes, err := Build(&onnx.Node{Name: "c", OpType: "Conv", Attrs: attrs}, 13)
			if err != nil {
				t.Fatal(err)
			}
			if !withRes.(ResidualFusable).FuseResidual() || act.Kind != NoActivation && !withRes.(Fusable).FuseActivation(act) {
				t.Fatal("residual or activation refused")
			}
			in[0], metas[0] = x, Meta{tensor.Float32, x.Shape}
			ms, err = withRes.Infer(metas, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := tensor.New(tensor.Float32, ms[0].Shape...)
			for i := range r.F32 {
				r.F32[i] = float32(rng.NormFloat64())
			}
			qr, ok := withRes.(Int8Capable).Int8([]float32{inScale})
			if !ok {
				t.Fatal("no INT8 variant with a residual")
			}
			if err := qr.(Preparer).Prepare(append([]*tensor.Tensor{nil}, in[1:]...)); err != nil {
				t.Fatal(err)
			}
			resIn := []*tensor.Tensor{x, w, bias, r}
			if bias == nil {
				resIn[2] = nil
			}
			got := tensor.New(tensor.Float32, ms[0].Shape...)
			if err := qr.Run(&Ctx{Workers: 2}, resIn, []*tensor.Tensor{got}); err != nil {
				t.Fatal(err)
			}
			want := refQConv(x, w, bias, tc.group, tc.stride, tc.pad, tc.dil, inScale, Activation{})
			for i := range want {
				v := want[i] + r.F32[i]
				switch {
				case act.Kind == ReluActivation:
					v = max(v, 0)
				case act.Kind == ClipActivation && v < act.Min:
					v = act.Min
				case act.Kind == ClipActivation && v > act.Max:
					v = act.Max
				}
				if math.Float32bits(got.F32[i]) != math.Float32bits(v) {
					t.Fatalf("with a residual: value %d = %v, reference %v", i, got.F32[i], v)
				}
			}
		})
	}
}

// The INT8 fully connected layer against the same plain computation.
func TestInt8GemmMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	for _, transB := range []bool{true, false} {
		const m, k, n = 5, 33, 7
		a, bias := tensor.New(tensor.Float32, m, k), tensor.New(tensor.Float32, n)
		w := tensor.New(tensor.Float32, n, k)
		if !transB {
			w = tensor.New(tensor.Float32, k, n)
		}
		for _, tt := range []*tensor.Tensor{a, w, bias} {
			for i := range tt.F32 {
				tt.F32[i] = float32(rng.NormFloat64())
			}
		}
		attrs := []*onnx.Attribute{}
		if transB {
			attrs = append(attrs, &onnx.Attribute{Name: "transB", Type: onnx.AttrInt, I: 1})
		}
		op, _ := Build(&onnx.Node{Name: "g", OpType: "Gemm", Attrs: attrs}, 13)
		op.(Fusable).FuseActivation(Activation{Kind: ReluActivation})
		const inScale = 0.02
		q, ok := op.(Int8Capable).Int8([]float32{inScale})
		if !ok {
			t.Fatal("no INT8 variant")
		}
		if err := q.(Preparer).Prepare([]*tensor.Tensor{nil, w, bias}); err != nil {
			t.Fatal(err)
		}
		got := tensor.New(tensor.Float32, m, n)
		if err := q.Run(&Ctx{Workers: 2}, []*tensor.Tensor{a, w, bias}, []*tensor.Tensor{got}); err != nil {
			t.Fatal(err)
		}
		rows := w.F32
		if !transB {
			rows = transpose2D(w.F32, k, n)
		}
		wq, ws := qgemm.QuantizeWeights(rows, n, k)
		aq := make([]int8, m*k)
		qgemm.Quantize(aq, a.F32, inScale)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var acc int64
				for p := 0; p < k; p++ {
					acc += int64(aq[i*k+p]) * int64(wq[j*k+p])
				}
				v := float32(int32(acc))*(ws[j]*inScale) + bias.F32[j]
				v = max(v, 0)
				if math.Float32bits(got.F32[i*n+j]) != math.Float32bits(v) {
					t.Fatalf("transB=%v: [%d,%d] = %v, reference %v", transB, i, j, got.F32[i*n+j], v)
				}
			}
		}
	}
}

// A 1-D INT8 convolution gives what the same 2-D one of height 1 gives
// (which the reference above checks), bit for bit: depthwise (the direct
// kernel), plain (the implicit GEMM) and grouped with 2 channels a group
// (the unfolding path).
func TestInt8Conv1D(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	const n, c, w, k = 2, 6, 23, 5
	for _, group := range []int{c, 1, 3} {
		m := c
		x, wt, b := randomTensor(rng, n, c, w), randomTensor(rng, m, c/group, k), randomTensor(rng, m)
		run := func(x, wt *tensor.Tensor, attrs ...*onnx.Attribute) *tensor.Tensor {
			op := rtBuild(t, 13, "Conv", append(attrs, aInt("group", int64(group)))...)
			in := []*tensor.Tensor{x, wt, b}
			ms, err := op.Infer([]Meta{{tensor.Float32, x.Shape}, {tensor.Float32, wt.Shape}, {tensor.Float32, b.Shape}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			q, ok := op.(Int8Capable).Int8([]float32{clipScale(x)})
			if !ok {
				t.Fatal("no INT8 variant")
			}
			if err := q.(Preparer).Prepare([]*tensor.Tensor{nil, wt, b}); err != nil {
				t.Fatal(err)
			}
			y := tensor.New(tensor.Float32, ms[0].Shape...)
			if err := q.Run(&Ctx{Workers: 2}, in, []*tensor.Tensor{y}); err != nil {
				t.Fatal(err)
			}
			return y
		}
		got := run(x, wt, aInts("pads", 2, 1), aInts("strides", 2), aInts("dilations", 2))
		want := run(tensor.FromFloat32(x.F32, n, c, 1, w), tensor.FromFloat32(wt.F32, m, c/group, 1, k),
			aInts("pads", 0, 2, 0, 1), aInts("strides", 1, 2), aInts("dilations", 1, 2))
		if got.Len() != want.Len() {
			t.Fatalf("group %d: 1-D output %v, 2-D %v", group, got.Shape, want.Shape)
		}
		for i := range want.F32 {
			if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
				t.Fatalf("group %d, value %d: 1-D %v, 2-D %v", group, i, got.F32[i], want.F32[i])
			}
		}
	}
}

// toBlocks returns the NCHW bytes b of shape [N, C, H, W] (C a multiple
// of 4) with their channels interleaved in blocks of four, as
// qgemm.RequantizeBlocks writes them.
func toBlocks(b []int8, shape []int) []int8 {
	n, c, plane := shape[0], shape[1], tensor.NumElements(shape[2:])
	out := make([]int8, len(b))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for j := 0; j < plane; j++ {
				out[(i*c+ch/4*4)*plane+j*4+ch%4] = b[(i*c+ch)*plane+j]
			}
		}
	}
	return out
}
