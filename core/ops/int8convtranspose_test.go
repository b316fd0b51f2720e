package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/int8cal/int8cal/core/qgemm"
	"github.com/int8cal/int8cal/core/tensor"
)

// The INT8 transposed convolution against a reference computed from the
// same quantized values: the input per tensor, the weights per index of
// axis 1 (max|w| over every input channel and tap), quantized here
// independently of the kernel's transposition. Per output value the
// reference sums, in float64, the bias and each tap's exact integer sum
// times its scale; the kernel rounds each tap's dequantized value and the
// running sum to float32, so it may differ by half an ulp per term: the
// tolerance is (taps+1)·2⁻²⁴·(|bias| + Σ|term|).
func TestInt8ConvTransposeMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	for _, tc := range []struct {
		x, w        []int
		group       int
		stride, pad [2]int
		dil, outPad [2]int
		bias        bool
	}{
		{[]int{1, 6, 5, 5}, []int{6, 4, 2, 2}, 1, [2]int{2, 2}, [2]int{}, [2]int{1, 1}, [2]int{}, true}, // U-Net's up-sampling
		{[]int{3, 5, 4, 6}, []int{5, 3, 3, 3}, 1, [2]int{2, 2}, [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1}, true},
		{[]int{2, 6, 5, 4}, []int{6, 2, 3, 3}, 3, [2]int{1, 2}, [2]int{1, 0}, [2]int{2, 1}, [2]int{0, 1}, false},
		{[]int{2, 7, 1, 9}, []int{7, 3, 1, 4}, 1, [2]int{1, 3}, [2]int{0, 1}, [2]int{1, 1}, [2]int{}, true}, // 1-D as a height of 1
		{[]int{1, 33, 9, 7}, []int{33, 5, 3, 2}, 1, [2]int{1, 1}, [2]int{}, [2]int{1, 1}, [2]int{}, true},   // odd depth, many panels
	} {
		t.Run(fmt.Sprint(tc.x, tc.w, tc.group), func(t *testing.T) {
			x, w, b := randomTensor(rng, tc.x...), randomTensor(rng, tc.w...), randomTensor(rng, tc.w[1]*tc.group)
			op := rtBuild(t, 13, "ConvTranspose", aInts("strides", int64(tc.stride[0]), int64(tc.stride[1])),
				aInts("pads", int64(tc.pad[0]), int64(tc.pad[1]), int64(tc.pad[0]), int64(tc.pad[1])),
				aInts("dilations", int64(tc.dil[0]), int64(tc.dil[1])),
				aInts("output_padding", int64(tc.outPad[0]), int64(tc.outPad[1])), aInt("group", int64(tc.group)))
			in := []*tensor.Tensor{x, w}
			metas := []Meta{{tensor.Float32, x.Shape}, {tensor.Float32, w.Shape}}
			var bias []float32
			if tc.bias {
				in, metas, bias = append(in, b), append(metas, Meta{tensor.Float32, b.Shape}), b.F32
			}
			ms, err := op.Infer(metas, nil)
			if err != nil {
				t.Fatal(err)
			}
			sx := clipScale(x)
			q, ok := op.(Int8Capable).Int8([]float32{sx})
			if !ok {
				t.Fatal("no INT8 variant")
			}
			if err := q.(Preparer).Prepare(append([]*tensor.Tensor{nil}, in[1:]...)); err != nil {
				t.Fatal(err)
			}
			want, tol := refQConvTranspose(x, w, bias, tc.group, ms[0].Shape, tc.stride, tc.dil, tc.pad, sx)
			runInt8Everywhere(t, q, in, ms[0].Shape, want, tol)
		})
	}
}

// refQConvTranspose returns the reference and the tolerance of each
// output value (see TestInt8ConvTransposeMatchesReference).
func refQConvTranspose(x, w *tensor.Tensor, bias []float32, group int, out []int, s, d, pb [2]int, sx float32) (want, tol []float32) {
	n, c, ih, iw := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	mg, kh, kw := w.Shape[1], w.Shape[2], w.Shape[3]
	m, oh, ow := mg*group, out[2], out[3]
	cg := c / group
	xq := make([]int8, x.Len())
	qgemm.Quantize(xq, x.F32, sx)
	// Per index of axis 1: max|w| over input channels and taps.
	ws := make([]float32, mg)
	for i, v := range w.F32 {
		j := i / (kh * kw) % mg
		ws[j] = max(ws[j], float32(math.Abs(float64(v))))
	}
	for j := range ws {
		if ws[j] /= 127; !(ws[j] > 0) {
			ws[j] = 1
		}
	}
	wq := make([]int64, w.Len())
	for i, v := range w.F32 {
		wq[i] = QuantizeValue(v, ws[i/(kh*kw)%mg], 0, -127, 127)
	}
	want, tol = make([]float32, n*m*oh*ow), make([]float32, n*m*oh*ow)
	for b := 0; b < n; b++ {
		for o := 0; o < m; o++ {
			grp, om := o/mg, o%mg
			scale := float64(ws[om] * sx)
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var ref, mag float64
					if bias != nil {
						ref, mag = float64(bias[o]), math.Abs(float64(bias[o]))
					}
					terms := 1
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							ty, tx := oy+pb[0]-ky*d[0], ox+pb[1]-kx*d[1]
							if ty < 0 || tx < 0 || ty%s[0] != 0 || tx%s[1] != 0 || ty/s[0] >= ih || tx/s[1] >= iw {
								continue
							}
							iy, ix := ty/s[0], tx/s[1]
							var acc int64
							for ci := grp * cg; ci < (grp+1)*cg; ci++ {
								acc += int64(xq[((b*c+ci)*ih+iy)*iw+ix]) * wq[((ci*mg+om)*kh+ky)*kw+kx]
							}
							ref += float64(acc) * scale
							mag += math.Abs(float64(acc) * scale)
							terms++
						}
					}
					at := ((b*m+o)*oh+oy)*ow + ox
					want[at] = float32(ref)
					tol[at] = float32(float64(terms+1) * 0x1p-24 * mag)
				}
			}
		}
	}
	return want, tol
}
