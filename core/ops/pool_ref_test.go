package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// refPoolOut returns the resolved begin/end pads and output extent of one
// spatial dimension, following the ONNX pooling spec: floor or ceil of the
// window count, and with ceil_mode a last window that would start in the
// end padding (or beyond) is dropped.
func refPoolOut(in, k, s, d, pb, pe int, autoPad string, ceil bool) (int, int, int) {
	ext := (k-1)*d + 1
	if autoPad != "" {
		b, e, out := refPads(in, k, s, d, pb, pe, autoPad)
		if autoPad != "VALID" {
			return b, e, out
		}
		pb, pe = b, e
	}
	span := float64(in + pb + pe - ext)
	var out int
	if ceil {
		out = int(math.Ceil(span/float64(s))) + 1
		if (out-1)*s >= in+pb {
			out--
		}
	} else {
		out = int(math.Floor(span/float64(s))) + 1
	}
	return pb, pe, out
}

type poolCase struct {
	name       string
	n, c, h, w int
	oneD       bool
	k, s, d    [2]int
	pads       [4]int // hBegin, wBegin, hEnd, wEnd
	autoPad    string
	ceil       bool
	includePad bool
}

func (pc poolCase) attrs(isMax bool) []*onnx.Attribute {
	var a []*onnx.Attribute
	if pc.oneD {
		a = append(a, aInts("kernel_shape", int64(pc.k[1])), aInts("strides", int64(pc.s[1])), aInts("dilations", int64(pc.d[1])))
		if pc.autoPad == "" {
			a = append(a, aInts("pads", int64(pc.pads[1]), int64(pc.pads[3])))
		}
	} else {
		a = append(a, aInts("kernel_shape", int64(pc.k[0]), int64(pc.k[1])), aInts("strides", int64(pc.s[0]), int64(pc.s[1])),
			aInts("dilations", int64(pc.d[0]), int64(pc.d[1])))
		if pc.autoPad == "" {
			a = append(a, aInts("pads", int64(pc.pads[0]), int64(pc.pads[1]), int64(pc.pads[2]), int64(pc.pads[3])))
		}
	}
	if pc.autoPad != "" {
		a = append(a, aString("auto_pad", pc.autoPad))
	}
	if pc.ceil {
		a = append(a, aInt("ceil_mode", 1))
	}
	if !isMax {
		a = append(a, aInt("count_include_pad", map[bool]int64{false: 0, true: 1}[pc.includePad]))
	}
	return a
}

// refPool computes max or average pooling directly. Taps in the explicit
// (or auto) padding count towards the divisor when includePad is set; taps
// of a ceil_mode window that hang past the end padding never do.
func refPool(x []float32, n, c, h, w int, k, s, d [2]int, pb, pe [2]int, oh, ow int, isMax, includePad bool) []float64 {
	out := make([]float64, n*c*oh*ow)
	for p := 0; p < n*c; p++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best, sum, count := math.Inf(-1), 0.0, 0
				for ky := 0; ky < k[0]; ky++ {
					for kx := 0; kx < k[1]; kx++ {
						y := oy*s[0] - pb[0] + ky*d[0]
						xx := ox*s[1] - pb[1] + kx*d[1]
						if y >= 0 && y < h && xx >= 0 && xx < w {
							v := float64(x[(p*h+y)*w+xx])
							best = math.Max(best, v)
							sum += v
							count++
						} else if includePad && y >= -pb[0] && y < h+pe[0] && xx >= -pb[1] && xx < w+pe[1] {
							count++
						}
					}
				}
				if isMax {
					out[(p*oh+oy)*ow+ox] = best
				} else {
					out[(p*oh+oy)*ow+ox] = sum / float64(count)
				}
			}
		}
	}
	return out
}

func TestPoolReference(t *testing.T) {
	one, two, three := [2]int{1, 1}, [2]int{2, 2}, [2]int{3, 3}
	cases := []poolCase{
		{name: "2x2/s2", n: 1, c: 3, h: 6, w: 8, k: two, s: two, d: one},
		{name: "3x3/s1/pad1", n: 2, c: 3, h: 5, w: 6, k: three, s: one, d: one, pads: [4]int{1, 1, 1, 1}},
		{name: "3x3/s1/pad1/include", n: 2, c: 3, h: 5, w: 6, k: three, s: one, d: one, pads: [4]int{1, 1, 1, 1}, includePad: true},
		{name: "3x3/s2/asym-pads", n: 1, c: 5, h: 7, w: 8, k: three, s: two, d: one, pads: [4]int{0, 1, 2, 1}},
		{name: "3x3/s2/asym-pads/include", n: 1, c: 5, h: 7, w: 8, k: three, s: two, d: one, pads: [4]int{0, 1, 2, 1}, includePad: true},
		{name: "3x2/s(2,1)", n: 1, c: 3, h: 9, w: 5, k: [2]int{3, 2}, s: [2]int{2, 1}, d: one},
		{name: "ceil/no-pad", n: 1, c: 3, h: 7, w: 6, k: two, s: two, d: one, ceil: true},
		{name: "ceil/3x3/s2", n: 1, c: 3, h: 8, w: 8, k: three, s: two, d: one, ceil: true},
		{name: "ceil/pads/include", n: 1, c: 3, h: 6, w: 7, k: three, s: two, d: one, pads: [4]int{1, 1, 1, 1}, ceil: true, includePad: true},
		{name: "ceil/pads/exclude", n: 1, c: 3, h: 6, w: 7, k: three, s: two, d: one, pads: [4]int{1, 1, 1, 1}, ceil: true},
		{name: "ceil/last-window-would-start-in-end-pad", n: 1, c: 2, h: 4, w: 4, k: two, s: two, d: one, pads: [4]int{0, 0, 1, 1}, ceil: true, includePad: true},
		{name: "ceil/stride3", n: 1, c: 2, h: 8, w: 10, k: two, s: three, d: one, pads: [4]int{0, 1, 1, 0}, ceil: true},
		{name: "floor/stride3", n: 1, c: 2, h: 8, w: 10, k: two, s: three, d: one, pads: [4]int{0, 1, 1, 0}},
		{name: "dilation2", n: 1, c: 3, h: 9, w: 9, k: three, s: one, d: two},
		{name: "dilation2/pad2/include", n: 1, c: 3, h: 7, w: 8, k: two, s: two, d: two, pads: [4]int{2, 1, 2, 1}, includePad: true},
		{name: "dilation-(1,3)/ceil", n: 1, c: 3, h: 8, w: 11, k: two, s: two, d: [2]int{1, 3}, ceil: true},
		{name: "SAME_UPPER", n: 1, c: 3, h: 5, w: 7, k: three, s: two, d: one, autoPad: "SAME_UPPER"},
		{name: "SAME_UPPER/include", n: 1, c: 3, h: 5, w: 6, k: [2]int{2, 3}, s: two, d: one, autoPad: "SAME_UPPER", includePad: true},
		{name: "SAME_UPPER/odd-total-pad", n: 1, c: 3, h: 6, w: 7, k: [2]int{2, 4}, s: one, d: one, autoPad: "SAME_UPPER"},
		{name: "SAME_UPPER/odd-total-pad/include", n: 1, c: 3, h: 6, w: 7, k: [2]int{2, 4}, s: one, d: one, autoPad: "SAME_UPPER", includePad: true},
		{name: "SAME_LOWER", n: 1, c: 3, h: 6, w: 5, k: [2]int{2, 3}, s: one, d: one, autoPad: "SAME_LOWER"},
		{name: "SAME_LOWER/include", n: 1, c: 3, h: 6, w: 5, k: [2]int{2, 3}, s: one, d: one, autoPad: "SAME_LOWER", includePad: true},
		{name: "VALID", n: 1, c: 3, h: 6, w: 7, k: three, s: two, d: one, autoPad: "VALID"},
		{name: "1D", n: 2, c: 3, w: 9, oneD: true, k: three, s: two, d: one, pads: [4]int{0, 1, 0, 1}},
		{name: "1D/ceil/include", n: 1, c: 3, w: 10, oneD: true, k: three, s: two, d: one, pads: [4]int{0, 1, 0, 0}, ceil: true, includePad: true},
		{name: "many-planes/parallel", n: 4, c: 33, h: 9, w: 9, k: three, s: two, d: one, pads: [4]int{1, 1, 1, 1}},
	}
	r := rtRand(30)
	for _, pc := range cases {
		for _, isMax := range []bool{true, false} {
			opType := "AveragePool"
			if isMax {
				opType = "MaxPool"
				if pc.includePad {
					continue // count_include_pad is an AveragePool attribute
				}
			}
			t.Run(opType+"/"+pc.name, func(t *testing.T) {
				h, k, s, d := pc.h, pc.k, pc.s, pc.d
				if pc.oneD {
					h, k[0], s[0], d[0] = 1, 1, 1, 1
				}
				pbH, peH, oh := refPoolOut(h, k[0], s[0], d[0], pc.pads[0], pc.pads[2], pc.autoPad, pc.ceil)
				pbW, peW, ow := refPoolOut(pc.w, k[1], s[1], d[1], pc.pads[1], pc.pads[3], pc.autoPad, pc.ceil)
				if pc.oneD {
					pbH, peH, oh = 0, 0, 1
				}
				xShape, outShape := []int{pc.n, pc.c, h, pc.w}, []int{pc.n, pc.c, oh, ow}
				if pc.oneD {
					xShape, outShape = []int{pc.n, pc.c, pc.w}, []int{pc.n, pc.c, ow}
				}
				x := randT(r, xShape...)
				want := refPool(x.F32, pc.n, pc.c, h, pc.w, k, s, d, [2]int{pbH, pbW}, [2]int{peH, peW}, oh, ow, isMax, pc.includePad)
				for _, workers := range []int{1, 4} {
					t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
						op := rtBuild(t, 19, opType, pc.attrs(isMax)...)
						out := rtMust(t, op, workers, 1, []*tensor.Tensor{x}, allConst)
						checkClose(t, out[0], outShape, want, 1e-5)
					})
				}
			})
		}
	}
}

func TestPoolHand(t *testing.T) {
	x4 := iota32(1, 1, 4, 4) // rows 1..4, 5..8, 9..12, 13..16
	x5 := iota32(1, 1, 5)    // 1 2 3 4 5
	for _, tc := range []struct {
		name  string
		op    string
		x     *tensor.Tensor
		attrs []*onnx.Attribute
		shape []int
		want  []float32
	}{
		{"MaxPool/2x2/s2", "MaxPool", x4, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("strides", 2, 2)}, sh(1, 1, 2, 2), []float32{6, 8, 14, 16}},
		{"AveragePool/2x2/s2", "AveragePool", x4, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("strides", 2, 2)}, sh(1, 1, 2, 2), []float32{3.5, 5.5, 11.5, 13.5}},
		// Corner (0,0) with pads 1: taps 1 2 5 6 inside, 5 in the padding.
		{"AveragePool/3x3/pad1/exclude", "AveragePool", x4, []*onnx.Attribute{aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1), aInts("strides", 3, 3)},
			sh(1, 1, 2, 2), []float32{(1 + 2 + 5 + 6) / 4.0, (3 + 4 + 7 + 8) / 4.0, (9 + 10 + 13 + 14) / 4.0, (11 + 12 + 15 + 16) / 4.0}},
		{"AveragePool/3x3/pad1/include", "AveragePool", x4, []*onnx.Attribute{aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1), aInts("strides", 3, 3), aInt("count_include_pad", 1)},
			sh(1, 1, 2, 2), []float32{14 / 9.0, 22 / 9.0, 46 / 9.0, 54 / 9.0}},
		{"MaxPool/1D/floor", "MaxPool", x5, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2)}, sh(1, 1, 2), []float32{2, 4}},
		{"MaxPool/1D/ceil", "MaxPool", x5, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aInt("ceil_mode", 1)}, sh(1, 1, 3), []float32{2, 4, 5}},
		{"AveragePool/1D/ceil-overhang", "AveragePool", x5, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aInt("ceil_mode", 1), aInt("count_include_pad", 1)}, sh(1, 1, 3), []float32{1.5, 3.5, 5}},
		// k=3, s=2, pads [1,0], ceil: windows [pad 1 2] [2 3 4] [4 5 overhang].
		{"AveragePool/1D/ceil/pad/exclude", "AveragePool", x5, []*onnx.Attribute{aInts("kernel_shape", 3), aInts("strides", 2), aInts("pads", 1, 0), aInt("ceil_mode", 1)}, sh(1, 1, 3), []float32{1.5, 3, 4.5}},
		{"AveragePool/1D/ceil/pad/include", "AveragePool", x5, []*onnx.Attribute{aInts("kernel_shape", 3), aInts("strides", 2), aInts("pads", 1, 0), aInt("ceil_mode", 1), aInt("count_include_pad", 1)}, sh(1, 1, 3), []float32{1, 3, 4.5}},
		{"MaxPool/1D/ceil/pad", "MaxPool", x5, []*onnx.Attribute{aInts("kernel_shape", 3), aInts("strides", 2), aInts("pads", 1, 0), aInt("ceil_mode", 1)}, sh(1, 1, 3), []float32{2, 4, 5}},
		// 1 2 3 4 with k=2, s=2, pads [0,1]: ceil would give a third window
		// starting at the end-padding element; it is dropped.
		{"MaxPool/1D/ceil/no-window-starting-in-end-pad", "MaxPool", iota32(1, 1, 4), []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aInts("pads", 0, 1), aInt("ceil_mode", 1)}, sh(1, 1, 2), []float32{2, 4}},
		// in 5, k 2, s 2, SAME_UPPER: out 3, one pad at the end: [1 2] [3 4] [5 pad].
		{"AveragePool/1D/SAME_UPPER", "AveragePool", x5, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aString("auto_pad", "SAME_UPPER")}, sh(1, 1, 3), []float32{1.5, 3.5, 5}},
		{"AveragePool/1D/SAME_UPPER/include", "AveragePool", x5, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aString("auto_pad", "SAME_UPPER"), aInt("count_include_pad", 1)}, sh(1, 1, 3), []float32{1.5, 3.5, 2.5}},
		// SAME_LOWER puts the pad first: [pad 1] [2 3] [4 5].
		{"AveragePool/1D/SAME_LOWER", "AveragePool", x5, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aString("auto_pad", "SAME_LOWER")}, sh(1, 1, 3), []float32{1, 2.5, 4.5}},
		// dilation 2: taps i and i+2.
		{"MaxPool/1D/dilation2", "MaxPool", f32(sh(1, 1, 5), 5, 1, 4, 2, 3), []*onnx.Attribute{aInts("kernel_shape", 2), aInts("dilations", 2)}, sh(1, 1, 3), []float32{5, 2, 4}},
		{"MaxPool/negative-values-with-padding", "MaxPool", f32(sh(1, 1, 2), -3, -5), []*onnx.Attribute{aInts("kernel_shape", 2), aInts("pads", 1, 1)}, sh(1, 1, 3), []float32{-3, -3, -5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkF(t, rtOne(t, 19, tc.op, []*tensor.Tensor{tc.x}, tc.attrs...), tc.shape, tc.want...)
		})
	}
}

func TestPoolErrors(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 1, 4, 4)
	t.Run("kernel_shape-required", func(t *testing.T) {
		_, err := Build(rtNode("MaxPool"), 13)
		wantErr(t, err, "kernel_shape")
	})
	t.Run("storage_order-refused", func(t *testing.T) {
		_, err := Build(rtNode("MaxPool", aInts("kernel_shape", 2, 2), aInt("storage_order", 1)), 13)
		if err == nil {
			t.Error("got no error")
		}
	})
	t.Run("rank-mismatch", func(t *testing.T) {
		if err := rtErr(13, "MaxPool", []*tensor.Tensor{x}, aInts("kernel_shape", 2)); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("window-larger-than-input", func(t *testing.T) {
		if err := rtErr(13, "AveragePool", []*tensor.Tensor{x}, aInts("kernel_shape", 5, 5)); err == nil {
			t.Error("got no error")
		}
	})
	t.Run("indices-output-refused", func(t *testing.T) {
		op := rtBuild(t, 13, "MaxPool", aInts("kernel_shape", 2, 2))
		if _, err := rtEval(op, 1, 2, []*tensor.Tensor{x}, allConst); err == nil {
			t.Error("Run filled a MaxPool Indices output it does not compute")
		}
	})
}

func TestGlobalAveragePool(t *testing.T) {
	t.Run("hand", func(t *testing.T) {
		x := f32(sh(1, 2, 2, 2), 1, 2, 3, 4, -1, -1, 5, 5)
		checkF(t, rtOne(t, 13, "GlobalAveragePool", []*tensor.Tensor{x}), sh(1, 2, 1, 1), 2.5, 2)
	})
	t.Run("1D", func(t *testing.T) {
		x := f32(sh(2, 1, 3), 1, 2, 3, 4, 5, 9)
		checkF(t, rtOne(t, 13, "GlobalAveragePool", []*tensor.Tensor{x}), sh(2, 1, 1), 2, 6)
	})
	t.Run("random", func(t *testing.T) {
		x := randT(rtRand(31), 3, 7, 9, 11)
		want := make([]float64, 21)
		for p := range want {
			for _, v := range x.F32[p*99 : (p+1)*99] {
				want[p] += float64(v)
			}
			want[p] /= 99
		}
		for _, workers := range []int{1, 4} {
			op := rtBuild(t, 13, "GlobalAveragePool")
			out := rtMust(t, op, workers, 1, []*tensor.Tensor{x}, allConst)
			checkClose(t, out[0], sh(3, 7, 1, 1), want, 1e-5)
		}
	})
}

func TestBatchNormalization(t *testing.T) {
	// x [1,2,1,2]: channel 0 = [1 3], channel 1 = [2 4].
	// scale [2 0.5], B [1 -1], mean [2 3], var [4 0.25], epsilon 0:
	// ch0: (1-2)/2·2+1 = 0, (3-2)/2·2+1 = 2
	// ch1: (2-3)/0.5·0.5-1 = -2, (4-3)/0.5·0.5-1 = 0
	x := f32(sh(1, 2, 1, 2), 1, 3, 2, 4)
	scale, bias := f32(sh(2), 2, 0.5), f32(sh(2), 1, -1)
	mean, variance := f32(sh(2), 2, 3), f32(sh(2), 4, 0.25)
	in := []*tensor.Tensor{x, scale, bias, mean, variance}
	t.Run("hand/epsilon0", func(t *testing.T) {
		checkF(t, rtOne(t, 15, "BatchNormalization", in, aFloat("epsilon", 0)), sh(1, 2, 1, 2), 0, 2, -2, 0)
	})
	t.Run("hand/opset9", func(t *testing.T) {
		checkF(t, rtOne(t, 9, "BatchNormalization", in, aFloat("epsilon", 0), aFloat("momentum", 0.9)), sh(1, 2, 1, 2), 0, 2, -2, 0)
	})
	t.Run("hand/epsilon", func(t *testing.T) {
		// var 0 and epsilon 0.25: divide by 0.5.
		got := rtOne(t, 15, "BatchNormalization", []*tensor.Tensor{f32(sh(1, 1, 3), 0, 1, 2), f32(sh(1), 1), f32(sh(1), 0), f32(sh(1), 1), f32(sh(1), 0)}, aFloat("epsilon", 0.25))
		checkF(t, got, sh(1, 1, 3), -2, 0, 2)
	})
	t.Run("default-epsilon-2D", func(t *testing.T) {
		// [N,C] input; default epsilon 1e-5.
		got := rtOne(t, 15, "BatchNormalization", []*tensor.Tensor{f32(sh(2, 2), 1, 3, 2, 4), scale, bias, mean, variance})
		e := 1e-5
		want := []float64{
			(1-2)/math.Sqrt(4+e)*2 + 1, (3-3)/math.Sqrt(0.25+e)*0.5 - 1,
			(2-2)/math.Sqrt(4+e)*2 + 1, (4-3)/math.Sqrt(0.25+e)*0.5 - 1,
		}
		checkClose(t, got, sh(2, 2), want, 1e-6)
	})
	t.Run("random/parallel", func(t *testing.T) {
		r := rtRand(32)
		x := randT(r, 3, 5, 7, 6)
		s, b, m := randT(r, 5), randT(r, 5), randT(r, 5)
		v := randT(r, 5)
		for i := range v.F32 {
			v.F32[i] = v.F32[i]*v.F32[i] + 0.1
		}
		want := make([]float64, x.Len())
		for i := range want {
			c := (i / 42) % 5
			want[i] = (float64(x.F32[i])-float64(m.F32[c]))/math.Sqrt(float64(v.F32[c])+1e-3)*float64(s.F32[c]) + float64(b.F32[c])
		}
		for _, workers := range []int{1, 4} {
			op := rtBuild(t, 15, "BatchNormalization", aFloat("epsilon", 1e-3))
			out := rtMust(t, op, workers, 1, []*tensor.Tensor{x, s, b, m, v}, allConst)
			checkClose(t, out[0], x.Shape, want, 1e-5)
		}
	})
	t.Run("training_mode-refused", func(t *testing.T) {
		_, err := Build(rtNode("BatchNormalization", aInt("training_mode", 1)), 15)
		if err == nil {
			t.Error("got no error")
		}
	})
	t.Run("spatial0-refused", func(t *testing.T) {
		_, err := Build(rtNode("BatchNormalization", aInt("spatial", 0)), 7)
		if err == nil {
			t.Error("got no error")
		}
	})
	t.Run("wrong-stat-length", func(t *testing.T) {
		if err := rtErr(15, "BatchNormalization", []*tensor.Tensor{x, scale, bias, f32(sh(3), 1, 2, 3), variance}); err == nil {
			t.Error("got no error")
		}
	})
}

// refSoftmax normalizes x over the flattened block [axis:] (coerce2D) or
// over the single axis.
func refSoftmax(x *tensor.Tensor, axis int, coerce2D bool) []float64 {
	s := x.Shape
	if axis < 0 {
		axis += len(s)
	}
	out := make([]float64, x.Len())
	outer := tensor.NumElements(s[:axis])
	n, inner := s[axis], tensor.NumElements(s[axis+1:])
	if coerce2D {
		n, inner = tensor.NumElements(s[axis:]), 1
	}
	for o := 0; o < outer; o++ {
		for in := 0; in < inner; in++ {
			at := func(i int) int { return (o*n+i)*inner + in }
			m := math.Inf(-1)
			for i := 0; i < n; i++ {
				m = math.Max(m, float64(x.F32[at(i)]))
			}
			sum := 0.0
			for i := 0; i < n; i++ {
				sum += math.Exp(float64(x.F32[at(i)]) - m)
			}
			for i := 0; i < n; i++ {
				out[at(i)] = math.Exp(float64(x.F32[at(i)])-m) / sum
			}
		}
	}
	return out
}

func TestSoftmax(t *testing.T) {
	r := rtRand(33)
	x := randT(r, 2, 3, 4)
	for i := range x.F32 {
		x.F32[i] *= 5
	}
	for _, tc := range []struct {
		name     string
		opset    int64
		axis     *int64
		refAxis  int
		coerce2D bool
	}{
		{"opset11/default-axis1-coerces-2D", 11, nil, 1, true},
		{"opset11/axis1-coerces-2D", 11, ptr(int64(1)), 1, true},
		{"opset11/axis2", 11, ptr(int64(2)), 2, true},
		{"opset11/axis0-whole-tensor", 11, ptr(int64(0)), 0, true},
		{"opset11/axis-1", 11, ptr(int64(-1)), -1, true},
		{"opset13/default-last-axis", 13, nil, -1, false},
		{"opset13/axis1-single-axis", 13, ptr(int64(1)), 1, false},
		{"opset13/axis0", 13, ptr(int64(0)), 0, false},
		{"opset13/axis-2", 13, ptr(int64(-2)), -2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attrs []*onnx.Attribute
			if tc.axis != nil {
				attrs = append(attrs, aInt("axis", *tc.axis))
			}
			want := refSoftmax(x, tc.refAxis, tc.coerce2D)
			for _, workers := range []int{1, 4} {
				op := rtBuild(t, tc.opset, "Softmax", attrs...)
				out := rtMust(t, op, workers, 1, []*tensor.Tensor{x}, allConst)
				checkClose(t, out[0], x.Shape, want, 1e-5)
			}
		})
	}
	t.Run("opset11-vs-13-differ-on-3D-axis1", func(t *testing.T) {
		a := rtOne(t, 11, "Softmax", []*tensor.Tensor{x}, aInt("axis", 1))
		b := rtOne(t, 13, "Softmax", []*tensor.Tensor{x}, aInt("axis", 1))
		// opset 11: each of the 2 rows of 12 sums to 1; opset 13: each of
		// the 8 (batch, position) columns of 3 sums to 1.
		for o := 0; o < 2; o++ {
			sum := 0.0
			for i := 0; i < 12; i++ {
				sum += float64(a.F32[o*12+i])
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("opset 11 row %d sums to %v", o, sum)
			}
			for in := 0; in < 4; in++ {
				sum := 0.0
				for c := 0; c < 3; c++ {
					sum += float64(b.F32[o*12+c*4+in])
				}
				if math.Abs(sum-1) > 1e-5 {
					t.Errorf("opset 13 column (%d,%d) sums to %v", o, in, sum)
				}
			}
		}
	})
	t.Run("hand", func(t *testing.T) {
		checkF(t, rtOne(t, 13, "Softmax", []*tensor.Tensor{f32(sh(4), 1, 1, 1, 1)}), sh(4), 0.25, 0.25, 0.25, 0.25)
		// e^0/(e^0+e^ln3) with ln 3 ≈ 1.0986123: [0.25, 0.75].
		checkClose(t, rtOne(t, 13, "Softmax", []*tensor.Tensor{f32(sh(2), 0, float32(math.Log(3)))}), sh(2), []float64{0.25, 0.75}, 1e-6)
	})
	t.Run("large-values-stable", func(t *testing.T) {
		got := rtOne(t, 13, "Softmax", []*tensor.Tensor{f32(sh(3, 2), 1000, 1000, 1000, 0, -1000, -1000)})
		checkF(t, got, sh(3, 2), 0.5, 0.5, 1, 0, 0.5, 0.5)
		got = rtOne(t, 13, "Softmax", []*tensor.Tensor{f32(sh(3), 3e38, 3e38, 3e38)})
		checkClose(t, got, sh(3), []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-6)
	})
	t.Run("axis-out-of-range", func(t *testing.T) {
		if err := rtErr(13, "Softmax", []*tensor.Tensor{x}, aInt("axis", 3)); err == nil {
			t.Error("got no error")
		}
	})
}

func ptr[T any](v T) *T { return &v }
