package tensor

import (
	"fmt"
	"math/bits"
)

// MaxElements is the most elements a shape may describe: 2^40 with 64-bit
// ints. No machine this runs on holds that many values in one tensor
// (4 TiB of float32), and the cap stays a factor of 2^23 below the int
// range, so that sums of a few dimensions, byte counts (8 bytes an element
// at most) and the index arithmetic of kernels on valid shapes cannot
// overflow. What a model may really allocate is bounded by the memory
// budget (internal/memlimit); this bound keeps the arithmetic honest.
const MaxElements = 1 << (bits.UintSize - 24)

// ShapeError says why no tensor can have a shape.
type ShapeError struct {
	Shape []int
	// Negative is the index of the first negative dimension, or -1 when
	// the shape has too many elements.
	Negative int
}

func (e *ShapeError) Error() string {
	if e.Negative >= 0 {
		return fmt.Sprintf("shape %s has a negative dimension (%d at index %d)", ShapeString(e.Shape), e.Shape[e.Negative], e.Negative)
	}
	// The true count, in floating point: the int product has wrapped or
	// would.
	n := 1.0
	for _, d := range e.Shape {
		if d != 0 {
			n *= float64(d)
		}
	}
	return fmt.Sprintf("shape %s has %.3g elements; a tensor may have at most 2^%d (%.3g)", ShapeString(e.Shape), n, bits.Len(MaxElements)-1, float64(MaxElements))
}

// CheckShape returns the number of elements of shape, or a *ShapeError when
// a dimension is negative or the product of the non-zero dimensions exceeds
// MaxElements. Zero dimensions are left out of that product so that
// [0, 2^40, 2^40] is refused too: Flatten or Reshape of it would multiply
// the large ones. Every sub-product of a shape that passes is therefore at
// most MaxElements, which is what lets NumElements, Strides and the
// kernels multiply dimensions without checks.
//
// Every shape that enters the engine passes here: graph inputs,
// initializers, and the output of every operator's shape inference.
func CheckShape(shape []int) (int, error) {
	n, zero := 1, false
	for i, d := range shape {
		switch {
		case d < 0:
			return 0, &ShapeError{Shape: shape, Negative: i}
		case d == 0:
			zero = true
		case d > MaxElements/n:
			return 0, &ShapeError{Shape: shape, Negative: -1}
		default:
			n *= d
		}
	}
	if zero {
		return 0, nil
	}
	return n, nil
}

// ElemBytes is the storage one element of type d takes in a Tensor: 4 bytes
// for the float types (held as float32), 8 for the others (held as int64).
func (d DType) ElemBytes() int {
	if d.IsFloat() {
		return 4
	}
	return 8
}
