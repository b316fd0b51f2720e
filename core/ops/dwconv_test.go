package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/gemm"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// forEachGemmImpl runs f under every GEMM implementation this CPU and
// build have (the FP32 convolution kernels follow gemm's choice).
func forEachGemmImpl(t *testing.T, f func(t *testing.T)) {
	for _, im := range gemm.Available() {
		t.Run(im.String(), func(t *testing.T) {
			prev, err := gemm.SetImpl(im)
			if err != nil {
				t.Fatal(err)
			}
			defer gemm.SetImpl(prev)
			f(t)
		})
	}
}

// The depthwise convolution against refConv on every implementation:
// strides 1 to 3, dilations, asymmetric and automatic padding, kernels
// from 1×1 to 5×5, channel multipliers, fused activations, 1-D, and
// output rows from 1 to 70 wide (the kernels' 64-, 16- or 8-wide blocks
// and their masked tails).
func TestDepthwiseConvReference(t *testing.T) {
	relu := Activation{Kind: ReluActivation}
	relu6 := Activation{Kind: ClipActivation, Min: 0, Max: 6}
	clip := Activation{Kind: ClipActivation, Min: -0.25, Max: 0.5}
	one, two := [2]int{1, 1}, [2]int{2, 2}
	cases := []convCase{
		{name: "3x3/s1/pad1", n: 2, c: 5, h: 7, w: 9, m: 5, kh: 3, kw: 3, stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true},
		{name: "3x3/s2/pad1/relu6", n: 1, c: 3, h: 13, w: 17, m: 3, kh: 3, kw: 3, stride: two, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu6},
		{name: "3x3/s2/nopad", n: 1, c: 4, h: 12, w: 12, m: 4, kh: 3, kw: 3, stride: two, dilation: one},
		{name: "3x3/s3/asym", n: 1, c: 3, h: 11, w: 20, m: 6, kh: 3, kw: 3, stride: [2]int{3, 3}, dilation: one, pads: [4]int{2, 0, 1, 2}, bias: true, act: relu},
		{name: "3x3/s1x2/dil2", n: 1, c: 2, h: 9, w: 19, m: 4, kh: 3, kw: 3, stride: [2]int{1, 2}, dilation: two, pads: [4]int{2, 2, 2, 2}, act: clip},
		{name: "5x5/s1/pad2", n: 1, c: 3, h: 8, w: 21, m: 3, kh: 5, kw: 5, stride: one, dilation: one, pads: [4]int{2, 2, 2, 2}, bias: true},
		{name: "5x3/s2/SAME_UPPER", n: 1, c: 2, h: 10, w: 33, m: 2, kh: 5, kw: 3, stride: two, dilation: one, autoPad: "SAME_UPPER", bias: true},
		{name: "3x3/SAME_LOWER/dil3", n: 1, c: 2, h: 9, w: 8, m: 2, kh: 3, kw: 3, stride: one, dilation: [2]int{3, 3}, autoPad: "SAME_LOWER"},
		{name: "1x1/multiplier3", n: 1, c: 2, h: 3, w: 5, m: 6, kh: 1, kw: 1, stride: one, dilation: one, bias: true},
		{name: "2x2/VALID", n: 1, c: 3, h: 6, w: 7, m: 3, kh: 2, kw: 2, stride: two, dilation: one, autoPad: "VALID"},
		{name: "1D", n: 2, c: 3, w: 40, m: 6, kw: 5, stride: two, dilation: one, pads: [4]int{0, 2, 0, 1}, bias: true, oneD: true},
	}
	for _, w := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 70} {
		cases = append(cases, convCase{name: fmt.Sprintf("3x3/s1/width%d/relu6", w), n: 1, c: 2, h: 3, w: w, m: 2, kh: 3, kw: 3,
			stride: one, dilation: one, pads: [4]int{1, 1, 1, 1}, bias: true, act: relu6})
		cases = append(cases, convCase{name: fmt.Sprintf("3x3/s2/width%d", 2*w), n: 1, c: 2, h: 4, w: 2 * w, m: 4, kh: 3, kw: 3,
			stride: two, dilation: one, pads: [4]int{0, 0, 1, 1}, bias: true})
	}
	forEachGemmImpl(t, func(t *testing.T) {
		r := rtRand(18)
		for _, cc := range cases {
			cc.group = cc.c
			t.Run(cc.name, func(t *testing.T) { cc.run(t, r) })
		}
	})
}

// A fused residual is added before the activation.
func TestDepthwiseConvResidual(t *testing.T) {
	forEachGemmImpl(t, func(t *testing.T) {
		r := rtRand(19)
		x, w, b := randT(r, 2, 3, 9, 10), randT(r, 3, 1, 3, 3), randT(r, 3)
		attrs := []*onnx.Attribute{aInt("group", 3), aInts("pads", 1, 1, 1, 1)}
		act := Activation{Kind: ClipActivation, Min: -0.1, Max: 0.3}
		want := refConv(x.F32, 2, 3, 9, 10, w.F32, 3, 3, 3, b.F32, 3, [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1}, 9, 10, Activation{})
		res := randT(r, 2, 3, 9, 10)
		for i := range want {
			want[i] = min(max(want[i]+float64(res.F32[i]), -0.1), 0.3)
		}
		op := rtBuild(t, 13, "Conv", attrs...)
		if !op.(ResidualFusable).FuseResidual() || !op.(Fusable).FuseActivation(act) {
			t.Fatal("fusion refused")
		}
		out := rtMust(t, op, 2, 1, []*tensor.Tensor{x, w, b, res}, constAt(4, 1, 2))
		checkClose(t, out[0], sh(2, 3, 9, 10), want, 1e-5)
	})
}

// The kernels on NaN and infinite inputs: an output that reads a NaN is
// NaN, whatever the clamp; one that reads +Inf through a positive weight
// is +Inf, or hi under a clip; one that reads nothing special is exact
// (small integers). Every implementation agrees with the Go kernel bit
// for bit here.
func TestDepthwiseRowsNaNInf(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	const rows, n, pitch = 3, 37, 40
	src := make([]float32, (rows+1)*pitch+dwSlack)
	for i := range src {
		src[i] = float32(i % 5)
	}
	src[pitch+3] = nan    // read by row 1, outputs 1..3 (taps 0..2)
	src[2*pitch+30] = inf // read by row 2, outputs 28..30
	off := []int{0, 4, 8}
	w := []float32{1, 2, 1}
	for _, bounds := range [][2]float32{{float32(math.Inf(-1)), inf}, {0, 6}} {
		want := make([]float32, rows*n)
		depthwiseRowsGo(&dwArgs{dst: want, src: src, off: off, w: w, rows: rows, n: n, srcPitch: 4 * pitch, dstPitch: 4 * n, bias: 0.5, lo: bounds[0], hi: bounds[1]})
		for j := 1; j <= 3; j++ {
			if v := want[n+j]; !math.IsNaN(float64(v)) {
				t.Fatalf("Go kernel, bounds %v: output %d is %v, want NaN", bounds, n+j, v)
			}
		}
		if v := want[2*n+29]; v != min(inf, bounds[1]) {
			t.Fatalf("Go kernel, bounds %v: output %d is %v, want %v", bounds, 2*n+29, v, min(inf, bounds[1]))
		}
		forEachGemmImpl(t, func(t *testing.T) {
			got := make([]float32, rows*n)
			depthwiseRows(&dwArgs{dst: got, src: src, off: off, w: w, rows: rows, n: n, srcPitch: 4 * pitch, dstPitch: 4 * n, bias: 0.5, lo: bounds[0], hi: bounds[1]})
			if !sameBits(f32(sh(len(got)), got...), f32(sh(len(want)), want...)) {
				t.Errorf("bounds %v: got %v, want %v", bounds, got, want)
			}
		})
	}
}

// The kernels never write past a row's n outputs: the gaps between rows
// (dstPitch > n) keep their values.
func TestDepthwiseRowsStoresInRows(t *testing.T) {
	forEachGemmImpl(t, func(t *testing.T) {
		for _, n := range []int{1, 5, 8, 13, 16, 29, 64, 75} {
			pitch := n + 3
			src := make([]float32, 4*pitch+dwSlack+2)
			for i := range src {
				src[i] = 1
			}
			dst := make([]float32, 3*pitch)
			for i := range dst {
				dst[i] = -7
			}
			depthwiseRows(&dwArgs{dst: dst, src: src, off: []int{0, 8}, w: []float32{1, 1}, rows: 3, n: n, srcPitch: 4 * pitch, dstPitch: 4 * pitch,
				lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))})
			for i, v := range dst {
				want := float32(2)
				if i%pitch >= n {
					want = -7
				}
				if v != want {
					t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, v, want)
				}
			}
		}
	})
}

// deinterleave on every implementation, lengths around the vector steps:
// exactly the values it should move, and nothing past them.
func TestDeinterleave(t *testing.T) {
	forEachGemmImpl(t, func(t *testing.T) {
		for n := 0; n <= 70; n++ {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(i)
			}
			even, odd := make([]float32, (n+1)/2+2), make([]float32, n/2+2)
			for i := range even {
				even[i] = -1
			}
			for i := range odd {
				odd[i] = -1
			}
			deinterleave(even, odd, src)
			for i, v := range even {
				if want := float32(2 * i); (2*i < n && v != want) || (2*i >= n && v != -1) {
					t.Fatalf("n=%d: even[%d] = %v", n, i, v)
				}
			}
			for i, v := range odd {
				if want := float32(2*i + 1); (2*i+1 < n && v != want) || (2*i+1 >= n && v != -1) {
					t.Fatalf("n=%d: odd[%d] = %v", n, i, v)
				}
			}
		}
	})
}

// copyRows on every implementation, row lengths around both vector
// steps, rows spread apart and packed tight, on either side: each row's
// values where they belong, and nothing written between the rows or
// after the last (the source ends with its last row: masked reads).
func TestCopyRows(t *testing.T) {
	forEachGemmImpl(t, func(t *testing.T) {
		for n := 1; n <= 40; n++ {
			for _, p := range [][2]int{{n, n}, {n + 3, n}, {n, n + 5}, {n + 9, n + 2}} {
				const rows = 4
				dstPitch, srcPitch := p[0], p[1]
				src := make([]float32, (rows-1)*srcPitch+n)
				for i := range src {
					src[i] = float32(i)
				}
				dst := make([]float32, (rows-1)*dstPitch+n+8)
				for i := range dst {
					dst[i] = -1
				}
				copyRows(dst, src, rows, n, dstPitch, srcPitch)
				for i, v := range dst {
					r, j := i/dstPitch, i%dstPitch
					want := float32(-1)
					if r < rows && j < n {
						want = src[r*srcPitch+j]
					}
					if v != want {
						t.Fatalf("n %d, pitches %v: dst[%d] = %v, want %v", n, p, i, v, want)
					}
				}
			}
		}
	})
}
