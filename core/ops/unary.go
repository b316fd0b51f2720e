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
// or two of the exact value (Erf and Tanh through rational approximations
// accurate to that; ONNX Runtime's vectorized approximations are within a
// few ulps too).
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
	float("Tanh", 6, tanh)
	register("Erf", 9, func(*onnx.Node, int64) (Op, error) { return &pointwise{f: erf, vector: erfFast}, nil })
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
		// Branch-free: activations' signs are random, a branch on them
		// mispredicts half the time.
		return &pointwise{f: func(x float64) float64 { return max(x, 0) + alpha*min(x, 0) }}, nil
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

// erf is the error function to float32 precision (within 1.3e-7
// relative of math.Erf after rounding to float32): a branch-free rational
// approximation (Eigen's and XLA's float erf). math.Erf branches on the
// range of its argument, which on the random signs and magnitudes of
// activations mispredicts and makes it about three times slower.
func erf(x float64) float64 {
	x = max(-4, min(4, x)) // erf(±4) is ±1 in float32
	x2 := x * x
	p := -2.72614225801306e-10
	p = p*x2 + 2.77068142495902e-08
	p = p*x2 - 2.10102402082508e-06
	p = p*x2 - 5.69250639462346e-05
	p = p*x2 - 7.34990630326855e-04
	p = p*x2 - 2.95459980854025e-03
	p = p*x2 - 1.60960333262415e-02
	q := -1.45660718464996e-05
	q = q*x2 - 2.13374055278905e-04
	q = q*x2 - 1.68282697438203e-03
	q = q*x2 - 7.37332916720468e-03
	q = q*x2 - 1.42647390514189e-02
	// Near ±4 the quotient passes ±1 by 5e-8: bounded, 1+erf keeps its
	// sign (GELU of a negative input is never positive).
	return max(-1, min(1, x*p/q))
}

// tanh is the hyperbolic tangent to float32 precision (within 2.4e-7
// relative of math.Tanh after rounding to float32), a branch-free rational
// approximation (Eigen's float tanh) for the reason erf is one.
func tanh(x float64) float64 {
	x = max(-7.90531110763549805, min(7.90531110763549805, x))
	x2 := x * x
	p := -2.76076847742355e-16
	p = p*x2 + 2.00018790482477e-13
	p = p*x2 - 8.60467152213735e-11
	p = p*x2 + 5.12229709037114e-08
	p = p*x2 + 1.48572235717979e-05
	p = p*x2 + 6.37261928875436e-04
	p = p*x2 + 4.89352455891786e-03
	q := 1.19825839466702e-06
	q = q*x2 + 1.18534705686654e-04
	q = q*x2 + 2.26843463243900e-03
	q = q*x2 + 4.89352518554385e-03
	return x * p / q
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

// gelu is GELU as the Erf form defines it (geluFast: the same, 4 values
// at a time).
func gelu(x float64) float64 { return 0.5 * x * (1 + erf(x/math.Sqrt2)) }

func buildGelu(n *onnx.Node, _ int64) (Op, error) {
	switch a := attrString(n, "approximate", "none"); a {
	case "none":
		// In the negative tail 1+erf cancels to an absolute error of
		// about 0.5·|x|·1e-7, as in PyTorch's and ONNX Runtime's GELU
		// and in the Erf-based graph older exporters emit.
		return &pointwise{f: gelu, vector: geluFast}, nil
	case "tanh":
		c := math.Sqrt(2 / math.Pi)
		return &pointwise{f: func(x float64) float64 {
			return 0.5 * x * (1 + tanh(c*(x+0.044715*x*x*x)))
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
// set), test (float → bool), or i with bools (bool → bool). vector, when
// set, is f over float32 values in a vector kernel, bit for bit: it does
// the leading ones it can and returns how many.
type pointwise struct {
	f      func(float64) float64
	vector func(dst, src []float32) int
	i      func(int64) int64
	test   func(float32) bool
	bools  bool
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
			// Through a float64 buffer: converting float32 to float64
			// in a register merges into the register's previous value,
			// which the compiler makes the previous element's result,
			// chaining every element's latency to the next one's. f's
			// argument loaded from memory depends on nothing.
			if p.vector != nil {
				lo += p.vector(y.F32[lo:hi], x.F32[lo:hi])
			}
			var buf [256]float64
			for ; lo < hi; lo += len(buf) {
				b := buf[:min(len(buf), hi-lo)]
				for i, v := range x.F32[lo : lo+len(b)] {
					b[i] = float64(v)
				}
				for i, v := range b {
					b[i] = p.f(v)
				}
				for i, v := range b {
					y.F32[lo+i] = float32(v)
				}
			}
		default:
			for i, v := range x.I64[lo:hi] {
				y.I64[lo+i] = wrapInt(p.i(v), y.DType)
			}
		}
	})
	return nil
}
