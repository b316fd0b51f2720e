package ops

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/float16"
)

func q8(dt tensor.DType, shape []int, v ...int64) *tensor.Tensor {
	return &tensor.Tensor{DType: dt, Shape: append([]int{}, shape...), I64: append([]int64(nil), v...)}
}

func checkQ(t *testing.T, got *tensor.Tensor, dt tensor.DType, shape []int, want ...int64) {
	t.Helper()
	checkShape(t, got, dt, shape)
	for i := range want {
		if got.I64[i] != want[i] {
			t.Fatalf("got %v, want %v", got.I64, want)
		}
	}
}

// The examples of the ONNX operator documentation (QuantizeLinear and
// DequantizeLinear, "default" and "axis").
func TestQuantizeLinearSpecExamples(t *testing.T) {
	for _, opset := range []int64{10, 13, 19, 21} {
		got := rtOne(t, opset, "QuantizeLinear", []*tensor.Tensor{
			f32(sh(6), 0, 2, 3, 1000, -254, -1000), f32(sh(), 2), q8(tensor.Uint8, sh(), 128)})
		checkQ(t, got, tensor.Uint8, sh(6), 128, 129, 130, 255, 1, 0)

		got = rtOne(t, opset, "DequantizeLinear", []*tensor.Tensor{
			q8(tensor.Uint8, sh(4), 0, 3, 128, 255), f32(sh(), 2), q8(tensor.Uint8, sh(), 128)})
		checkF(t, got, sh(4), -256, -250, 0, 254)
	}

	x := f32(sh(1, 3, 3, 2),
		-162, 10, -100, 232, -20, -50,
		-76, 0, 0, 252, 32, -44,
		245, -485, -960, -270, -375, -470)
	scale := f32(sh(3), 2, 4, 5)
	zp := q8(tensor.Uint8, sh(3), 84, 24, 196)
	q := []int64{3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102}
	for _, opset := range []int64{13, 19, 21} {
		got := rtOne(t, opset, "QuantizeLinear", []*tensor.Tensor{x, scale, zp}) // axis defaults to 1
		checkQ(t, got, tensor.Uint8, sh(1, 3, 3, 2), q...)
		got = rtOne(t, opset, "DequantizeLinear", []*tensor.Tensor{got, scale, zp}, aInt("axis", 1))
		checkF(t, got, sh(1, 3, 3, 2), x.F32...)
	}
}

// Hand-computed: rounding half to even, int8 saturation, default uint8.
func TestQuantizeLinearRounding(t *testing.T) {
	x := f32(sh(12), 0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, 127.5, 128, -128.5, -129)
	got := rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{x, f32(sh(), 1), q8(tensor.Int8, sh(), 0)})
	checkQ(t, got, tensor.Int8, sh(12), 0, 0, 2, 2, 0, -2, -2, 3, 127, 127, -128, -128)

	// With a zero point the rounding happens before it is added: 0.5 -> 0
	// (not 1 + ... ), then +3.
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{f32(sh(3), 0.5, 1.5, -200), f32(sh(), 1), q8(tensor.Int8, sh(), 3)})
	checkQ(t, got, tensor.Int8, sh(3), 3, 5, -128)

	// No zero point: uint8, zero point 0, negatives saturate to 0.
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{f32(sh(4), -1, 0.3, 254.5, 300), f32(sh(), 0.5)})
	checkQ(t, got, tensor.Uint8, sh(4), 0, 1, 255, 255)

	// Special values: NaN gives the type's minimum (as ONNX Runtime does),
	// infinities saturate.
	inf := float32(math.Inf(1))
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{
		f32(sh(3), float32(math.NaN()), inf, -inf), f32(sh(), 0.1), q8(tensor.Int8, sh(), -5)})
	checkQ(t, got, tensor.Int8, sh(3), -128, 127, -128)
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{f32(sh(1), float32(math.NaN())), f32(sh(), 0.1), q8(tensor.Uint8, sh(), 100)})
	checkQ(t, got, tensor.Uint8, sh(1), 0)

	// x/scale is a float32 division: float32(0.25)/float32(0.1) rounds to
	// exactly 2.5 in float32 (2.4999999627 in exact arithmetic) and then to
	// 2, as in ONNX Runtime.
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{f32(sh(2), 0.3, 0.25), f32(sh(), 0.1), q8(tensor.Int8, sh(), 0)})
	checkQ(t, got, tensor.Int8, sh(2), 3, 2)

	// int32 input.
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{q8(tensor.Int32, sh(3), -7, 5, 1000), f32(sh(), 2), q8(tensor.Int8, sh(), 0)})
	checkQ(t, got, tensor.Int8, sh(3), -4, 2, 127)

	// DequantizeLinear of int8 and int32 without zero point.
	got = rtOne(t, 13, "DequantizeLinear", []*tensor.Tensor{q8(tensor.Int8, sh(3), -128, 0, 127), f32(sh(), 0.5)})
	checkF(t, got, sh(3), -64, 0, 63.5)
	got = rtOne(t, 13, "DequantizeLinear", []*tensor.Tensor{q8(tensor.Int32, sh(2), -100000, 3), f32(sh(), 0.25)})
	checkF(t, got, sh(2), -25000, 0.75)
}

// Per-axis on axis 0 (convolution weights) and a negative axis, int8.
func TestQuantizeLinearPerAxis(t *testing.T) {
	w := f32(sh(2, 3, 1, 1), 1, -2, 0.25, 10, 3, -6)
	scale := f32(sh(2), 2.0/127, 10.0/127)
	zp := q8(tensor.Int8, sh(2), 0, 0)
	got := rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{w, scale, zp}, aInt("axis", 0))
	// 1/(2/127) = 63.5 -> 64 (half to even), -127, 15.875 -> 16; 127, 38.1 -> 38, -76.2 -> -76
	checkQ(t, got, tensor.Int8, sh(2, 3, 1, 1), 64, -127, 16, 127, 38, -76)
	back := rtOne(t, 13, "DequantizeLinear", []*tensor.Tensor{got, scale, zp}, aInt("axis", 0))
	checkF(t, back, sh(2, 3, 1, 1), 64*scale.F32[0], -127*scale.F32[0], 16*scale.F32[0],
		127*scale.F32[1], 38*scale.F32[1], -76*scale.F32[1])

	// axis -1 of a [2,2] tensor: per column.
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{f32(sh(2, 2), 1, 1, 3, 3), f32(sh(2), 1, 2), q8(tensor.Int8, sh(2), 0, 1)},
		aInt("axis", -1))
	checkQ(t, got, tensor.Int8, sh(2, 2), 1, 1, 3, 3) // 1/2 = 0.5 -> 0, +1; 3/2 = 1.5 -> 2, +1

	// Without zero point, per axis, uint8.
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{f32(sh(2, 2), 1, 1, 3, 3), f32(sh(2), 1, 2)}, aInt("axis", 1))
	checkQ(t, got, tensor.Uint8, sh(2, 2), 1, 0, 3, 2)

	// A one-element scale is per tensor whatever the axis.
	got = rtOne(t, 13, "QuantizeLinear", []*tensor.Tensor{f32(sh(2, 3), 1, 2, 3, 4, 5, 6), f32(sh(1), 2), q8(tensor.Int8, sh(1), 0)})
	checkQ(t, got, tensor.Int8, sh(2, 3), 0, 1, 2, 2, 2, 3)
}

// Large per-axis tensors split across workers give the single-worker
// result.
func TestQuantizeLinearParallel(t *testing.T) {
	r := rtRand(7)
	x := randT(r, 4, 64, 33, 17)
	scale := tensor.New(tensor.Float32, 64)
	for i := range scale.F32 {
		scale.F32[i] = 0.001 + r.Float32()*0.02
	}
	zp := q8(tensor.Int8, sh(64), make([]int64, 64)...)
	op := rtBuild(t, 13, "QuantizeLinear", aInt("axis", 1))
	one := rtMust(t, op, 1, 1, []*tensor.Tensor{x, scale, zp}, allConst)[0]
	many := rtMust(t, op, 5, 1, []*tensor.Tensor{x, scale, zp}, allConst)[0]
	inner := 33 * 17
	for i, v := range one.I64 {
		want := int64(math.Max(-128, math.Min(127, math.RoundToEven(float64(x.F32[i]/scale.F32[(i/inner)%64])))))
		if v != want || many.I64[i] != v {
			t.Fatalf("element %d: 1 worker %d, 5 workers %d, want %d", i, v, many.I64[i], want)
		}
	}
	dop := rtBuild(t, 13, "DequantizeLinear", aInt("axis", 1))
	d1 := rtMust(t, dop, 1, 1, []*tensor.Tensor{one, scale, zp}, allConst)[0]
	d5 := rtMust(t, dop, 5, 1, []*tensor.Tensor{one, scale, zp}, allConst)[0]
	if !sameBits(d1, d5) {
		t.Fatal("DequantizeLinear differs between 1 and 5 workers")
	}
}

// Opset 19: float16 scale and input; DequantizeLinear returns the scale's
// type.
func TestQuantizeLinearFloat16(t *testing.T) {
	h := func(v ...float32) *tensor.Tensor {
		t := tensor.New(tensor.Float16, len(v))
		for i, x := range v {
			t.F32[i] = float16.ToFloat32(float16.FromFloat32(x))
		}
		return t
	}
	s := h(0.1)
	s.Shape = []int{}
	got := rtOne(t, 19, "QuantizeLinear", []*tensor.Tensor{h(1, -1, 100), s, q8(tensor.Int8, sh(), 0)})
	checkQ(t, got, tensor.Int8, sh(3), 10, -10, 127)
	d := rtOne(t, 19, "DequantizeLinear", []*tensor.Tensor{got, s, q8(tensor.Int8, sh(), 0)})
	checkShape(t, d, tensor.Float16, sh(3))
	for i, q := range []float32{10, -10, 127} {
		want := float16.ToFloat32(float16.FromFloat32(q * s.F32[0]))
		if d.F32[i] != want {
			t.Fatalf("DequantizeLinear float16 [%d] = %v, want %v", i, d.F32[i], want)
		}
	}
}

func TestQuantizeLinearRefused(t *testing.T) {
	x := f32(sh(2, 3), 1, 2, 3, 4, 5, 6)
	s := f32(sh(), 1)
	s3 := f32(sh(3), 1, 2, 3)
	zi8 := q8(tensor.Int8, sh(), 0)
	tests := []struct {
		name       string
		opset      int64
		op         string
		in         []*tensor.Tensor
		attrs      []*onnx.Attribute
		want       string
		buildError bool // an *UnsupportedError from Build
	}{
		{"axis before 13", 10, "QuantizeLinear", []*tensor.Tensor{x, s, zi8}, []*onnx.Attribute{aInt("axis", 1)},
			"attribute axis is defined from opset 13 on; the model imports opset 10", true},
		{"saturate before 19", 13, "QuantizeLinear", []*tensor.Tensor{x, s, zi8}, []*onnx.Attribute{aInt("saturate", 1)},
			"attribute saturate is defined from opset 19", true},
		{"block_size", 21, "DequantizeLinear", []*tensor.Tensor{zi8, s}, []*onnx.Attribute{aInt("block_size", 2)},
			"blocked quantization (block_size = 2) is not supported", true},
		{"block_size before 21", 19, "QuantizeLinear", []*tensor.Tensor{x, s}, []*onnx.Attribute{aInt("block_size", 0)},
			"attribute block_size is defined from opset 21", true},
		{"output_dtype float8", 21, "QuantizeLinear", []*tensor.Tensor{x, s}, []*onnx.Attribute{aInt("output_dtype", 17)},
			"output_dtype 17", true},
		{"unknown attribute", 13, "DequantizeLinear", []*tensor.Tensor{zi8, s}, []*onnx.Attribute{aInt("saturate", 1)},
			"attribute saturate not supported", true},
		{"opset 9", 9, "QuantizeLinear", []*tensor.Tensor{x, s}, nil, "needs opset 10", true},
		{"per-axis at opset 10", 10, "QuantizeLinear", []*tensor.Tensor{x, s3, q8(tensor.Int8, sh(3), 0, 0, 0)}, nil,
			"per-axis quantization needs opset 13", false},
		{"wrong channel count", 13, "QuantizeLinear", []*tensor.Tensor{x, s3}, []*onnx.Attribute{aInt("axis", 0)},
			"scale has 3 values, but axis 0 of the input [2,3] has size 2", false},
		{"blocked scale", 21, "QuantizeLinear", []*tensor.Tensor{x, f32(sh(2, 1), 1, 1)}, nil,
			"blocked quantization (a scale of rank 2) is not supported", false},
		{"zp shape", 13, "QuantizeLinear", []*tensor.Tensor{x, s3, q8(tensor.Int8, sh(2), 0, 0)}, nil,
			"zero point has shape [2], scale [3]", false},
		{"int32 zero point", 13, "QuantizeLinear", []*tensor.Tensor{x, s, q8(tensor.Int32, sh(), 0)}, nil,
			"only int8 and uint8 quantization", false},
		{"output_dtype vs zp", 21, "QuantizeLinear", []*tensor.Tensor{x, s, zi8}, []*onnx.Attribute{aInt("output_dtype", 2)},
			"output_dtype is uint8 but the zero point is int8", false},
		{"dq zp type", 13, "DequantizeLinear", []*tensor.Tensor{zi8, s, q8(tensor.Uint8, sh(), 0)}, nil,
			"zero point is uint8 but the input is int8", false},
		{"dq float input", 13, "DequantizeLinear", []*tensor.Tensor{x, s}, nil, "int8, uint8 or int32 is required", false},
		{"float16 before 19", 13, "QuantizeLinear", []*tensor.Tensor{x, &tensor.Tensor{DType: tensor.Float16, Shape: []int{}, F32: []float32{1}}}, nil,
			"scale is float16; float32 is required", false},
		{"int scale", 13, "DequantizeLinear", []*tensor.Tensor{zi8, q8(tensor.Int64, sh(), 1)}, nil, "scale is int64", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := rtNode(tc.op)
			n.Attrs = tc.attrs
			op, err := Build(n, tc.opset)
			if err == nil {
				if tc.buildError {
					t.Fatalf("Build succeeded, want an error containing %q", tc.want)
				}
				_, err = rtEval(op, 1, 1, tc.in, allConst)
			} else {
				var ue *UnsupportedError
				if !errors.As(err, &ue) {
					t.Fatalf("Build error %T %v, want *UnsupportedError", err, err)
				}
				if !tc.buildError {
					t.Fatalf("Build: %v", err)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
