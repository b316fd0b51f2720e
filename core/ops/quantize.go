package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/float16"
)

// QuantizeLinear and DequantizeLinear, opsets 10 to 21, for 8-bit integer
// quantization:
//
//	QuantizeLinear:   y = saturate(round(x / y_scale) + y_zero_point)
//	DequantizeLinear: y = (x - x_zero_point) * x_scale
//
// round is round-half-to-even and saturate clamps to the range of the
// output type (int8 [-128,127], uint8 [0,255]). The quantized type is the
// zero point's: int8 or uint8; without a zero point it is uint8 (or
// QuantizeLinear-21's output_dtype). DequantizeLinear also reads int32
// (the usual type of quantized biases). Quantized values live in
// Tensor.I64 with DType Int8 or Uint8.
//
// Scales are per tensor (a scalar, or a 1-D tensor of one element, as ONNX
// Runtime accepts) or, from opset 13, per axis: a 1-D tensor with one
// scale per index of the `axis` dimension (default 1). Opset 19 lets the
// scale (and QuantizeLinear's input) be float16; DequantizeLinear's output
// then has the scale's type. The saturate attribute (opset 19) only
// concerns float8 outputs and is accepted and ignored. Refused, with an
// UnsupportedError when the node is built: blocked quantization
// (block_size != 0, opset 21), output_dtype other than int8 and uint8, and
// any attribute the model's opset does not define. Types the tensor
// package cannot hold (int4, int16, float8) are refused at load time.
//
// ±Inf saturate; a NaN input quantizes to the type's minimum (-128 or 0),
// as ONNX Runtime's CPU kernels do (the specification leaves it open).
func init() {
	register("QuantizeLinear", 10, buildQuantizeLinear(true), "axis", "saturate", "block_size", "output_dtype")
	register("DequantizeLinear", 10, buildQuantizeLinear(false), "axis", "block_size")
}

type quantLinear struct {
	quantize bool
	opset    int64
	axis     int
	// outDType is QuantizeLinear-21's output_dtype, Undefined if not set.
	outDType tensor.DType
}

func buildQuantizeLinear(quantize bool) builder {
	return func(n *onnx.Node, opset int64) (Op, error) {
		q := &quantLinear{quantize: quantize, opset: opset, axis: 1}
		since := map[string]int64{"axis": 13, "saturate": 19, "block_size": 21, "output_dtype": 21}
		for _, a := range n.Attrs {
			if v := since[a.Name]; opset < v {
				return nil, fmt.Errorf("attribute %s is defined from opset %d on; the model imports opset %d", a.Name, v, opset)
			}
		}
		if a := n.Attr("axis"); a != nil {
			q.axis = int(a.I)
		}
		if bs := attrInt(n, "block_size", 0); bs != 0 {
			return nil, fmt.Errorf("blocked quantization (block_size = %d) is not supported; only per-tensor and per-axis scales are", bs)
		}
		if a := n.Attr("output_dtype"); a != nil && a.I != 0 {
			dt := tensor.DType(a.I)
			if dt != tensor.Int8 && dt != tensor.Uint8 {
				return nil, fmt.Errorf("output_dtype %d (%v) is not supported; only int8 (3) and uint8 (2) are", a.I, dt)
			}
			q.outDType = dt
		}
		return q, nil
	}
}

func (q *quantLinear) name() string {
	if q.quantize {
		return "QuantizeLinear"
	}
	return "DequantizeLinear"
}

// quantRange returns the saturation bounds of a quantized type.
func quantRange(dt tensor.DType) (lo, hi int64) {
	switch dt {
	case tensor.Int8:
		return math.MinInt8, math.MaxInt8
	case tensor.Uint8:
		return 0, math.MaxUint8
	}
	return math.MinInt32, math.MaxInt32
}

// layout checks the scale and zero point against x and returns, for
// per-axis quantization, the axis (normalized); -1 means per tensor.
func (q *quantLinear) layout(x, scale Meta, zp *Meta) (int, error) {
	per := -1
	switch n := tensor.NumElements(scale.Shape); {
	case len(scale.Shape) == 0 || (len(scale.Shape) == 1 && n == 1):
	case len(scale.Shape) == 1:
		if q.opset < 13 {
			return 0, fmt.Errorf("scale has shape %s; per-axis quantization needs opset 13 (the model imports %d)",
				tensor.ShapeString(scale.Shape), q.opset)
		}
		axis, err := normAxis(q.axis, len(x.Shape))
		if err != nil {
			return 0, err
		}
		if x.Shape[axis] != n {
			return 0, fmt.Errorf("scale has %d values, but axis %d of the input %s has size %d",
				n, axis, tensor.ShapeString(x.Shape), x.Shape[axis])
		}
		per = axis
	default:
		return 0, fmt.Errorf("scale has shape %s: blocked quantization (a scale of rank %d) is not supported",
			tensor.ShapeString(scale.Shape), len(scale.Shape))
	}
	if zp != nil && !tensor.EqualShape(zp.Shape, scale.Shape) &&
		!(per < 0 && len(zp.Shape) <= 1 && tensor.NumElements(zp.Shape) == 1) {
		return 0, fmt.Errorf("zero point has shape %s, scale %s: they must match",
			tensor.ShapeString(zp.Shape), tensor.ShapeString(scale.Shape))
	}
	return per, nil
}

func (q *quantLinear) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	x, scale := in[0], in[1]
	var zp *Meta
	if len(in) > 2 && in[2].DType != tensor.Undefined {
		zp = &in[2]
	}
	switch {
	case scale.DType == tensor.Float32:
	case scale.DType == tensor.Float16 && q.opset >= 19:
	default:
		want := "float32"
		if q.opset >= 19 {
			want = "float32 or float16"
		}
		return nil, fmt.Errorf("scale is %v; %s is required", scale.DType, want)
	}
	if _, err := q.layout(x, scale, zp); err != nil {
		return nil, err
	}
	if q.quantize {
		switch {
		case x.DType == tensor.Float32, x.DType == tensor.Int32:
		case x.DType == tensor.Float16 && q.opset >= 19:
		default:
			return nil, fmt.Errorf("input is %v; float32 or int32 (float16 from opset 19) is required", x.DType)
		}
		if x.DType.IsFloat() && q.opset >= 19 && x.DType != scale.DType {
			return nil, fmt.Errorf("input is %v but scale is %v; they must have the same type", x.DType, scale.DType)
		}
		out := tensor.Uint8
		if q.outDType != tensor.Undefined {
			out = q.outDType
		}
		if zp != nil {
			if zp.DType != tensor.Int8 && zp.DType != tensor.Uint8 {
				return nil, fmt.Errorf("zero point is %v; only int8 and uint8 quantization is supported", zp.DType)
			}
			if q.outDType != tensor.Undefined && q.outDType != zp.DType {
				return nil, fmt.Errorf("output_dtype is %v but the zero point is %v", q.outDType, zp.DType)
			}
			out = zp.DType
		}
		return one(out, x.Shape), nil
	}
	switch x.DType {
	case tensor.Int8, tensor.Uint8, tensor.Int32:
	default:
		return nil, fmt.Errorf("input is %v; int8, uint8 or int32 is required", x.DType)
	}
	if zp != nil && zp.DType != x.DType {
		return nil, fmt.Errorf("zero point is %v but the input is %v; they must have the same type", zp.DType, x.DType)
	}
	out := tensor.Float32
	if q.opset >= 19 {
		out = scale.DType
	}
	return one(out, x.Shape), nil
}

func (q *quantLinear) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	x, scale, y := in[0], in[1], out[0]
	var zp *tensor.Tensor
	var zpMeta *Meta
	if len(in) > 2 && in[2] != nil {
		zp = in[2]
		zpMeta = &Meta{DType: zp.DType, Shape: zp.Shape}
	}
	per, err := q.layout(Meta{DType: x.DType, Shape: x.Shape}, Meta{DType: scale.DType, Shape: scale.Shape}, zpMeta)
	if err != nil {
		return err
	}
	n := y.Len()
	if n == 0 {
		return nil
	}
	// Element i uses scale (i/inner)%channels.
	channels, inner := 1, n
	if per >= 0 {
		channels = x.Shape[per]
		inner = tensor.NumElements(x.Shape[per+1:])
	}
	zeroPoint := func(c int) int64 {
		if zp == nil {
			return 0
		}
		if len(zp.I64) == 1 {
			return zp.I64[0]
		}
		return zp.I64[c]
	}
	lo, hi := quantRange(y.DType)
	roundF16 := y.DType == tensor.Float16
	parallel.For(n, ctx.Workers, minParallel, func(start, end int) {
		for i := start; i < end; {
			block := i / inner
			c := block % channels
			stop := min(end, (block+1)*inner)
			s, z := scale.F32[c], zeroPoint(c)
			switch {
			case q.quantize && x.F32 != nil:
				for ; i < stop; i++ {
					y.I64[i] = quantizeValue(x.F32[i], s, z, lo, hi)
				}
			case q.quantize:
				for ; i < stop; i++ {
					y.I64[i] = quantizeValue(float32(x.I64[i]), s, z, lo, hi)
				}
			default:
				for ; i < stop; i++ {
					v := float32(x.I64[i]-z) * s
					if roundF16 {
						v = float16.ToFloat32(float16.FromFloat32(v))
					}
					y.F32[i] = v
				}
			}
		}
	})
	return nil
}

// quantizeValue is saturate(round_half_even(x/scale) + zp) in [lo, hi],
// with x/scale computed in float32 as ONNX Runtime does. NaN maps to lo,
// as in ONNX Runtime (the specification leaves it open).
func quantizeValue(x, scale float32, zp, lo, hi int64) int64 {
	v := x / scale
	if v != v {
		return lo
	}
	r := math.RoundToEven(float64(v)) + float64(zp)
	switch {
	case r <= float64(lo):
		return lo
	case r >= float64(hi):
		return hi
	}
	return int64(r)
}

// QuantizeValue quantizes one value as QuantizeLinear does: round half to
// even of x/scale (in float32), plus the zero point, saturated to [lo, hi].
// A NaN quantizes to lo. Exporters use it to quantize weights
// exactly as the runtime would.
func QuantizeValue(x, scale float32, zeroPoint, lo, hi int64) int64 {
	return quantizeValue(x, scale, zeroPoint, lo, hi)
}
