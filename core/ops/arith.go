package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// Arithmetic beyond Add/Sub/Mul/Div: Pow, Mod, PRelu and the variadic
// Max, Min, Sum and Mean, all with multidirectional broadcasting (PRelu's
// slope unidirectionally).
func init() {
	for _, kind := range []string{"Max", "Min", "Sum", "Mean"} {
		kind := kind
		register(kind, 8, func(*onnx.Node, int64) (Op, error) { return &variadic{kind: kind}, nil })
	}
	register("Pow", 7, func(*onnx.Node, int64) (Op, error) { return &pow{}, nil })
	register("Mod", 10, func(n *onnx.Node, _ int64) (Op, error) {
		return &mod{fmod: attrInt(n, "fmod", 0) != 0}, nil
	}, "fmod")
	register("PRelu", 7, func(*onnx.Node, int64) (Op, error) { return &prelu{}, nil })
}

// sameTypes checks that every present input has the type of the first.
func sameTypes(in []Meta) error {
	for i, m := range in {
		if m.DType != in[0].DType {
			return fmt.Errorf("input %d is %v but input 0 is %v; the types must match", i, m.DType, in[0].DType)
		}
	}
	return nil
}

// variadic is Max, Min, Sum or Mean of one or more inputs. The first input
// is broadcast into the output, then each further one is folded into it in
// order, in float32 as ONNX Runtime does (Mean divides the sum at the end).
type variadic struct{ kind string }

func (v *variadic) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("needs at least one input")
	}
	shapes := make([][]int, len(in))
	for i, m := range in {
		if m.DType == tensor.Undefined {
			return nil, fmt.Errorf("input %d is missing", i)
		}
		shapes[i] = m.Shape
	}
	if err := sameTypes(in); err != nil {
		return nil, err
	}
	dt := in[0].DType
	if (v.kind == "Sum" || v.kind == "Mean") && !dt.IsFloat() || dt == tensor.Bool {
		return nil, fmt.Errorf("input type %v not supported by %s", dt, v.kind)
	}
	shape, err := broadcastShape(shapes...)
	if err != nil {
		return nil, err
	}
	return one(dt, shape), nil
}

func (v *variadic) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	z := out[0]
	broadcastCopy(z, in[0])
	for _, b := range in[1:] {
		// z's own stride is 1 and its offset o: it is folded in place.
		broadcastRows(ctx.Workers, z.Shape, z.Shape, b.Shape, func(o, _, bo, _, sb, n int) {
			if z.DType.IsFloat() {
				foldRow(v.kind, z.F32[o:o+n], b.F32[bo:], sb)
			} else {
				foldRow(v.kind, z.I64[o:o+n], b.I64[bo:], sb)
			}
		})
	}
	if v.kind == "Mean" && len(in) > 1 {
		k := float32(len(in))
		for i := range z.F32 {
			z.F32[i] /= k
		}
	}
	return nil
}

// foldRow sets acc[i] = acc[i] op b[i*sb]. Max and Min propagate NaN.
func foldRow[T float32 | int64](kind string, acc, b []T, sb int) {
	switch kind {
	case "Max":
		for i := range acc {
			acc[i] = max(acc[i], b[i*sb])
		}
	case "Min":
		for i := range acc {
			acc[i] = min(acc[i], b[i*sb])
		}
	default: // Sum, Mean
		for i := range acc {
			acc[i] += b[i*sb]
		}
	}
}

// pow is Pow: the base's type is the output's; the exponent may be of any
// numeric type (opset 12 on; before, both are the same float type).
type pow struct{}

func (*pow) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	for i, m := range in {
		if m.DType == tensor.Bool {
			return nil, fmt.Errorf("input %d is bool; want a numeric type", i)
		}
	}
	shape, err := broadcastShape(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	return one(in[0].DType, shape), nil
}

func (*pow) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y, z := in[0], in[1], out[0]
	exp := func(j int) float64 {
		if y.DType.IsFloat() {
			return float64(y.F32[j])
		}
		return float64(y.I64[j])
	}
	if z.DType.IsFloat() {
		broadcastRows(ctx.Workers, z.Shape, x.Shape, y.Shape, func(o, ao, bo, sa, sb, n int) {
			for i := 0; i < n; i++ {
				z.F32[o+i] = float32(powFloat(float64(x.F32[ao+i*sa]), exp(bo+i*sb)))
			}
		})
		return nil
	}
	if y.DType.IsFloat() {
		broadcastRows(ctx.Workers, z.Shape, x.Shape, y.Shape, func(o, ao, bo, sa, sb, n int) {
			for i := 0; i < n; i++ {
				v := math.Pow(float64(x.I64[ao+i*sa]), float64(y.F32[bo+i*sb]))
				z.I64[o+i] = wrapInt(floatToInt64(v), z.DType)
			}
		})
		return nil
	}
	var zeroNeg bool
	broadcastRows(1, z.Shape, x.Shape, y.Shape, func(o, ao, bo, sa, sb, n int) {
		for i := 0; i < n; i++ {
			v, ok := powInt(x.I64[ao+i*sa], y.I64[bo+i*sb])
			zeroNeg = zeroNeg || !ok
			z.I64[o+i] = wrapInt(v, z.DType)
		}
	})
	if zeroNeg {
		return fmt.Errorf("integer 0 raised to a negative power (a division by zero)")
	}
	return nil
}

// powFloat is math.Pow with the exponents exported models use most (x²
// in decomposed LayerNorm and variance, x³ in tanh-GELU, √x) spelled out.
func powFloat(x, y float64) float64 {
	switch y {
	case 2:
		return x * x
	case 3:
		return x * x * x
	case 0.5:
		if x >= 0 || x != x {
			return math.Sqrt(x)
		}
	case 1:
		return x
	}
	return math.Pow(x, y)
}

// powInt is x**y in wrapping int64 arithmetic (exact modulo 2^64, hence
// exact after wrapping to a narrower type). A negative exponent truncates
// 1/x**|y| toward zero; ok is false for 0 to a negative power.
func powInt(x, y int64) (v int64, ok bool) {
	if y < 0 {
		switch x {
		case 0:
			return 0, false
		case 1:
			return 1, true
		case -1:
			if y%2 == 0 {
				return 1, true
			}
			return -1, true
		}
		return 0, true
	}
	v = 1
	for ; y > 0; y >>= 1 {
		if y&1 == 1 {
			v *= x
		}
		x *= x
	}
	return v, true
}

// mod is Mod: with fmod=0 (integers only) the result takes the divisor's
// sign, as Python's %; with fmod=1 the dividend's, as C's fmod.
type mod struct{ fmod bool }

func (m *mod) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if err := sameTypes(in); err != nil {
		return nil, err
	}
	switch dt := in[0].DType; {
	case dt == tensor.Bool:
		return nil, fmt.Errorf("input type bool not supported; want a numeric type")
	case dt.IsFloat() && !m.fmod:
		return nil, fmt.Errorf("float inputs need attribute fmod=1 (the ONNX spec defines fmod=0 for integers only)")
	}
	shape, err := broadcastShape(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	return one(in[0].DType, shape), nil
}

func (m *mod) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y, z := in[0], in[1], out[0]
	if z.DType.IsFloat() {
		broadcastRows(ctx.Workers, z.Shape, x.Shape, y.Shape, func(o, ao, bo, sa, sb, n int) {
			for i := 0; i < n; i++ {
				z.F32[o+i] = float32(math.Mod(float64(x.F32[ao+i*sa]), float64(y.F32[bo+i*sb])))
			}
		})
		return nil
	}
	var divZero bool
	broadcastRows(1, z.Shape, x.Shape, y.Shape, func(o, ao, bo, sa, sb, n int) {
		for i := 0; i < n; i++ {
			a, b := x.I64[ao+i*sa], y.I64[bo+i*sb]
			if b == 0 {
				divZero = true
				continue
			}
			r := a % b
			if !m.fmod && r != 0 && (r < 0) != (b < 0) {
				r += b
			}
			z.I64[o+i] = r
		}
	})
	if divZero {
		return fmt.Errorf("integer modulo by zero")
	}
	return nil
}

// prelu is PRelu: y = x for x ≥ 0, slope·x otherwise, the slope
// unidirectionally broadcast to x's shape (a per-channel slope is
// [C,1,1]).
type prelu struct{}

func (*prelu) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if err := wantFloat(in); err != nil {
		return nil, err
	}
	if err := sameTypes(in); err != nil {
		return nil, err
	}
	shape, err := broadcastShape(in[0].Shape, in[1].Shape)
	if err != nil || !tensor.EqualShape(shape, in[0].Shape) {
		return nil, fmt.Errorf("slope of shape %s does not broadcast to the input's shape %s",
			tensor.ShapeString(in[1].Shape), tensor.ShapeString(in[0].Shape))
	}
	return one(in[0].DType, shape), nil
}

func (*prelu) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, s, z := in[0], in[1], out[0]
	broadcastRows(ctx.Workers, z.Shape, x.Shape, s.Shape, func(o, ao, bo, sa, sb, n int) {
		for i := 0; i < n; i++ {
			v := x.F32[ao+i*sa]
			if v < 0 {
				v *= s.F32[bo+i*sb]
			}
			z.F32[o+i] = v
		}
	})
	return nil
}
