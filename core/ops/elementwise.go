package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	for _, name := range []string{"Add", "Sub", "Mul", "Div"} {
		name := name
		register(name, 7, func(n *onnx.Node, opset int64) (Op, error) {
			return &binary{kind: name}, nil
		})
	}
	register("Relu", 6, func(n *onnx.Node, opset int64) (Op, error) {
		return &unary{act: Activation{Kind: ReluActivation}}, nil
	})
	register("Sigmoid", 6, func(n *onnx.Node, opset int64) (Op, error) { return &unary{sigmoid: true}, nil })
	register("Clip", 6, buildClip, "min", "max")
	register("Identity", 1, func(n *onnx.Node, opset int64) (Op, error) { return &identity{}, nil })
	register("Dropout", 7, buildDropout, "ratio", "seed", "is_test")
}

// minParallel is the element count below which a pointwise kernel stays on
// one goroutine: starting goroutines costs more than the work.
const minParallel = 1 << 14

// binary is Add, Sub, Mul and Div with multidirectional broadcasting.
type binary struct {
	kind string
	act  Activation
}

func (b *binary) FuseActivation(a Activation) bool {
	if b.act.Kind != NoActivation {
		return false
	}
	b.act = a
	return true
}

func (b *binary) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if in[0].DType != in[1].DType {
		return nil, fmt.Errorf("input types differ: %v and %v", in[0].DType, in[1].DType)
	}
	shape, err := broadcastShape(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	return one(in[0].DType, shape), nil
}

func (b *binary) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y, z := in[0], in[1], out[0]
	if z.Len() == 0 {
		return nil
	}
	if z.DType.IsFloat() {
		f := floatBinary(b.kind)
		addReluRows := b.kind == "Add" && b.act.Kind == ReluActivation
		broadcastRows(ctx.Workers, z.Shape, x.Shape, y.Shape, func(o, ao, bo, sa, sb, n int) {
			if addReluRows && sa == 1 && sb == 1 {
				addRelu(z.F32[o:o+n], x.F32[ao:], y.F32[bo:], sa, sb)
				return
			}
			f(z.F32[o:o+n], x.F32[ao:], y.F32[bo:], sa, sb)
			b.act.apply(z.F32[o : o+n])
		})
		return nil
	}
	p := planBroadcast(z.Shape, x.Shape, y.Shape)
	f, err := intBinary(b.kind)
	if err != nil {
		return err
	}
	sa, sb := p.strideA[len(p.strideA)-1], p.strideB[len(p.strideB)-1]
	var ferr error
	p.rows(0, p.numRows(), func(o, ao, bo int) {
		for i := 0; i < p.innerLen; i++ {
			v, err := f(x.I64[ao+i*sa], y.I64[bo+i*sb])
			if err != nil {
				ferr = err
			}
			z.I64[o+i] = v
		}
	})
	return ferr
}

// floatBinary returns a row kernel: dst[i] = a[i*sa] op b[i*sb], the
// strides 0 or 1. Each operator's loops are spelled out, the operation
// inside them, for the three cases broadcasting gives (both operands
// rows; a row and a scalar; a scalar and a row): through a function value
// every element was a call (GELU's Div and Muls, attention's scaling).
func floatBinary(kind string) func(dst, a, b []float32, sa, sb int) {
	switch kind {
	case "Add":
		return func(dst, a, b []float32, sa, sb int) {
			if sa == 0 { // addition commutes
				a, b, sa, sb = b, a, sb, sa
			}
			switch {
			case sb == 1:
				a, b = a[:len(dst)], b[:len(dst)]
				for i := range dst {
					dst[i] = a[i] + b[i]
				}
			case sa == 1:
				a, v := a[:len(dst)], b[0]
				for i := range dst {
					dst[i] = a[i] + v
				}
			default:
				dst[0] = a[0] + b[0]
				fillRow(dst)
			}
		}
	case "Mul":
		return func(dst, a, b []float32, sa, sb int) {
			if sa == 0 { // so does multiplication
				a, b, sa, sb = b, a, sb, sa
			}
			switch {
			case sb == 1:
				a, b = a[:len(dst)], b[:len(dst)]
				for i := range dst {
					dst[i] = a[i] * b[i]
				}
			case sa == 1:
				a, v := a[:len(dst)], b[0]
				for i := range dst {
					dst[i] = a[i] * v
				}
			default:
				dst[0] = a[0] * b[0]
				fillRow(dst)
			}
		}
	case "Sub":
		return func(dst, a, b []float32, sa, sb int) {
			switch {
			case sa == 1 && sb == 1:
				a, b = a[:len(dst)], b[:len(dst)]
				for i := range dst {
					dst[i] = a[i] - b[i]
				}
			case sa == 1:
				a, v := a[:len(dst)], b[0]
				for i := range dst {
					dst[i] = a[i] - v
				}
			case sb == 1:
				v, b := a[0], b[:len(dst)]
				for i := range dst {
					dst[i] = v - b[i]
				}
			default:
				dst[0] = a[0] - b[0]
				fillRow(dst)
			}
		}
	}
	return func(dst, a, b []float32, sa, sb int) { // Div
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] / b[i]
			}
		case sa == 1:
			// Not a multiplication by 1/v: that rounds twice.
			a, v := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] / v
			}
		case sb == 1:
			v, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = v / b[i]
			}
		default:
			dst[0] = a[0] / b[0]
			fillRow(dst)
		}
	}
}

// fillRow copies dst[0] over the rest of dst (two scalars broadcast).
func fillRow(dst []float32) {
	for i := 1; i < len(dst); i *= 2 {
		copy(dst[i:], dst[:i])
	}
}

// addRelu is Add with a fused Relu over same-shape operands (the residual
// connection of a ResNet block), in one pass.
func addRelu(dst, a, b []float32, _, _ int) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = max(a[i]+b[i], 0)
	}
}

func intBinary(kind string) (func(x, y int64) (int64, error), error) {
	switch kind {
	case "Add":
		return func(x, y int64) (int64, error) { return x + y, nil }, nil
	case "Sub":
		return func(x, y int64) (int64, error) { return x - y, nil }, nil
	case "Mul":
		return func(x, y int64) (int64, error) { return x * y, nil }, nil
	default:
		return func(x, y int64) (int64, error) {
			if y == 0 {
				return 0, fmt.Errorf("integer division by zero")
			}
			return x / y, nil
		}, nil
	}
}

// apply runs the activation in place.
func (a Activation) apply(x []float32) {
	switch a.Kind {
	case ReluActivation:
		// max(v, 0) compiles to a branch-free MAXSS; signs of activations
		// are random enough that a branch mispredicts half the time.
		for i, v := range x {
			x[i] = max(v, 0)
		}
	case ClipActivation:
		lo, hi := a.Min, a.Max
		for i, v := range x {
			if v < lo {
				x[i] = lo
			} else if v > hi {
				x[i] = hi
			}
		}
	}
}

// unary is Relu, Clip and Sigmoid.
type unary struct {
	act     Activation
	sigmoid bool
	// clipInputs is set for opset-11 Clip, whose bounds are inputs.
	clipInputs bool
}

func buildClip(n *onnx.Node, opset int64) (Op, error) {
	u := &unary{act: Activation{Kind: ClipActivation, Min: float32(math.Inf(-1)), Max: float32(math.Inf(1))}}
	if opset < 11 {
		u.act.Min = attrFloat(n, "min", u.act.Min)
		u.act.Max = attrFloat(n, "max", u.act.Max)
		return u, nil
	}
	if n.Attr("min") != nil || n.Attr("max") != nil {
		return nil, fmt.Errorf("attributes min/max were replaced by inputs in opset 11")
	}
	u.clipInputs = true
	return u, nil
}

// Activation reports the pointwise function this operator computes, for
// fusion into the producer of its input. ok is false for Sigmoid and for a
// Clip whose bounds are not constants.
func (u *unary) Activation() (Activation, bool) {
	if u.sigmoid || u.clipInputs {
		return Activation{}, false
	}
	return u.act, true
}

func (u *unary) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 3); err != nil {
		return nil, err
	}
	if !in[0].DType.IsFloat() {
		return nil, fmt.Errorf("input type %v not supported (want a float type)", in[0].DType)
	}
	if u.clipInputs {
		for i := 1; i < len(in); i++ {
			if in[i].DType == tensor.Undefined {
				continue
			}
			c, err := requireConst(consts, i, "clip bound")
			if err != nil {
				return nil, err
			}
			if i == 1 {
				u.act.Min = c.F32[0]
			} else {
				u.act.Max = c.F32[0]
			}
		}
		u.clipInputs = false
	}
	return one(in[0].DType, in[0].Shape), nil
}

func (u *unary) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, y := in[0].F32, out[0].F32
	parallel.For(len(x), ctx.Workers, minParallel, func(lo, hi int) {
		if u.sigmoid {
			for i := lo; i < hi; i++ {
				y[i] = float32(1 / (1 + math.Exp(-float64(x[i]))))
			}
			return
		}
		copy(y[lo:hi], x[lo:hi])
		u.act.apply(y[lo:hi])
	})
	return nil
}

// identity copies its input; Dropout in inference is identity too.
type identity struct{ dropoutMask bool }

func buildDropout(n *onnx.Node, opset int64) (Op, error) {
	if a := n.Attr("is_test"); a != nil && a.I == 0 {
		return nil, fmt.Errorf("training-mode dropout (is_test=0) is not supported")
	}
	return &identity{dropoutMask: true}, nil
}

func (o *identity) Infer(in []Meta, consts []*tensor.Tensor) ([]Meta, error) {
	if len(in) < 1 || in[0].DType == tensor.Undefined {
		return nil, fmt.Errorf("missing input")
	}
	if o.dropoutMask && len(in) > 2 && in[2].DType != tensor.Undefined {
		c, err := requireConst(consts, 2, "training_mode")
		if err != nil {
			return nil, err
		}
		if c.I64[0] != 0 {
			return nil, fmt.Errorf("training-mode dropout is not supported")
		}
	}
	outs := one(in[0].DType, in[0].Shape)
	if o.dropoutMask {
		outs = append(outs, Meta{DType: tensor.Bool, Shape: in[0].Shape})
	}
	return outs, nil
}

func (o *identity) Run(_ *Ctx, in, out []*tensor.Tensor) error {
	copy(out[0].F32, in[0].F32)
	copy(out[0].I64, in[0].I64)
	if len(out) > 1 && out[1] != nil {
		for i := range out[1].I64 {
			out[1].I64[i] = 1
		}
	}
	return nil
}
