package ops

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// Hand-computed cases; several are the ONNX backend node tests' (the
// names in comments), whose expected values the spec's reference gives.
func TestResizeHand(t *testing.T) {
	x22 := f32(sh(1, 1, 2, 2), 1, 2, 3, 4)
	x24 := f32(sh(1, 1, 2, 4), 1, 2, 3, 4, 5, 6, 7, 8)
	scales := func(v ...float32) *tensor.Tensor { return f32(sh(len(v)), v...) }
	sizes := func(v ...int64) *tensor.Tensor { return i64(sh(len(v)), v...) }
	for _, tc := range []struct {
		name  string
		opset int64
		attrs []*onnx.Attribute
		in    []*tensor.Tensor
		shape []int
		want  []float32
	}{
		// YOLOv5/v8's nn.Upsample(scale_factor=2) as TorchScript exports it.
		{"nearest/asymmetric/floor/x2", 13,
			[]*onnx.Attribute{aString("coordinate_transformation_mode", "asymmetric"), aString("nearest_mode", "floor")},
			[]*tensor.Tensor{x22, nil, scales(1, 1, 2, 2)}, sh(1, 1, 4, 4),
			[]float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}},
		// resize_upsample_scales_linear
		{"linear/half_pixel/x2", 13, []*onnx.Attribute{aString("mode", "linear")},
			[]*tensor.Tensor{x22, nil, scales(1, 1, 2, 2)}, sh(1, 1, 4, 4),
			[]float32{1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}},
		// resize_upsample_scales_linear_align_corners
		{"linear/align_corners/x2", 13,
			[]*onnx.Attribute{aString("mode", "linear"), aString("coordinate_transformation_mode", "align_corners")},
			[]*tensor.Tensor{x22, nil, scales(1, 1, 2, 2)}, sh(1, 1, 4, 4),
			[]float32{1, 4. / 3, 5. / 3, 2, 5. / 3, 2, 7. / 3, 8. / 3, 7. / 3, 8. / 3, 3, 10. / 3, 3, 10. / 3, 11. / 3, 4}},
		// resize_downsample_scales_linear: rows 1/3 of the way, columns at 1/3 and 2.
		{"linear/half_pixel/x0.6", 13, []*onnx.Attribute{aString("mode", "linear")},
			[]*tensor.Tensor{x24, nil, scales(1, 1, 0.6, 0.6)}, sh(1, 1, 1, 2), []float32{8. / 3, 13. / 3}},
		// resize_downsample_scales_linear_align_corners: the resized
		// length is 4·0.6 = 2.4, not the 2 columns written, so column 1
		// samples the input at 1·3/1.4.
		{"linear/align_corners/x0.6", 13,
			[]*onnx.Attribute{aString("mode", "linear"), aString("coordinate_transformation_mode", "align_corners")},
			[]*tensor.Tensor{x24, nil, scales(1, 1, 0.6, 0.6)}, sh(1, 1, 1, 2), []float32{1, 1 + 3/1.4}},
		// resize_downsample_scales_nearest
		{"nearest/half_pixel/x0.6", 13, nil,
			[]*tensor.Tensor{x24, nil, scales(1, 1, 0.6, 0.6)}, sh(1, 1, 1, 2), []float32{1, 3}},
		// resize_upsample_sizes_nearest: 7 rows (4 of the first), 8 columns.
		{"nearest/sizes/7x8", 13, nil,
			[]*tensor.Tensor{x22, nil, nil, sizes(1, 1, 7, 8)}, sh(1, 1, 7, 8),
			[]float32{
				1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2,
				3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4}},
		// Opset 11 passes an empty scales tensor beside sizes.
		{"opset11/empty-scales", 11, nil,
			[]*tensor.Tensor{x22, f32(sh(0)), f32(sh(0)), sizes(1, 1, 1, 4)}, sh(1, 1, 1, 4), []float32{1, 1, 2, 2}},
		{"axes/sizes", 18, []*onnx.Attribute{aInts("axes", -1, 2)},
			[]*tensor.Tensor{x22, nil, nil, sizes(4, 2)}, sh(1, 1, 2, 4), []float32{1, 1, 2, 2, 3, 3, 4, 4}},
		// pytorch_half_pixel maps a single output to 0, half_pixel to the middle.
		{"linear/pytorch_half_pixel/one", 13,
			[]*onnx.Attribute{aString("mode", "linear"), aString("coordinate_transformation_mode", "pytorch_half_pixel")},
			[]*tensor.Tensor{x22, nil, nil, sizes(1, 1, 1, 1)}, sh(1, 1, 1, 1), []float32{1}},
		{"linear/half_pixel/one", 13, []*onnx.Attribute{aString("mode", "linear")},
			[]*tensor.Tensor{x22, nil, nil, sizes(1, 1, 1, 1)}, sh(1, 1, 1, 1), []float32{2.5}},
		// Resize-10: asymmetric, nearest rounding down while upsampling.
		{"opset10", 10, nil, []*tensor.Tensor{x22, scales(1, 1, 1, 2)}, sh(1, 1, 2, 4), []float32{1, 1, 2, 2, 3, 3, 4, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rtOne(t, tc.opset, "Resize", tc.in, tc.attrs...)
			checkF(t, got, tc.shape, tc.want...)
		})
	}
	t.Run("int64/nearest", func(t *testing.T) {
		got := rtOne(t, 13, "Resize", []*tensor.Tensor{i64(sh(2), 5, 6), nil, f32(sh(1), 2)},
			aString("coordinate_transformation_mode", "asymmetric"))
		checkI(t, got, tensor.Int64, sh(4), 5, 5, 6, 6)
	})
}

func TestUpsample(t *testing.T) {
	x22 := f32(sh(1, 1, 2, 2), 1, 2, 3, 4)
	got := rtOne(t, 9, "Upsample", []*tensor.Tensor{x22, f32(sh(4), 1, 1, 2, 3)})
	checkF(t, got, sh(1, 1, 4, 6),
		1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4)
	// Linear, asymmetric: x/2 → 0, 0.5, 1, 1.5 (clamped to the edge).
	got = rtOne(t, 7, "Upsample", []*tensor.Tensor{f32(sh(1, 2), 1, 3)}, aString("mode", "linear"), aFloats("scales", 1, 2))
	checkF(t, got, sh(1, 4), 1, 2, 3, 3)
	for _, tc := range []struct {
		name  string
		opset int64
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		want  string
	}{
		{"below-one", 9, []*tensor.Tensor{x22, f32(sh(4), 1, 1, 0.5, 1)}, nil, "at least 1"},
		{"opset10", 10, []*tensor.Tensor{x22, f32(sh(4), 1, 1, 2, 2)}, nil, "use Resize"},
		{"attr-in-9", 9, []*tensor.Tensor{x22}, []*onnx.Attribute{aFloats("scales", 1, 1, 2, 2)}, "became an input"},
		{"no-scales-7", 7, []*tensor.Tensor{x22}, nil, "required"},
		{"cubic", 9, []*tensor.Tensor{x22, f32(sh(4), 1, 1, 2, 2)}, []*onnx.Attribute{aString("mode", "cubic")}, "cubic"},
	} {
		t.Run("error/"+tc.name, func(t *testing.T) {
			wantErr(t, rtErr(tc.opset, "Upsample", tc.in, tc.attrs...), tc.want)
		})
	}
}

func TestResizeErrors(t *testing.T) {
	x := iota32(1, 1, 2, 2)
	sc := f32(sh(4), 1, 1, 2, 2)
	for _, tc := range []struct {
		name  string
		opset int64
		in    []*tensor.Tensor
		attrs []*onnx.Attribute
		want  string
	}{
		{"tf_crop_and_resize", 13, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aString("coordinate_transformation_mode", "tf_crop_and_resize")}, "tf_crop_and_resize"},
		{"tf_half_pixel_for_nn-13", 13, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aString("coordinate_transformation_mode", "tf_half_pixel_for_nn")}, "removed in opset 13"},
		{"half_pixel_symmetric-18", 18, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aString("coordinate_transformation_mode", "half_pixel_symmetric")}, "opset 19"},
		{"antialias", 18, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aInt("antialias", 1)}, "antialias"},
		{"antialias-17", 17, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aInt("antialias", 0)}, "opset 18"},
		{"axes-13", 13, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aInts("axes", 0)}, "opset 18"},
		{"keep_aspect_ratio", 18, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aString("keep_aspect_ratio_policy", "not_larger")}, "not_larger"},
		{"mode", 13, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aString("mode", "area")}, "area"},
		{"nearest_mode", 13, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aString("nearest_mode", "banker")}, "banker"},
		{"nearest_mode-internal", 13, []*tensor.Tensor{x, nil, sc}, []*onnx.Attribute{aString("nearest_mode", legacyNearest)}, legacyNearest},
		{"opset10-attr", 10, []*tensor.Tensor{x, sc}, []*onnx.Attribute{aString("coordinate_transformation_mode", "asymmetric")}, "opset 11"},
		{"both", 13, []*tensor.Tensor{x, nil, sc, i64(sh(4), 1, 1, 4, 4)}, nil, "give one"},
		{"neither", 13, []*tensor.Tensor{x}, nil, "one of scales and sizes"},
		{"scales-length", 13, []*tensor.Tensor{x, nil, f32(sh(2), 2, 2)}, nil, "2 scales or sizes for 4 axes"},
		{"scale-zero", 13, []*tensor.Tensor{x, nil, f32(sh(4), 1, 1, 0, 2)}, nil, "positive"},
		{"scale-nan", 13, []*tensor.Tensor{x, nil, f32(sh(4), 1, 1, float32(math.NaN()), 2)}, nil, "positive"},
		{"sizes-negative", 13, []*tensor.Tensor{x, nil, nil, i64(sh(4), 1, 1, -4, 4)}, nil, "negative"},
		{"axes-repeated", 18, []*tensor.Tensor{x, nil, f32(sh(2), 2, 2)}, []*onnx.Attribute{aInts("axes", 2, -2)}, "repeats"},
		{"linear-int", 13, []*tensor.Tensor{iota64(1, 4), nil, f32(sh(2), 1, 2)}, []*onnx.Attribute{aString("mode", "linear")}, "float"},
		{"too-large", 13, []*tensor.Tensor{x, nil, f32(sh(4), 1, 1, 1e30, 1)}, nil, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, rtErr(tc.opset, "Resize", tc.in, tc.attrs...), tc.want)
		})
	}
	t.Run("scales-not-constant", func(t *testing.T) {
		_, err := rtEval(rtBuild(t, 13, "Resize"), 1, 1, []*tensor.Tensor{x, nil, sc}, constAt(3, 0))
		wantErr(t, err, "scales")
	})
}

// TestResizeReference compares every mode, coordinate transformation and
// nearest rounding with refResize, written after the ONNX reference
// implementation (onnx/reference/ops/op_resize.py): neighbours chosen by
// distance in an edge-padded copy, ratio in (0, 1].
func TestResizeReference(t *testing.T) {
	r := rtRand(15)
	x := randT(r, 2, 3, 5, 7)
	type geom struct {
		name   string
		scales []float32
		sizes  []int64
	}
	geoms := []geom{
		{"up-x2", []float32{1, 1, 2, 2}, nil},
		{"down-0.6", []float32{1, 1, 0.6, 0.6}, nil},
		{"mixed-1.5-0.4", []float32{1, 1, 1.5, 0.4}, nil},
		{"sizes-9x3", nil, []int64{2, 3, 9, 3}},
		{"sizes-all-axes", nil, []int64{1, 4, 5, 11}},
	}
	coords := []string{"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"}
	type variant struct {
		mode, nearest string
		exclude       bool
	}
	var variants []variant
	for _, nm := range []string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"} {
		variants = append(variants, variant{"nearest", nm, false})
	}
	variants = append(variants, variant{"linear", "", false}, variant{"cubic", "", false}, variant{"cubic", "", true})
	for _, g := range geoms {
		for _, c := range coords {
			for _, v := range variants {
				name := fmt.Sprintf("%s/%s/%s%s/exclude=%v", g.name, c, v.mode, "/"+v.nearest, v.exclude)
				t.Run(name, func(t *testing.T) {
					attrs := []*onnx.Attribute{aString("mode", v.mode), aString("coordinate_transformation_mode", c)}
					if v.nearest != "" {
						attrs = append(attrs, aString("nearest_mode", v.nearest))
					}
					if v.exclude {
						attrs = append(attrs, aInt("exclude_outside", 1), aFloat("cubic_coeff_a", -0.5))
					}
					in := []*tensor.Tensor{x, nil, nil, nil}
					var outShape []int
					var scale []float64
					if g.scales != nil {
						in[2] = f32(sh(4), g.scales...)
						for i, s := range g.scales {
							outShape = append(outShape, int(math.Floor(float64(x.Shape[i])*float64(s))))
							scale = append(scale, float64(s))
						}
					} else {
						in[3] = i64(sh(4), g.sizes...)
						for i, s := range g.sizes {
							outShape = append(outShape, int(s))
							scale = append(scale, float64(s)/float64(x.Shape[i]))
						}
					}
					a := -0.75
					if v.exclude {
						a = -0.5
					}
					want := refResize(x, outShape, scale, v.mode, c, v.nearest, a, v.exclude)
					op := rtBuild(t, 19, "Resize", attrs...)
					for _, workers := range []int{1, 3} {
						got := rtMust(t, op, workers, 1, in, allConst)[0]
						checkClose(t, got, outShape, want, 1e-5)
					}
				})
			}
		}
	}
}

// refResize applies refResize1D along every axis in turn (the
// interpolation is separable), in float64.
func refResize(x *tensor.Tensor, out []int, scale []float64, mode, coord, nearest string, a float64, exclude bool) []float64 {
	shape := append([]int(nil), x.Shape...)
	data := toF64(x.F32)
	for axis := range shape {
		newShape := append([]int(nil), shape...)
		newShape[axis] = out[axis]
		outer := tensor.NumElements(shape[:axis])
		inner := tensor.NumElements(shape[axis+1:])
		next := make([]float64, tensor.NumElements(newShape))
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				line := make([]float64, shape[axis])
				for k := range line {
					line[k] = data[(o*shape[axis]+k)*inner+i]
				}
				res := refResize1D(line, out[axis], scale[axis], mode, coord, nearest, a, exclude)
				for k, v := range res {
					next[(o*out[axis]+k)*inner+i] = v
				}
			}
		}
		data, shape = next, newShape
	}
	return data
}

func refResize1D(data []float64, outLen int, scale float64, mode, coord, nearest string, a float64, exclude bool) []float64 {
	inLen := len(data)
	res := make([]float64, outLen)
	for x := range res {
		fx := float64(x)
		resized := scale * float64(inLen) // not outLen: the reference's output_width
		var xo float64
		switch coord {
		case "half_pixel":
			xo = (fx+0.5)/scale - 0.5
		case "half_pixel_symmetric":
			adj := float64(outLen) / resized
			xo = float64(inLen)/2*(1-adj) + (fx+0.5)/scale - 0.5
		case "pytorch_half_pixel":
			if resized != 1 {
				xo = (fx+0.5)/scale - 0.5
			}
		case "align_corners":
			if resized != 1 {
				xo = fx * float64(inLen-1) / (resized - 1)
			}
		case "asymmetric":
			xo = fx / scale
		}
		xi := math.Floor(xo)
		ratio := xo - xi
		if ratio == 0 {
			ratio = 1
		}
		var coeffs []float64
		switch mode {
		case "nearest":
			if xo == xi {
				coeffs = []float64{0, 1}
				break
			}
			b := func(v bool) float64 {
				if v {
					return 1
				}
				return 0
			}
			switch nearest {
			case "round_prefer_floor":
				coeffs = []float64{b(ratio <= 0.5), b(ratio > 0.5)}
			case "round_prefer_ceil":
				coeffs = []float64{b(ratio < 0.5), b(ratio >= 0.5)}
			case "floor":
				coeffs = []float64{1, 0}
			case "ceil":
				coeffs = []float64{0, 1}
			}
		case "linear":
			coeffs = []float64{1 - ratio, ratio}
		case "cubic":
			r := ratio
			coeffs = []float64{
				((a*(r+1)-5*a)*(r+1)+8*a)*(r+1) - 4*a,
				((a+2)*r-(a+3))*r*r + 1,
				((a+2)*(1-r)-(a+3))*(1-r)*(1-r) + 1,
				((a*((1-r)+1)-5*a)*((1-r)+1)+8*a)*((1-r)+1) - 4*a,
			}
		}
		// The n points nearest xo (ties to the lower index) in the data
		// padded with ceil(n/2) edge values on each side.
		n := len(coeffs)
		pad := (n + 1) / 2
		padded := make([]float64, inLen+2*pad)
		for i := range padded {
			padded[i] = data[clamp(i-pad, 0, inLen-1)]
		}
		xp := xo + float64(pad)
		idx := make([]int, len(padded))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(i, j int) bool { return math.Abs(xp-float64(idx[i])) < math.Abs(xp-float64(idx[j])) })
		near := append([]int(nil), idx[:n]...)
		sort.Ints(near)
		if exclude {
			sum := 0.0
			for k, p := range near {
				if p-pad < 0 || p-pad >= inLen {
					coeffs[k] = 0
				}
				sum += coeffs[k]
			}
			for k := range coeffs {
				coeffs[k] /= sum
			}
		}
		for k, p := range near {
			res[x] += coeffs[k] * padded[p]
		}
	}
	return res
}
