package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// Comparisons and logical operators (bool outputs, stored as 0/1 in I64)
// and Where, all with multidirectional broadcasting.
func init() {
	for _, c := range []struct {
		name     string
		minOpset int64
	}{
		{"Equal", 7}, {"Less", 7}, {"Greater", 7}, {"LessOrEqual", 12}, {"GreaterOrEqual", 12},
		{"And", 7}, {"Or", 7}, {"Xor", 7},
	} {
		name := c.name
		register(name, c.minOpset, func(*onnx.Node, int64) (Op, error) { return &compare{kind: name}, nil })
	}
	register("Where", 9, func(*onnx.Node, int64) (Op, error) { return &where{}, nil })
}

// compare is a comparison (numeric inputs; Equal also bool) or a logical
// operator (bool inputs). NaN compares unequal and unordered to everything,
// as in IEEE 754.
type compare struct{ kind string }

func (c *compare) logical() bool { return c.kind == "And" || c.kind == "Or" || c.kind == "Xor" }

func (c *compare) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if err := sameTypes(in); err != nil {
		return nil, err
	}
	switch dt := in[0].DType; {
	case c.logical() && dt != tensor.Bool:
		return nil, fmt.Errorf("input type %v not supported; want bool", dt)
	case !c.logical() && c.kind != "Equal" && dt == tensor.Bool:
		return nil, fmt.Errorf("input type bool not supported; want a numeric type")
	}
	shape, err := broadcastShape(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	return one(tensor.Bool, shape), nil
}

func (c *compare) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y, z := in[0], in[1], out[0]
	broadcastRows(ctx.Workers, z.Shape, x.Shape, y.Shape, func(o, ao, bo, sa, sb, n int) {
		if x.DType.IsFloat() {
			compareRow(c.kind, z.I64[o:o+n], x.F32[ao:], y.F32[bo:], sa, sb)
		} else {
			compareRow(c.kind, z.I64[o:o+n], x.I64[ao:], y.I64[bo:], sa, sb)
		}
	})
	return nil
}

// compareRow sets dst[i] = a[i*sa] kind b[i*sb] as 0 or 1. Bools are 0 or
// 1, so the logical operators are comparisons of them.
func compareRow[T float32 | int64](kind string, dst []int64, a, b []T, sa, sb int) {
	var f func(x, y T) bool
	switch kind {
	case "Equal":
		f = func(x, y T) bool { return x == y }
	case "Less":
		f = func(x, y T) bool { return x < y }
	case "Greater":
		f = func(x, y T) bool { return x > y }
	case "LessOrEqual":
		f = func(x, y T) bool { return x <= y }
	case "GreaterOrEqual":
		f = func(x, y T) bool { return x >= y }
	case "And":
		f = func(x, y T) bool { return x != 0 && y != 0 }
	case "Or":
		f = func(x, y T) bool { return x != 0 || y != 0 }
	default: // Xor
		f = func(x, y T) bool { return (x != 0) != (y != 0) }
	}
	for i := range dst {
		dst[i] = boolInt(f(a[i*sa], b[i*sb]))
	}
}

// where is Where(condition, X, Y): X where condition is true, Y elsewhere,
// the three broadcast together. X is broadcast into the output first, then
// Y overwrites it where condition (broadcast alongside Y) is false.
type where struct{}

func (*where) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	if in[0].DType != tensor.Bool {
		return nil, fmt.Errorf("condition (input 0) is %v; want bool", in[0].DType)
	}
	if in[1].DType != in[2].DType {
		return nil, fmt.Errorf("X is %v but Y is %v; the types must match", in[1].DType, in[2].DType)
	}
	shape, err := broadcastShape(in[0].Shape, in[1].Shape, in[2].Shape)
	if err != nil {
		return nil, err
	}
	return one(in[1].DType, shape), nil
}

func (*where) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	cond, y, z := in[0], in[2], out[0]
	broadcastCopy(z, in[1])
	broadcastRows(ctx.Workers, z.Shape, cond.Shape, y.Shape, func(o, co, yo, sc, sy, n int) {
		for i := 0; i < n; i++ {
			if cond.I64[co+i*sc] != 0 {
				continue
			}
			if z.DType.IsFloat() {
				z.F32[o+i] = y.F32[yo+i*sy]
			} else {
				z.I64[o+i] = y.I64[yo+i*sy]
			}
		}
	})
	return nil
}
