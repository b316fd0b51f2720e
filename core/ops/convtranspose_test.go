package ops

import (
	"fmt"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// The ONNX backend node tests convtranspose and convtranspose_output_shape:
// x = 0..8 (3×3), weights all ones, two output channels.
func TestConvTransposeHand(t *testing.T) {
	x := f32(sh(1, 1, 3, 3), 0, 1, 2, 3, 4, 5, 6, 7, 8)
	w := tensor.New(tensor.Float32, 1, 2, 3, 3)
	for i := range w.F32 {
		w.F32[i] = 1
	}
	got := rtOne(t, 13, "ConvTranspose", []*tensor.Tensor{x, w})
	plane := []float32{
		0, 1, 3, 3, 2,
		3, 8, 15, 12, 7,
		9, 21, 36, 27, 15,
		9, 20, 33, 24, 13,
		6, 13, 21, 15, 8}
	checkF(t, got, sh(1, 2, 5, 5), append(append([]float32(nil), plane...), plane...)...)

	// Strides 3×2 and an output_shape one larger than the full extent
	// (9×7): the extra row and column are zeros.
	got = rtOne(t, 13, "ConvTranspose", []*tensor.Tensor{x, w, f32(sh(2), 0, 10)},
		aInts("strides", 3, 2), aInts("output_shape", 10, 8))
	var want []float32
	for ch := 0; ch < 2; ch++ {
		for r := 0; r < 10; r++ {
			row := []float32{0, 0, 0, 0, 0, 0, 0, 0}
			if r < 9 {
				b := float32(3 * (r / 3))
				row = []float32{b, b, 2*b + 1, b + 1, 2*b + 3, b + 2, b + 2, 0}
			}
			for i := range row {
				row[i] += float32(10 * ch)
			}
			want = append(want, row...)
		}
	}
	checkF(t, got, sh(1, 2, 10, 8), want...)
}

// refConvTranspose scatters every input value over the output, as the
// definition reads; pads are the resolved ones.
func refConvTranspose(x, w *tensor.Tensor, bias []float32, group int, out []int, s, d, pb [2]int) []float64 {
	n, c := x.Shape[0], x.Shape[1]
	ih, iw := x.Shape[2], x.Shape[3]
	mg, kh, kw := w.Shape[1], w.Shape[2], w.Shape[3]
	m, oh, ow := mg*group, out[2], out[3]
	cg := c / group
	y := make([]float64, n*m*oh*ow)
	for b := 0; b < n; b++ {
		for o := 0; o < m; o++ {
			for i := 0; i < oh*ow; i++ {
				if bias != nil {
					y[(b*m+o)*oh*ow+i] = float64(bias[o])
				}
			}
		}
		for ci := 0; ci < c; ci++ {
			grp := ci / cg
			for iy := 0; iy < ih; iy++ {
				for ix := 0; ix < iw; ix++ {
					v := float64(x.F32[((b*c+ci)*ih+iy)*iw+ix])
					for om := 0; om < mg; om++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								oy, ox := iy*s[0]+ky*d[0]-pb[0], ix*s[1]+kx*d[1]-pb[1]
								if oy < 0 || oy >= oh || ox < 0 || ox >= ow {
									continue
								}
								o := grp*mg + om
								y[((b*m+o)*oh+oy)*ow+ox] += v * float64(w.F32[((ci*mg+om)*kh+ky)*kw+kx])
							}
						}
					}
				}
			}
		}
	}
	return y
}

func TestConvTransposeReference(t *testing.T) {
	r := rtRand(16)
	type tc struct {
		name              string
		n, c, h, w, mg    int
		kh, kw, group     int
		attrs             []*onnx.Attribute
		stride, dil, pads [2]int // pads: resolved begin pads
		out               [2]int
		bias              bool
		oneD              bool
	}
	one, two := [2]int{1, 1}, [2]int{2, 2}
	cases := []tc{
		{name: "unet-up-2x2-stride2", n: 2, c: 4, h: 5, w: 6, mg: 3, kh: 2, kw: 2, group: 1, attrs: []*onnx.Attribute{aInts("strides", 2, 2)},
			stride: two, dil: one, out: [2]int{10, 12}, bias: true},
		{name: "3x3/pads/stride2/output_padding", n: 1, c: 3, h: 4, w: 5, mg: 2, kh: 3, kw: 3, group: 1,
			attrs:  []*onnx.Attribute{aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1), aInts("output_padding", 1, 1)},
			stride: two, dil: one, pads: [2]int{1, 1}, out: [2]int{8, 10}},
		{name: "asymmetric-pads/dilation", n: 1, c: 2, h: 4, w: 4, mg: 3, kh: 3, kw: 2, group: 1,
			attrs:  []*onnx.Attribute{aInts("dilations", 2, 3), aInts("pads", 0, 2, 1, 0)},
			stride: one, dil: [2]int{2, 3}, pads: [2]int{0, 2}, out: [2]int{7, 5}, bias: true},
		{name: "groups", n: 3, c: 6, h: 3, w: 4, mg: 2, kh: 3, kw: 3, group: 3,
			attrs: []*onnx.Attribute{aInt("group", 3), aInts("strides", 1, 2)}, stride: [2]int{1, 2}, dil: one, out: [2]int{5, 9}, bias: true},
		{name: "depthwise", n: 1, c: 4, h: 5, w: 5, mg: 1, kh: 3, kw: 3, group: 4,
			attrs: []*onnx.Attribute{aInt("group", 4), aInts("pads", 1, 1, 1, 1)}, stride: one, dil: one, pads: one, out: [2]int{5, 5}},
		// SAME_UPPER: output = input·stride; of the total padding (2 and 1)
		// the extra half goes to the end.
		{name: "SAME_UPPER", n: 1, c: 2, h: 3, w: 4, mg: 2, kh: 4, kw: 3, group: 1,
			attrs:  []*onnx.Attribute{aString("auto_pad", "SAME_UPPER"), aInts("strides", 2, 2)},
			stride: two, dil: one, pads: [2]int{1, 0}, out: [2]int{6, 8}},
		{name: "SAME_LOWER", n: 1, c: 2, h: 3, w: 4, mg: 2, kh: 4, kw: 3, group: 1,
			attrs:  []*onnx.Attribute{aString("auto_pad", "SAME_LOWER"), aInts("strides", 2, 2)},
			stride: two, dil: one, pads: [2]int{1, 1}, out: [2]int{6, 8}},
		{name: "VALID", n: 1, c: 2, h: 3, w: 3, mg: 1, kh: 2, kw: 2, group: 1,
			attrs:  []*onnx.Attribute{aString("auto_pad", "VALID"), aInts("pads", 0, 0, 0, 0)},
			stride: one, dil: one, out: [2]int{4, 4}},
		// output_shape smaller than the full extent (12): pads 3 and 2
		// in total, the larger half first.
		{name: "output_shape-crops", n: 1, c: 1, h: 4, w: 4, mg: 2, kh: 3, kw: 3, group: 1,
			attrs:  []*onnx.Attribute{aInts("strides", 3, 3), aInts("output_shape", 1, 2, 9, 10)},
			stride: [2]int{3, 3}, dil: one, pads: [2]int{2, 1}, out: [2]int{9, 10}},
		{name: "1D", n: 2, c: 3, h: 1, w: 7, mg: 2, kh: 1, kw: 3, group: 1, oneD: true,
			attrs: []*onnx.Attribute{aInts("strides", 2), aInts("pads", 1, 0)}, stride: [2]int{1, 2}, dil: one, pads: [2]int{0, 1}, out: [2]int{1, 14}, bias: true},
	}
	for _, cc := range cases {
		t.Run(cc.name, func(t *testing.T) {
			x := randT(r, cc.n, cc.c, cc.h, cc.w)
			w := randT(r, cc.c, cc.mg, cc.kh, cc.kw)
			var b *tensor.Tensor
			var bias []float32
			if cc.bias {
				b = randT(r, cc.mg*cc.group)
				bias = b.F32
			}
			outShape := []int{cc.n, cc.mg * cc.group, cc.out[0], cc.out[1]}
			want := refConvTranspose(x, w, bias, cc.group, outShape, cc.stride, cc.dil, cc.pads)
			in := []*tensor.Tensor{x, w, b}
			if cc.oneD {
				x1 := tensor.FromFloat32(x.F32, cc.n, cc.c, cc.w)
				w1 := tensor.FromFloat32(w.F32, cc.c, cc.mg, cc.kw)
				in = []*tensor.Tensor{x1, w1, b}
				outShape = []int{cc.n, cc.mg * cc.group, cc.out[1]}
			}
			if b == nil {
				in = in[:2]
			}
			for _, workers := range []int{1, 4} {
				for _, constW := range []bool{true, false} {
					t.Run(fmt.Sprintf("workers=%d/constW=%v", workers, constW), func(t *testing.T) {
						op := rtBuild(t, 13, "ConvTranspose", cc.attrs...)
						constant := constAt(len(in), 0)
						for i := 1; i < len(in); i++ {
							constant[i] = constW
						}
						got := rtMust(t, op, workers, 1, in, constant)[0]
						checkClose(t, got, outShape, want, 1e-5)
					})
				}
			}
		})
	}
}

func TestConvTransposeErrors(t *testing.T) {
	x := iota32(1, 2, 3, 3)
	w := iota32(2, 1, 3, 3)
	for _, tc := range []struct {
		name  string
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		want  string
	}{
		{"channels", []*tensor.Tensor{x, iota32(3, 1, 3, 3)}, nil, "do not agree"},
		{"group", []*tensor.Tensor{iota32(1, 3, 3, 3), iota32(3, 1, 3, 3)}, []*onnx.Attribute{aInt("group", 2)}, "do not agree"},
		{"kernel_shape", []*tensor.Tensor{x, w}, []*onnx.Attribute{aInts("kernel_shape", 2, 2)}, "disagrees"},
		{"output_padding-too-large", []*tensor.Tensor{x, w}, []*onnx.Attribute{aInts("strides", 2, 2), aInts("output_padding", 2, 0)}, "smaller than the stride"},
		{"output_padding-length", []*tensor.Tensor{x, w}, []*onnx.Attribute{aInts("output_padding", 0)}, "1 values for 2"},
		{"pads-too-large", []*tensor.Tensor{x, w}, []*onnx.Attribute{aInts("pads", 3, 0, 3, 0)}, "exceed"},
		{"bias", []*tensor.Tensor{x, w, iota32(2)}, nil, "bias shape"},
		{"int", []*tensor.Tensor{iota64(1, 2, 3, 3), w}, nil, "float32"},
		{"3D", []*tensor.Tensor{iota32(1, 2, 2, 2, 2), iota32(2, 1, 1, 1, 1)}, nil, "rank 5"},
		{"negative-output_shape", []*tensor.Tensor{x, w}, []*onnx.Attribute{aInts("output_shape", -1, 4)}, "non-negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, rtErr(13, "ConvTranspose", tc.in, tc.attrs...), tc.want)
		})
	}
	_, err := Infer(rtBuild(t, 13, "ConvTranspose", aInts("strides", 1<<30, 1)),
		[]Meta{{tensor.Float32, sh(1, 1, 1<<20, 1)}, {tensor.Float32, sh(1, 1, 1, 1)}}, []*tensor.Tensor{nil, nil}, nil)
	wantErr(t, err, "too large")
}
