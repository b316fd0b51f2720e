package tensor

import (
	"fmt"
	"strings"
)

// DType is an ONNX TensorProto.DataType value.
type DType int32

// The ONNX element types the project reads. The numeric values are those of
// onnx.proto's TensorProto.DataType enum.
const (
	Undefined DType = 0
	Float32   DType = 1
	Uint8     DType = 2
	Int8      DType = 3
	Int32     DType = 6
	Int64     DType = 7
	Bool      DType = 9
	Float16   DType = 10
	Float64   DType = 11
)

var dtypeNames = map[DType]string{
	Undefined: "undefined", Float32: "float32", Uint8: "uint8", Int8: "int8",
	Int32: "int32", Int64: "int64", Bool: "bool", Float16: "float16", Float64: "float64",
}

func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// Supported reports whether the project can hold values of this type.
func (d DType) Supported() bool {
	_, ok := dtypeNames[d]
	return ok && d != Undefined
}

// IsFloat reports whether values of d live in Tensor.F32.
func (d DType) IsFloat() bool { return d == Float32 || d == Float16 || d == Float64 }

// Tensor is a dense row-major array. Exactly one of F32, I64 and I8 is
// used: F32 when DType.IsFloat, else I64, except for the activations an
// INT8 plan keeps in int8 between its INT8 layers (core/engine), whose
// bytes are I8 (DType Int8, values scaled by the calibrated scale of the
// tensor). A model's own int8 values (initializers, QuantizeLinear's
// outputs) are in I64 like the other integers.
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	I64   []int64
	I8    []int8
}

// NumElements returns the product of the dimensions (1 for a scalar).
// shape must be valid (CheckShape): the product is not checked.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// New returns a zero-filled tensor of the given type and shape.
func New(dt DType, shape ...int) *Tensor {
	t := &Tensor{DType: dt, Shape: append([]int(nil), shape...)}
	n := NumElements(shape)
	if dt.IsFloat() {
		t.F32 = make([]float32, n)
	} else {
		t.I64 = make([]int64, n)
	}
	return t
}

// FromFloat32 wraps data (not copied) as a float32 tensor.
func FromFloat32(data []float32, shape ...int) *Tensor {
	if len(data) != NumElements(shape) {
		panic(fmt.Sprintf("tensor.FromFloat32: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: Float32, Shape: append([]int(nil), shape...), F32: data}
}

// FromInt64 wraps data (not copied) as an int64 tensor.
func FromInt64(data []int64, shape ...int) *Tensor {
	if len(data) != NumElements(shape) {
		panic(fmt.Sprintf("tensor.FromInt64: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: Int64, Shape: append([]int(nil), shape...), I64: data}
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return NumElements(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...)}
	if t.F32 != nil {
		c.F32 = append([]float32(nil), t.F32...)
	}
	if t.I64 != nil {
		c.I64 = append([]int64(nil), t.I64...)
	}
	if t.I8 != nil {
		c.I8 = append([]int8(nil), t.I8...)
	}
	return c
}

// Batch returns entries [lo, hi) of t along its first axis (images lo to
// hi-1 of a batch) as a tensor sharing t's storage. t must have at least
// one axis and 0 ≤ lo ≤ hi ≤ t.Shape[0].
func (t *Tensor) Batch(lo, hi int) *Tensor {
	shape := append([]int{hi - lo}, t.Shape[1:]...)
	per := NumElements(t.Shape[1:])
	b := &Tensor{DType: t.DType, Shape: shape}
	switch {
	case t.F32 != nil:
		b.F32 = t.F32[lo*per : hi*per]
	case t.I64 != nil:
		b.I64 = t.I64[lo*per : hi*per]
	case t.I8 != nil:
		b.I8 = t.I8[lo*per : hi*per]
	}
	return b
}

// Ints returns the values as ints, whatever the element type; it is meant
// for small shape-like tensors (Reshape targets, Slice bounds, pads).
func (t *Tensor) Ints() []int {
	out := make([]int, t.Len())
	if t.DType.IsFloat() {
		for i, v := range t.F32 {
			out[i] = int(v)
		}
		return out
	}
	for i, v := range t.I64 {
		out[i] = int(v)
	}
	return out
}

// ShapeString formats a shape as [N,C,H,W].
func ShapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// InputShapeString formats a model input's declared shape, its free
// dimensions (negative, such as the batch) written N: [N,3,224,224].
func InputShapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			parts[i] = "N"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Strides returns the row-major element strides of a valid shape
// (CheckShape).
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// EqualShape reports whether two shapes are identical.
func EqualShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
