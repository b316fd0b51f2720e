package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	register("BatchNormalization", 7, buildBatchNorm, "epsilon", "momentum", "spatial", "training_mode")
	register("Softmax", 1, buildSoftmax(false), "axis")
	register("LogSoftmax", 1, buildSoftmax(true), "axis")
}

// batchNorm is inference-mode BatchNormalization:
// y = (x - mean) / sqrt(var + epsilon) · scale + B, per channel (axis 1).
type batchNorm struct {
	epsilon float32
}

func buildBatchNorm(n *onnx.Node, opset int64) (Op, error) {
	if a := n.Attr("spatial"); a != nil && a.I == 0 {
		return nil, fmt.Errorf("spatial=0 (per-activation statistics) not supported")
	}
	if attrInt(n, "training_mode", 0) != 0 {
		return nil, fmt.Errorf("training_mode=1 not supported (inference only)")
	}
	return &batchNorm{epsilon: attrFloat(n, "epsilon", 1e-5)}, nil
}

func (b *batchNorm) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 5, 5); err != nil {
		return nil, err
	}
	if err := wantFloat(in); err != nil {
		return nil, err
	}
	if len(in[0].Shape) < 2 {
		return nil, fmt.Errorf("input rank %d, want at least 2", len(in[0].Shape))
	}
	c := in[0].Shape[1]
	for i := 1; i < 5; i++ {
		if tensor.NumElements(in[i].Shape) != c {
			return nil, fmt.Errorf("input %d has shape %s, want [%d]", i, tensor.ShapeString(in[i].Shape), c)
		}
	}
	return one(in[0].DType, in[0].Shape), nil
}

func (b *batchNorm) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	scale, bias, mean, variance := in[1].F32, in[2].F32, in[3].F32, in[4].F32
	c := x.Shape[1]
	size := tensor.NumElements(x.Shape[2:])
	// Per-channel multiplier and offset, computed in float64 once.
	mul, add := make([]float32, c), make([]float32, c)
	for i := 0; i < c; i++ {
		inv := 1 / math.Sqrt(float64(variance[i])+float64(b.epsilon))
		mul[i] = float32(float64(scale[i]) * inv)
		add[i] = float32(float64(bias[i]) - float64(mean[i])*float64(scale[i])*inv)
	}
	planes := x.Shape[0] * c
	parallel.For(planes, ctx.Workers, max(1, minParallel/max(1, size)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ch := p % c
			src, dst := x.F32[p*size:(p+1)*size], y.F32[p*size:(p+1)*size]
			for i, v := range src {
				dst[i] = v*mul[ch] + add[ch]
			}
		}
	})
	return nil
}

// softmax normalizes exponentials (LogSoftmax: their logarithms). Before
// opset 13 the input is viewed as a 2-D matrix split at axis (default 1)
// and each row is normalized; from opset 13 on only the single axis
// (default -1) is.
type softmax struct {
	axis     int
	coerce2D bool
	log      bool
}

func buildSoftmax(log bool) builder {
	return func(n *onnx.Node, opset int64) (Op, error) {
		s := &softmax{coerce2D: opset < 13, axis: -1, log: log}
		if opset < 13 {
			s.axis = 1
		}
		if a := n.Attr("axis"); a != nil {
			s.axis = int(a.I)
		}
		return s, nil
	}
}

func (s *softmax) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := wantFloat(in); err != nil {
		return nil, err
	}
	if _, err := normAxis(s.axis, len(in[0].Shape)); err != nil {
		return nil, err
	}
	return one(in[0].DType, in[0].Shape), nil
}

// softmaxExp is e^x for softmax's x = v − max ≤ 0 (NaN when the row holds
// NaN or infinities), computed in float64 the way expRowFast computes it 4
// at a time, bit for bit: x clamped to ≥ −104 (e^−104 is below float32's
// smallest value, and next to the row maximum's term, 1, nothing in a
// float64 sum), x = n·ln 2 + r with n = round(x·log₂e) and |r| ≤ ln 2 / 2
// (ln 2 in two parts, fdlibm's, so that n·ln2Hi is exact), e^r by its
// Taylor series to r¹¹ (truncation below 7e-15 relative), times 2ⁿ
// made from its exponent bits (n ≥ −150: a normal float64).
func softmaxExp(x float64) float64 {
	const (
		log2e = 1.44269504088896338700e+00
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
	)
	x = max(-104, x)
	n := math.RoundToEven(x * log2e)
	r := x - n*ln2Hi - n*ln2Lo
	p := 1.0 / 39916800 // 1/11!
	p = p*r + 1.0/3628800
	p = p*r + 1.0/362880
	p = p*r + 1.0/40320
	p = p*r + 1.0/5040
	p = p*r + 1.0/720
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}

// expRow writes the n exponentials of a softmax row, y[i·stride] =
// float32(softmaxExp(float64(x[i·stride] − maxv))), and returns their
// sum: four partial sums, element i's in sum i mod 4, added (0+1)+(2+3),
// the order expRowFast's vector lanes add in (contiguous rows go there).
func expRow(y, x []float32, n, stride int, maxv float32) float64 {
	var part [4]float64
	i := 0
	if stride == 1 {
		i = expRowFast(y[:n], x[:n], maxv, &part)
	}
	for ; i < n; i++ {
		e := softmaxExp(float64(x[i*stride] - maxv))
		y[i*stride] = float32(e)
		part[i%4] += e
	}
	return (part[0] + part[1]) + (part[2] + part[3])
}

func (s *softmax) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	shape := in[0].Shape
	axis, _ := normAxis(s.axis, len(shape))
	outer := tensor.NumElements(shape[:axis])
	n, inner := shape[axis], tensor.NumElements(shape[axis+1:])
	if s.coerce2D {
		n, inner = tensor.NumElements(shape[axis:]), 1
	}
	x, y := in[0].F32, out[0].F32
	parallel.For(outer*inner, ctx.Workers, 256, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			base := (r/inner)*n*inner + r%inner
			maxv, i := float32(math.Inf(-1)), 0
			if inner == 1 {
				maxv, i = maxRowFast(x[base : base+n])
			}
			for ; i < n; i++ {
				if v := x[base+i*inner]; v > maxv {
					maxv = v
				}
			}
			if s.log {
				var sum float64
				// x - max - log Σ e^(x-max): no exponential is divided.
				for i := 0; i < n; i++ {
					sum += math.Exp(float64(x[base+i*inner] - maxv))
				}
				shift := float64(maxv) + math.Log(sum)
				for i := 0; i < n; i++ {
					y[base+i*inner] = float32(float64(x[base+i*inner]) - shift)
				}
				continue
			}
			sum := expRow(y[base:], x[base:], n, inner, maxv)
			i = 0
			if inner == 1 {
				i = divRowFast(y[base:base+n], sum)
			}
			for ; i < n; i++ {
				y[base+i*inner] = float32(float64(y[base+i*inner]) / sum)
			}
		}
	})
	return nil
}
