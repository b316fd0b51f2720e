package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("LayerNormalization", 17, buildLayerNorm, "axis", "epsilon", "stash_type")
	register("InstanceNormalization", 6, func(n *onnx.Node, _ int64) (Op, error) {
		return &instanceNorm{epsilon: attrFloat(n, "epsilon", 1e-5)}, nil
	}, "epsilon")
}

// meanInvStd returns the mean of x and 1/√(variance+epsilon), the
// population variance taken about the mean in a second pass, both in
// float64 so that a large mean does not cancel the variance away. Each
// sum is four partial sums, value i's in sum i mod 4, added (0+1)+(2+3):
// the order sumsFast and squaresFast's vector lanes add in.
func meanInvStd(x []float32, epsilon float32) (mean, invStd float64) {
	var part [4]float64
	i := sumsFast(x, &part)
	for ; i < len(x); i++ {
		part[i%4] += float64(x[i])
	}
	mean = ((part[0] + part[1]) + (part[2] + part[3])) / float64(len(x))
	part = [4]float64{}
	i = squaresFast(x, mean, &part)
	for ; i < len(x); i++ {
		d := float64(x[i]) - mean
		part[i%4] += d * d
	}
	sq := (part[0] + part[1]) + (part[2] + part[3])
	return mean, 1 / math.Sqrt(sq/float64(len(x))+float64(epsilon))
}

// normalizeRow writes dst[i] = float32((float64(src[i])−mean)·invStd)·
// scale[i] + bias[i] (normalizeFast: the same, 4 at a time).
func normalizeRow(dst, src, scale, bias []float32, mean, invStd float64) {
	i := normalizeFast(dst, src, scale, bias, mean, invStd)
	for ; i < len(src); i++ {
		dst[i] = float32((float64(src[i])-mean)*invStd)*scale[i] + bias[i]
	}
}

// layerNorm is LayerNormalization: each run of the dimensions from axis on
// is normalized to zero mean and unit variance, then scaled and shifted by
// Scale and B (broadcast to those dimensions). The optional outputs Mean
// and InvStdDev have the input's shape with the normalized dimensions 1.
type layerNorm struct {
	axis    int
	epsilon float32
}

func buildLayerNorm(n *onnx.Node, _ int64) (Op, error) {
	// stash_type is the type the statistics are computed in; float32 (1)
	// is the default and the only one ONNX Runtime implements. Ours are
	// computed in float64 and reported as float32.
	if st := attrInt(n, "stash_type", 1); st != int64(tensor.Float32) {
		return nil, fmt.Errorf("stash_type %d not supported (only 1, float32)", st)
	}
	return &layerNorm{axis: int(attrInt(n, "axis", -1)), epsilon: attrFloat(n, "epsilon", 1e-5)}, nil
}

func (l *layerNorm) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	if err := wantFloat(in); err != nil {
		return nil, err
	}
	s := in[0].Shape
	ax, err := normAxis(l.axis, len(s))
	if err != nil {
		return nil, err
	}
	for i, what := range []string{1: "Scale", 2: "B"} {
		if i == 0 || i >= len(in) || in[i].DType == tensor.Undefined {
			continue
		}
		if b, err := broadcastShape(s[ax:], in[i].Shape); err != nil || !tensor.EqualShape(b, s[ax:]) {
			return nil, fmt.Errorf("%s of shape %s does not broadcast to the normalized shape %s",
				what, tensor.ShapeString(in[i].Shape), tensor.ShapeString(s[ax:]))
		}
	}
	stats := append([]int(nil), s...)
	for i := ax; i < len(stats); i++ {
		stats[i] = 1
	}
	return []Meta{{in[0].DType, s}, {tensor.Float32, stats}, {tensor.Float32, stats}}, nil
}

func (l *layerNorm) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	ax, _ := normAxis(l.axis, len(x.Shape))
	norm := x.Shape[ax:]
	n := tensor.NumElements(norm)
	if n == 0 {
		return nil
	}
	// Scale and B, broadcast to the normalized shape once.
	param := func(i int, fill float32) []float32 {
		p := tensor.New(tensor.Float32, norm...)
		if i < len(in) && in[i] != nil {
			broadcastCopy(p, in[i])
		} else {
			for j := range p.F32 {
				p.F32[j] = fill
			}
		}
		return p.F32
	}
	scale, bias := param(1, 1), param(2, 0)
	var mean, inv []float32
	if len(out) > 1 && out[1] != nil {
		mean = out[1].F32
	}
	if len(out) > 2 && out[2] != nil {
		inv = out[2].F32
	}
	rows := x.Len() / n
	parallel.For(rows, ctx.Workers, max(1, minParallel/n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			src, dst := x.F32[r*n:(r+1)*n], y.F32[r*n:(r+1)*n]
			m, s := meanInvStd(src, l.epsilon)
			normalizeRow(dst, src, scale, bias, m, s)
			if mean != nil {
				mean[r] = float32(m)
			}
			if inv != nil {
				inv[r] = float32(s)
			}
		}
	})
	return nil
}

// instanceNorm is InstanceNormalization: each channel of each image (a
// plane of the dimensions after C) is normalized, then scaled and shifted
// by the channel's scale and B.
type instanceNorm struct{ epsilon float32 }

func (o *instanceNorm) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	if err := wantFloat(in); err != nil {
		return nil, err
	}
	s := in[0].Shape
	if len(s) < 3 {
		return nil, fmt.Errorf("input rank %d, want at least 3 ([N,C,D1,...])", len(s))
	}
	for i, what := range []string{1: "scale", 2: "B"} {
		if i > 0 && !tensor.EqualShape(in[i].Shape, s[1:2]) {
			return nil, fmt.Errorf("%s has shape %s, want [%d] (one per channel)", what, tensor.ShapeString(in[i].Shape), s[1])
		}
	}
	return one(in[0].DType, s), nil
}

func (o *instanceNorm) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	scale, bias := in[1].F32, in[2].F32
	c := x.Shape[1]
	size := tensor.NumElements(x.Shape[2:])
	if size == 0 {
		return nil
	}
	planes := x.Len() / size
	parallel.For(planes, ctx.Workers, max(1, minParallel/size), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			src, dst := x.F32[p*size:(p+1)*size], y.F32[p*size:(p+1)*size]
			m, s := meanInvStd(src, o.epsilon)
			mul := s * float64(scale[p%c])
			for i, v := range src {
				dst[i] = float32((float64(v)-m)*mul + float64(bias[p%c]))
			}
		}
	})
	return nil
}
