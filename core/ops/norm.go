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
			maxv := float32(math.Inf(-1))
			for i := 0; i < n; i++ {
				if v := x[base+i*inner]; v > maxv {
					maxv = v
				}
			}
			var sum float64
			if s.log {
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
			for i := 0; i < n; i++ {
				e := math.Exp(float64(x[base+i*inner] - maxv))
				y[base+i*inner] = float32(e)
				sum += e
			}
			for i := 0; i < n; i++ {
				y[base+i*inner] = float32(float64(y[base+i*inner]) / sum)
			}
		}
	})
	return nil
}
