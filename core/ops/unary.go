package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// The pointwise math functions and activations. Float kernels compute in
// float64 and round once to float32, so that each result is within an ulp
// or so of the exact value (ONNX Runtime's vectorized approximations are
// within a few ulps of it too).
func init() {
	float := func(name string, minOpset int64, f func(float64) float64) {
		register(name, minOpset, func(*onnx.Node, int64) (Op, error) { return &pointwise{f: f}, nil })
	}
	float("Exp", 6, math.Exp)
	float("Log", 6, math.Log)
	float("Sqrt", 6, math.Sqrt)
	float("Reciprocal", 6, func(x float64) float64 { return 1 / x })
	float("Floor", 6, math.Floor)
	float("Ceil", 6, math.Ceil)
	// Round halves to even, as ONNX's Round does.
	float("Round", 11, math.RoundToEven)
	float("Tanh", 6, math.Tanh)
	float("Erf", 9, math.Erf)
	float("Sin", 7, math.Sin)
	float("Cos", 7, math.Cos)
	float("Softplus", 1, softplus)
	float("Softsign", 1, func(x float64) float64 { return x / (1 + math.Abs(x)) })
	float("Mish", 18, func(x float64) float64 { return x * math.Tanh(softplus(x)) })
	float("HardSwish", 14, func(x float64) float64 { return x * hardSigmoid(x, 1.0/6, 0.5) })

	// Abs, Neg and Sign are defined on integers too; results wrap to the
	// element type (Abs of int8 -128 is -128, as in two's complement).
	integer := func(name string, minOpset int64, f func(float64) float64, i func(int64) int64) {
		register(name, minOpset, func(*onnx.Node, int64) (Op, error) { return &pointwise{f: f, i: i}, nil })
	}
	integer("Abs", 6, math.Abs, func(x int64) int64 { return max(x, -x) })
	integer("Neg", 6, func(x float64) float64 { return -x }, func(x int64) int64 { return -x })
	integer("Sign", 9, sign, func(x int64) int64 { return int64(sign(float64(x))) })

	register("Not", 1, func(*onnx.Node, int64) (Op, error) {
		return &pointwise{bools: true, i: func(x int64) int64 { return 1 - x }}, nil
	})
	register("IsNaN", 9, func(*onnx.Node, int64) (Op, error) {
		return &pointwise{test: func(x float32) bool { return x != x }}, nil
	})
	register("IsInf", 10, buildIsInf, "detect_negative", "detect_positive")

	register("HardSigmoid", 6, func(n *onnx.Node, _ int64) (Op, error) {
		alpha, beta := float64(attrFloat(n, "alpha", 0.2)), float64(attrFloat(n, "beta", 0.5))
		return &pointwise{f: func(x float64) float64 { return hardSigmoid(x, alpha, beta) }}, nil
	}, "alpha", "beta")
	register("LeakyRelu", 6, func(n *onnx.Node, _ int64) (Op, error) {
		alpha := float64(attrFloat(n, "alpha", 0.01))
		return &pointwise{f: func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		}}, nil
	}, "alpha")
	register("Elu", 6, func(n *onnx.Node, _ int64) (Op, error) {
		alpha := float64(attrFloat(n, "alpha", 1))
		return &pointwise{f: func(x float64) float64 {
			if x < 0 {
				return alpha * math.Expm1(x)
			}
			return x
		}}, nil
	}, "alpha")
	register("Selu", 6, func(n *onnx.Node, _ int64) (Op, error) {
		alpha := float64(attrFloat(n, "alpha", 1.67326319217681884765625))
		gamma := float64(attrFloat(n, "gamma", 1.05070102214813232421875))
		return &pointwise{f: func(x float64) float64 {
			if x <= 0 {
				return gamma * alpha * math.Expm1(x)
			}
			return gamma * x
		}}, nil
	}, "alpha", "gamma")
	register("Celu", 12, func(n *onnx.Node, _ int64) (Op, error) {
		alpha := float64(attrFloat(n, "alpha", 1))
		if alpha == 0 {
			return nil, fmt.Errorf("attribute alpha must not be 0 (Celu divides by it)")
		}
		return &pointwise{f: func(x float64) float64 {
			return max(0, x) + min(0, alpha*math.Expm1(x/alpha))
		}}, nil
	}, "alpha")
	register("ThresholdedRelu", 10, func(n *onnx.Node, _ int64) (Op, error) {
		alpha := float64(attrFloat(n, "alpha", 1))
		return &pointwise{f: func(x float64) float64 {
			if x > alpha {
				return x
			}
			return 0
		}}, nil
	}, "alpha")
	register("Gelu", 20, buildGelu, "approximate")
}

func softplus(x float64) float64 {
	// log(1+e^x) without overflow for large x or cancellation for small.
	return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

func hardSigmoid(x, alpha, beta float64) float64 { return max(0, min(1, alpha*x+beta)) }

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // 0 stays 0 and NaN stays NaN
}

func buildGelu(n *onnx.Node, _ int64) (Op, error) {
	switch a := attrString(n, "approximate", "none"); a {
	case "none":
		return &pointwise{f: func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }}, nil
	case "tanh":
		c := math.Sqrt(2 / math.Pi)
		return &pointwise{f: func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(c*(x+0.044715*x*x*x)))
		}}, nil
	default:
		return nil, fmt.Errorf("attribute approximate is %q; want \"none\" or \"tanh\"", a)
	}
}

func buildIsInf(n *onnx.Node, _ int64) (Op, error) {
	neg, pos := attrInt(n, "detect_negative", 1) != 0, attrInt(n, "detect_positive", 1) != 0
	return &pointwise{test: func(x float32) bool {
		return (neg && math.IsInf(float64(x), -1)) || (pos && math.IsInf(float64(x), 1))
	}}, nil
}

// pointwise applies a function to every element. Exactly one of these
// describes the operator: f (float → float, and i for integer inputs when
// set), test (float → bool), or i with bools (bool → bool).
type pointwise struct {
	f     func(float64) float64
	i     func(int64) int64
	test  func(float32) bool
	bools bool
}

func (p *pointwise) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	dt := in[0].DType
	switch {
	case p.bools:
		if dt != tensor.Bool {
			return nil, fmt.Errorf("input is %v; want bool", dt)
		}
	case p.test != nil:
		if !dt.IsFloat() {
			return nil, fmt.Errorf("input is %v; want a float type", dt)
		}
		dt = tensor.Bool
	case dt.IsFloat():
	case p.i == nil || dt == tensor.Bool:
		want := "a float type"
		if p.i != nil {
			want = "a float or integer type"
		}
		return nil, fmt.Errorf("input is %v; want %s", dt, want)
	}
	return one(dt, in[0].Shape), nil
}

func (p *pointwise) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0], out[0]
	parallel.For(x.Len(), ctx.Workers, minParallel, func(lo, hi int) {
		switch {
		case p.test != nil:
			for i, v := range x.F32[lo:hi] {
				y.I64[lo+i] = boolInt(p.test(v))
			}
		case x.DType.IsFloat():
			for i, v := range x.F32[lo:hi] {
				y.F32[lo+i] = float32(p.f(float64(v)))
			}
		default:
			for i, v := range x.I64[lo:hi] {
				y.I64[lo+i] = wrapInt(p.i(v), y.DType)
			}
		}
	})
	return nil
}
