package ops

import (
	"fmt"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// The float convolution's strategies against refConv on every
// GEMM implementation: pointwise (input planes as the GEMM's operand), grid
// (output rows, 16 or more wide: whole and partial tiles), wide (a run of
// padded rows, narrowed) and phased (strided, from phase planes: strides
// 2 and 3, 1×1 to 7×7, dilation, asymmetric padding), each checked to
// take the strategy it is named for, with fused activations.
func TestConvInPlaceStrategies(t *testing.T) {
	relu := Activation{Kind: ReluActivation}
	relu6 := Activation{Kind: ClipActivation, Min: 0, Max: 6}
	one := [2]int{1, 1}
	cases := []struct {
		cc       convCase
		strategy string
	}{
		{convCase{n: 2, c: 3, h: 5, w: 32, m: 9, kh: 3, kw: 3, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu}, "grid"},
		{convCase{n: 1, c: 5, h: 4, w: 16, m: 17, kh: 3, kw: 3, pads: [4]int{1, 1, 1, 1}, act: relu6}, "grid"},
		{convCase{n: 1, c: 2, h: 6, w: 45, m: 7, kh: 3, kw: 3, pads: [4]int{1, 1, 1, 1}, bias: true}, "grid"},
		{convCase{n: 1, c: 3, h: 5, w: 28, m: 5, kh: 5, kw: 3, pads: [4]int{2, 1, 2, 1}, dilation: [2]int{1, 1}}, "grid"},
		{convCase{n: 1, c: 2, h: 9, w: 30, m: 4, kh: 3, kw: 3, pads: [4]int{2, 2, 2, 2}, dilation: [2]int{2, 2}, bias: true}, "grid"},
		{convCase{n: 2, c: 4, h: 8, w: 8, m: 6, kh: 3, kw: 3, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu}, "wide"},
		{convCase{n: 2, c: 7, h: 5, w: 6, m: 20, kh: 1, kw: 1, bias: true, act: relu6}, "pointwise"},
		{convCase{n: 1, c: 600, h: 3, w: 37, m: 9, kh: 1, kw: 1, bias: true}, "pointwise"},
		{convCase{n: 2, c: 3, h: 11, w: 64, m: 8, kh: 3, kw: 3, stride: [2]int{2, 2}, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu6}, "phased"},
		{convCase{n: 1, c: 4, h: 9, w: 56, m: 5, kh: 3, kw: 3, stride: [2]int{2, 2}, pads: [4]int{0, 0, 1, 1}}, "phased"},
		{convCase{n: 1, c: 3, h: 12, w: 60, m: 6, kh: 7, kw: 7, stride: [2]int{2, 2}, pads: [4]int{3, 3, 3, 3}, bias: true, act: relu}, "phased"},
		{convCase{n: 1, c: 5, h: 6, w: 57, m: 7, kh: 1, kw: 1, stride: [2]int{2, 2}, bias: true}, "phased"},
		{convCase{n: 1, c: 2, h: 10, w: 80, m: 3, kh: 3, kw: 2, stride: [2]int{3, 3}, dilation: [2]int{2, 3}, pads: [4]int{1, 2, 0, 1}}, "phased"},
		{convCase{n: 1, c: 3, h: 7, w: 30, m: 4, kh: 3, kw: 3, stride: [2]int{1, 2}, pads: [4]int{1, 0, 1, 1}, bias: true}, "phased"},
		{convCase{n: 1, c: 3, h: 9, w: 16, m: 4, kh: 3, kw: 3, stride: [2]int{2, 2}, pads: [4]int{1, 1, 1, 1}}, "unfolded"},
	}
	forEachGemmImpl(t, func(t *testing.T) {
		r := rtRand(44)
		for _, tc := range cases {
			cc := tc.cc
			cc.group = 1
			if cc.stride == [2]int{} {
				cc.stride = one
			}
			if cc.dilation == [2]int{} {
				cc.dilation = one
			}
			cc.name = fmt.Sprintf("%s/%dx%d_k%dx%d_c%d_m%d", tc.strategy, cc.h, cc.w, cc.kh, cc.kw, cc.c, cc.m)
			c := rtBuild(t, 13, "Conv", cc.attrs()...).(*conv)
			in := []Meta{{tensor.Float32, []int{cc.n, cc.c, cc.h, cc.w}}, {tensor.Float32, []int{cc.m, cc.c, cc.kh, cc.kw}}}
			if _, err := Infer(c, in, nil, nil); err != nil {
				t.Fatal(err)
			}
			geo, _, err := c.geometryOf(in[0].Shape, in[1].Shape)
			if err != nil {
				t.Fatal(err)
			}
			got := "unfolded"
			switch {
			case geo.pointwise:
				got = "pointwise"
			case geo.phased:
				got = "phased"
			case geo.wide:
				got = map[bool]string{true: "grid", false: "wide"}[geo.grid]
			}
			if got != tc.strategy {
				t.Fatalf("%s: strategy %q", cc.name, got)
			}
			t.Run(cc.name, func(t *testing.T) { cc.run(t, r) })
		}
	})
}

// A fused residual on the grid, pointwise and phased strategies, every
// implementation: act(conv(x) + b + r).
func TestConvInPlaceResidual(t *testing.T) {
	forEachGemmImpl(t, func(t *testing.T) {
		r := rtRand(45)
		for _, k := range []int{1, 3} {
			x, w, b := randT(r, 2, 3, 6, 20), randT(r, 5, 3, k, k), randT(r, 5)
			pad := int64(k / 2)
			op := rtBuild(t, 13, "Conv", aInts("pads", pad, pad, pad, pad))
			act := Activation{Kind: ReluActivation}
			if !op.(ResidualFusable).FuseResidual() || !op.(Fusable).FuseActivation(act) {
				t.Fatal("fusion refused")
			}
			res := randT(r, 2, 5, 6, 20)
			want := refConv(x.F32, 2, 3, 6, 20, w.F32, 5, k, k, b.F32, 1, [2]int{1, 1}, [2]int{1, 1}, [2]int{k / 2, k / 2}, 6, 20, Activation{})
			for i := range want {
				want[i] = max(want[i]+float64(res.F32[i]), 0)
			}
			out := rtMust(t, op, 2, 1, []*tensor.Tensor{x, w, b, res}, constAt(4, 1, 2))
			checkClose(t, out[0], sh(2, 5, 6, 20), want, 1e-5)
		}
		// Phased: 3×3 stride 2 on 7×56, 28-wide output rows.
		x, w, b := randT(r, 2, 3, 7, 56), randT(r, 5, 3, 3, 3), randT(r, 5)
		op := rtBuild(t, 13, "Conv", aInts("pads", 1, 1, 1, 1), aInts("strides", 2, 2))
		if !op.(ResidualFusable).FuseResidual() || !op.(Fusable).FuseActivation(Activation{Kind: ReluActivation}) {
			t.Fatal("fusion refused")
		}
		res := randT(r, 2, 5, 4, 28)
		want := refConv(x.F32, 2, 3, 7, 56, w.F32, 5, 3, 3, b.F32, 1, [2]int{2, 2}, [2]int{1, 1}, [2]int{1, 1}, 4, 28, Activation{})
		for i := range want {
			want[i] = max(want[i]+float64(res.F32[i]), 0)
		}
		out := rtMust(t, op, 2, 1, []*tensor.Tensor{x, w, b, res}, constAt(4, 1, 2))
		checkClose(t, out[0], sh(2, 5, 4, 28), want, 1e-5)
	})
}

// One operator run on inputs of other sizes and back (its scratch planes
// are laid out, and their padding zeroed, per input size): each run
// matches refConv. Grid, wide, phased and depthwise layouts.
func TestConvInPlaceResize(t *testing.T) {
	forEachGemmImpl(t, func(t *testing.T) {
		r := rtRand(46)
		for _, tc := range []struct {
			c, m, group, stride int
		}{{3, 4, 1, 1}, {3, 4, 1, 2}, {4, 4, 4, 1}, {4, 8, 4, 2}} {
			op := rtBuild(t, 13, "Conv", aInts("pads", 1, 1, 1, 1), aInts("strides", int64(tc.stride), int64(tc.stride)), aInt("group", int64(tc.group)))
			w, b := randT(r, tc.m, tc.c/tc.group, 3, 3), randT(r, tc.m)
			for _, hw := range [][2]int{{6, 34}, {9, 8}, {5, 66}, {6, 34}} {
				x := randT(r, 2, tc.c, hw[0], hw[1])
				oh, ow := (hw[0]+2-3)/tc.stride+1, (hw[1]+2-3)/tc.stride+1
				want := refConv(x.F32, 2, tc.c, hw[0], hw[1], w.F32, tc.m, 3, 3, b.F32, tc.group, [2]int{tc.stride, tc.stride}, [2]int{1, 1}, [2]int{1, 1}, oh, ow, Activation{})
				if _, err := Infer(op, []Meta{{tensor.Float32, x.Shape}, {tensor.Float32, w.Shape}, {tensor.Float32, b.Shape}}, nil, nil); err != nil {
					t.Fatal(err)
				}
				out := tensor.New(tensor.Float32, 2, tc.m, oh, ow)
				if err := op.Run(&Ctx{Workers: 2}, []*tensor.Tensor{x, w, b}, []*tensor.Tensor{out}); err != nil {
					t.Fatal(err)
				}
				checkClose(t, out, sh(2, tc.m, oh, ow), want, 1e-5)
			}
		}
	})
}

// Memory declares what Run keeps for the in-place strategies too (grid,
// phased, and a depthwise convolution's wide run), with fewer and more
// images than workers.
func TestConvInPlaceMemory(t *testing.T) {
	for _, tc := range []struct {
		name  string
		x, w  []int
		attrs []*onnx.Attribute
	}{
		{"grid", sh(2, 3, 5, 32), sh(4, 3, 3, 3), []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}},
		{"phased", sh(3, 3, 9, 56), sh(4, 3, 3, 3), []*onnx.Attribute{aInts("pads", 1, 1, 1, 1), aInts("strides", 2, 2)}},
		{"depthwise wide", sh(2, 4, 7, 7), sh(4, 1, 3, 3), []*onnx.Attribute{aInt("group", 4), aInts("pads", 1, 1, 1, 1)}},
	} {
		for _, workers := range []int{1, 2, 8} {
			_, _, working, kept := convMemoryRun(t, tc.x, tc.w, tc.attrs, workers)
			if kept != working {
				t.Errorf("%s, %d workers: Memory says %d bytes, Run keeps %d", tc.name, workers, working, kept)
			}
		}
	}
}

// convMemoryRun builds a Conv of input shape xs and weights ws (iota
// values), asks its Memory for workers, runs it once, and returns it with
// the prepared and working bytes Memory declared and the bytes its scratch
// areas kept.
func convMemoryRun(t *testing.T, xs, ws []int, attrs []*onnx.Attribute, workers int) (c *conv, prepared, working, kept int64) {
	t.Helper()
	x, w := iota32(xs...), iota32(ws...)
	in := []Meta{{tensor.Float32, x.Shape}, {tensor.Float32, w.Shape}}
	c = rtBuild(t, 13, "Conv", attrs...).(*conv)
	if _, err := Infer(c, in, nil, nil); err != nil {
		t.Fatal(err)
	}
	prepared, working, err := c.Memory(in, workers)
	if err != nil {
		t.Fatal(err)
	}
	rtMust(t, c, workers, 1, []*tensor.Tensor{x, w}, constAt(2, 1))
	for _, sc := range c.scratch {
		kept += 4 * int64(len(sc.col)+len(sc.padded)+len(sc.out))
	}
	return c, prepared, working, kept
}
