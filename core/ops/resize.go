package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("Resize", 10, buildResize, "mode", "coordinate_transformation_mode", "nearest_mode",
		"cubic_coeff_a", "exclude_outside", "extrapolation_value", "antialias", "axes", "keep_aspect_ratio_policy")
	register("Upsample", 7, buildUpsample, "mode", "scales")
}

// resize is Resize (opset 10 and later) and Upsample (7 to 9): every
// output coordinate is mapped back onto the input (the coordinate
// transformation), and the output value interpolated there, axis by axis
// (the interpolation is separable: nearest, linear or cubic in each axis,
// a product of 1-D weights over several).
type resize struct {
	mode           string // nearest, linear, cubic
	coord          string // coordinate_transformation_mode
	nearest        string // nearest_mode, or legacyNearest
	cubicA         float64
	excludeOutside bool
	axes           []int // the axes scales and sizes apply to (opset 18), nil: all
	// legacy is Upsample and Resize-10: the scales are the second input (or
	// Upsample-7's attribute), no roi or sizes.
	legacy      bool
	scalesAttr  []float32 // Upsample-7
	minScaleOne bool      // Upsample: scales below 1 are refused by the spec
}

// legacyNearest is the rounding ONNX Runtime applies for Upsample and
// Resize-10, which have no nearest_mode: down when upsampling, up when
// downsampling.
const legacyNearest = "legacy"

func buildResize(n *onnx.Node, opset int64) (Op, error) {
	r := &resize{
		mode:           attrString(n, "mode", "nearest"),
		coord:          attrString(n, "coordinate_transformation_mode", "half_pixel"),
		nearest:        attrString(n, "nearest_mode", "round_prefer_floor"),
		cubicA:         float64(attrFloat(n, "cubic_coeff_a", -0.75)),
		excludeOutside: attrInt(n, "exclude_outside", 0) != 0,
		axes:           attrInts(n, "axes"),
	}
	if opset < 11 {
		for _, a := range n.Attrs {
			if a.Name != "mode" {
				return nil, fmt.Errorf("attribute %s needs opset 11", a.Name)
			}
		}
		r.legacy, r.coord, r.nearest = true, "asymmetric", legacyNearest
		if r.mode == "cubic" {
			return nil, fmt.Errorf("mode cubic needs opset 11")
		}
	}
	if opset < 18 {
		for _, name := range []string{"antialias", "axes", "keep_aspect_ratio_policy"} {
			if n.Attr(name) != nil {
				return nil, fmt.Errorf("attribute %s needs opset 18", name)
			}
		}
	}
	if attrInt(n, "antialias", 0) != 0 {
		return nil, fmt.Errorf("antialias=1 is not supported (only 0); export with antialias=False")
	}
	if p := attrString(n, "keep_aspect_ratio_policy", "stretch"); p != "stretch" {
		return nil, fmt.Errorf("keep_aspect_ratio_policy %q is not supported (only stretch); give sizes that keep the aspect ratio instead", p)
	}
	switch r.mode {
	case "nearest", "linear", "cubic":
	default:
		return nil, fmt.Errorf("mode %q is not supported (nearest, linear, cubic)", r.mode)
	}
	switch {
	case r.coord == "tf_half_pixel_for_nn" && opset >= 13:
		return nil, fmt.Errorf("coordinate_transformation_mode tf_half_pixel_for_nn was removed in opset 13")
	case r.coord == "half_pixel_symmetric" && opset < 19:
		return nil, fmt.Errorf("coordinate_transformation_mode half_pixel_symmetric needs opset 19")
	case r.coord == "tf_crop_and_resize":
		return nil, fmt.Errorf("coordinate_transformation_mode tf_crop_and_resize is not supported")
	}
	switch r.coord {
	case "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn":
	default:
		return nil, fmt.Errorf("coordinate_transformation_mode %q is not supported", r.coord)
	}
	switch {
	case r.nearest == "round_prefer_floor", r.nearest == "round_prefer_ceil", r.nearest == "floor", r.nearest == "ceil":
	case r.nearest == legacyNearest && r.legacy: // set above, not read from the model
	default:
		return nil, fmt.Errorf("nearest_mode %q is not supported (round_prefer_floor, round_prefer_ceil, floor, ceil)", r.nearest)
	}
	return r, nil
}

func buildUpsample(n *onnx.Node, opset int64) (Op, error) {
	if opset >= 10 {
		return nil, fmt.Errorf("Upsample is deprecated from opset 10; use Resize")
	}
	r := &resize{mode: attrString(n, "mode", "nearest"), coord: "asymmetric", nearest: legacyNearest, legacy: true, minScaleOne: true}
	if r.mode != "nearest" && r.mode != "linear" {
		return nil, fmt.Errorf("mode %q is not supported (nearest, linear)", r.mode)
	}
	a := n.Attr("scales")
	switch {
	case opset < 9 && a == nil:
		return nil, fmt.Errorf("the scales attribute is required before opset 9")
	case opset >= 9 && a != nil:
		return nil, fmt.Errorf("the scales attribute became an input in opset 9")
	case a != nil:
		r.scalesAttr = a.Floats
	}
	return r, nil
}

// plan is a resize resolved for one input shape: output extents and, per
// axis, the scale the coordinate transformation divides by.
type resizePlan struct {
	out   []int
	scale []float64
}

// resolve reads scales or sizes (consts as for Infer) for an input shape.
func (r *resize) resolve(in []Meta, consts []*tensor.Tensor) (resizePlan, error) {
	shape := in[0].Shape
	rank := len(shape)
	if rank == 0 {
		return resizePlan{}, fmt.Errorf("the input must have at least one dimension")
	}
	// given returns input i's value when it is wired and not empty (an
	// empty tensor stands for an absent one).
	given := func(i int, what string) (*tensor.Tensor, error) {
		if i >= len(in) || in[i].DType == tensor.Undefined || tensor.NumElements(in[i].Shape) == 0 {
			return nil, nil
		}
		return requireConst(consts, i, what)
	}
	scalesAt, sizesAt := 2, 3
	if r.legacy {
		scalesAt, sizesAt = 1, -1
	}
	var scales []float64
	if r.scalesAttr != nil {
		for _, s := range r.scalesAttr {
			scales = append(scales, float64(s))
		}
	} else {
		c, err := given(scalesAt, "scales")
		if err != nil {
			return resizePlan{}, err
		}
		if c != nil {
			if !c.DType.IsFloat() {
				return resizePlan{}, fmt.Errorf("scales must be float, got %v", c.DType)
			}
			for _, s := range c.F32 {
				scales = append(scales, float64(s))
			}
		}
	}
	var sizes []int
	if sizesAt > 0 {
		c, err := given(sizesAt, "sizes")
		if err != nil {
			return resizePlan{}, err
		}
		if c != nil {
			sizes = c.Ints()
		}
	}
	switch {
	case scales == nil && sizes == nil:
		return resizePlan{}, fmt.Errorf("one of scales and sizes is required")
	case scales != nil && sizes != nil:
		return resizePlan{}, fmt.Errorf("both scales and sizes are given; give one")
	}
	axes := make([]int, rank)
	for i := range axes {
		axes[i] = i
	}
	if r.axes != nil {
		seen := make([]bool, rank)
		axes = axes[:0]
		for _, a := range r.axes {
			a, err := normAxis(a, rank)
			if err != nil {
				return resizePlan{}, fmt.Errorf("axes %v: %w", r.axes, err)
			}
			if seen[a] {
				return resizePlan{}, fmt.Errorf("axes %v repeats axis %d", r.axes, a)
			}
			seen[a] = true
			axes = append(axes, a)
		}
	}
	p := resizePlan{out: append([]int(nil), shape...), scale: make([]float64, rank)}
	for i := range p.scale {
		p.scale[i] = 1
	}
	if n := max(len(scales), len(sizes)); n != len(axes) {
		return resizePlan{}, fmt.Errorf("%d scales or sizes for %d axes of input %s", n, len(axes), tensor.ShapeString(shape))
	}
	for i, a := range axes {
		d := shape[a]
		if sizes != nil {
			if sizes[i] < 0 {
				return resizePlan{}, fmt.Errorf("sizes %v has a negative value", sizes)
			}
			p.out[a] = sizes[i]
			if d > 0 {
				p.scale[a] = float64(sizes[i]) / float64(d)
			}
		} else {
			s := scales[i]
			if !(s > 0) || math.IsInf(s, 0) || (r.minScaleOne && s < 1) {
				want := "positive and finite"
				if r.minScaleOne {
					want = "at least 1"
				}
				return resizePlan{}, fmt.Errorf("scales %v: each must be %s", scales, want)
			}
			o := math.Floor(float64(d) * s)
			if o > tensor.MaxElements {
				return resizePlan{}, fmt.Errorf("axis %d of %d scaled by %g exceeds %d, the most elements a tensor may have", a, d, s, tensor.MaxElements)
			}
			p.out[a], p.scale[a] = int(o), s
		}
		if d == 0 && p.out[a] != 0 {
			return resizePlan{}, fmt.Errorf("axis %d is empty and cannot be resized to %d", a, p.out[a])
		}
	}
	return p, nil
}

func (r *resize) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	maxIn := 4
	if r.legacy {
		maxIn = 2
		if r.scalesAttr != nil {
			maxIn = 1
		}
	}
	if err := wantInputs(in, 1, maxIn); err != nil {
		return nil, err
	}
	if r.mode != "nearest" && !in[0].DType.IsFloat() {
		return nil, fmt.Errorf("mode %s needs a float input, got %v", r.mode, in[0].DType)
	}
	p, err := r.resolve(in, consts)
	if err != nil {
		return nil, err
	}
	return one(in[0].DType, p.out), nil
}

// tap is one input element's part in an output value along one axis:
// its offset (index × the axis's stride) and weight.
type tap struct {
	off int
	w   float32
}

// source maps output index x of an axis of input extent in and output
// extent out onto the input (coordinate_transformation_mode). Like the
// ONNX reference, the resized length the formulas divide by is in·scale,
// which differs from out when scales (not sizes) are given and in·scale
// is not a whole number.
func (r *resize) source(x, in, out int, scale float64) float64 {
	fx := float64(x)
	length := float64(in) * scale
	switch r.coord {
	case "half_pixel":
		return (fx+0.5)/scale - 0.5
	case "half_pixel_symmetric":
		adjust := float64(out) / length
		center := float64(in) / 2
		return center*(1-adjust) + (fx+0.5)/scale - 0.5
	case "pytorch_half_pixel":
		if length > 1 {
			return (fx+0.5)/scale - 0.5
		}
		return 0
	case "align_corners":
		if length == 1 {
			return 0
		}
		return fx * float64(in-1) / (length - 1)
	case "tf_half_pixel_for_nn":
		return (fx + 0.5) / scale
	default: // asymmetric
		return fx / scale
	}
}

// round picks the nearest input index to x (nearest_mode).
func (r *resize) round(x, scale float64) int {
	switch r.nearest {
	case "round_prefer_ceil":
		return int(math.Floor(x + 0.5))
	case "floor":
		return int(math.Floor(x))
	case "ceil":
		return int(math.Ceil(x))
	case legacyNearest:
		if scale < 1 {
			return int(math.Ceil(x))
		}
		return int(math.Floor(x))
	default: // round_prefer_floor
		return int(math.Ceil(x - 0.5))
	}
}

// taps returns, for every output index of an axis, the input elements it
// is computed from. Indices outside the input are clamped to its edge (as
// the ONNX reference pads with edge values), except that cubic with
// exclude_outside drops them and renormalizes. Zero weights are left out.
func (r *resize) taps(in, out, stride int, scale float64) [][]tap {
	taps := make([][]tap, out)
	edge := func(i int) int { return clamp(i, 0, in-1) * stride }
	for x := range taps {
		// A coordinate far outside the input (a tiny scale) is clamped
		// before it becomes an int.
		src := math.Max(-2, math.Min(r.source(x, in, out, scale), float64(in)+1))
		switch r.mode {
		case "nearest":
			taps[x] = []tap{{edge(r.round(src, scale)), 1}}
		case "linear":
			i := math.Floor(src)
			f := src - i
			taps[x] = appendTaps(nil, [][2]float64{{i, 1 - f}, {i + 1, f}}, in, stride, false)
		default: // cubic
			i := math.Floor(src)
			f := src - i
			a := r.cubicA
			w := [4]float64{
				((a*(f+1)-5*a)*(f+1)+8*a)*(f+1) - 4*a,
				((a+2)*f-(a+3))*f*f + 1,
				((a+2)*(1-f)-(a+3))*(1-f)*(1-f) + 1,
				((a*(2-f)-5*a)*(2-f)+8*a)*(2-f) - 4*a,
			}
			taps[x] = appendTaps(nil, [][2]float64{{i - 1, w[0]}, {i, w[1]}, {i + 1, w[2]}, {i + 2, w[3]}}, in, stride, r.excludeOutside)
		}
	}
	return taps
}

// appendTaps turns (index, weight) pairs into taps: indices clamped to
// [0, in), or, with exclude, those outside dropped and the weights
// renormalized to sum to 1.
func appendTaps(dst []tap, pairs [][2]float64, in, stride int, exclude bool) []tap {
	sum := 0.0
	for _, p := range pairs {
		if !exclude || (p[0] >= 0 && p[0] < float64(in)) {
			sum += p[1]
		}
	}
	for _, p := range pairs {
		i := int(p[0])
		if exclude {
			if i < 0 || i >= in {
				continue
			}
			p[1] /= sum
		}
		if p[1] == 0 {
			continue
		}
		dst = append(dst, tap{clamp(i, 0, in-1) * stride, float32(p[1])})
	}
	return dst
}

// Run computes the output row by row (innermost axis): the outer axes'
// taps combine into a list of (input row offset, weight), each output
// element of the row sums its inner taps over them.
func (r *resize) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	metas := make([]Meta, len(in))
	for i, t := range in {
		if t != nil {
			metas[i] = Meta{DType: t.DType, Shape: t.Shape}
		}
	}
	p, err := r.resolve(metas, in)
	if err != nil {
		return err
	}
	if y.Len() == 0 {
		return nil
	}
	rank := len(x.Shape)
	strides := tensor.Strides(x.Shape)
	taps := make([][][]tap, rank)
	for a := range taps {
		taps[a] = r.taps(x.Shape[a], p.out[a], strides[a], p.scale[a])
	}
	width := p.out[rank-1]
	inner := taps[rank-1]
	outer := p.out[:rank-1]
	rows := y.Len() / width
	parallel.For(rows, ctx.Workers, max(1, 4096/width), func(lo, hi int) {
		idx := make([]int, rank-1)
		var combos, next []tap
		for row := lo; row < hi; row++ {
			rem := row
			for d := rank - 2; d >= 0; d-- {
				idx[d] = rem % outer[d]
				rem /= outer[d]
			}
			combos = append(combos[:0], tap{0, 1})
			for d, i := range idx {
				next = next[:0]
				for _, c := range combos {
					for _, t := range taps[d][i] {
						next = append(next, tap{c.off + t.off, c.w * t.w})
					}
				}
				combos, next = next, combos
			}
			dst := row * width
			if r.mode == "nearest" { // one tap of weight 1 per axis: a gather
				base := combos[0].off
				for j, ts := range inner {
					copyElem(y, dst+j, x, base+ts[0].off)
				}
				continue
			}
			for j, ts := range inner {
				var sum float32
				for _, c := range combos {
					for _, t := range ts {
						sum += c.w * t.w * x.F32[c.off+t.off]
					}
				}
				y.F32[dst+j] = sum
			}
		}
	})
	return nil
}
