package dataset

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// ElementType is the type of an input's values, numbered as ONNX's
// TensorProto.DataType so that it compares with a model's input types.
type ElementType int32

// The element types a data set may deliver.
const (
	Float32 ElementType = 1
	Uint8   ElementType = 2
	Int8    ElementType = 3
	Int32   ElementType = 6
	Int64   ElementType = 7
	Bool    ElementType = 9
	Float16 ElementType = 10
)

var elementTypes = map[ElementType]struct {
	name string
	size int
}{
	Float32: {"float32", 4}, Uint8: {"uint8", 1}, Int8: {"int8", 1}, Int32: {"int32", 4},
	Int64: {"int64", 8}, Bool: {"bool", 1}, Float16: {"float16", 2},
}

func (t ElementType) String() string {
	if e, ok := elementTypes[t]; ok {
		return e.name
	}
	return fmt.Sprintf("element type %d", int32(t))
}

// Valid reports whether t is one of the element types above.
func (t ElementType) Valid() bool {
	_, ok := elementTypes[t]
	return ok
}

// Size is the bytes of one value (0 for an invalid type).
func (t ElementType) Size() int { return elementTypes[t].size }

// Input is one named input of every sample: the model's input of the same
// name takes it. A data set of one input may leave Name empty; it then
// feeds the model's only input.
type Input struct {
	Name  string
	Type  ElementType
	Shape []int // one sample's, e.g. [16] token ids
}

// Elements returns the number of values of one sample's input.
func (in Input) Elements() int { return product(in.Shape) }

// Tensor is one input's values of a batch: n samples × the input's
// elements, row-major, in the machine's byte order, a bool one byte 0 or
// 1, a float16 its binary16 bits. Data is 8-byte aligned (NewTensor), so
// that the typed views below can be written through.
type Tensor struct {
	Type ElementType
	Data []byte
}

// NewTensor returns a zeroed tensor of n values of type t.
func NewTensor(t ElementType, n int) Tensor {
	words := make([]uint64, (n*t.Size()+7)/8)
	return Tensor{Type: t, Data: unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n*t.Size())}
}

// Float32Tensor views v as a Float32 tensor (no copy), e.g. to read a
// single float32 input into a slice the caller holds.
func Float32Tensor(v []float32) Tensor {
	return Tensor{Type: Float32, Data: unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))}
}

// Len returns the number of values.
func (t Tensor) Len() int { return len(t.Data) / max(t.Type.Size(), 1) }

// Float32s, Float16s, Int64s, Int32s, Int8s, Uint8s and Bools view the
// values as the slice of their type (Float16s as binary16 bits); each
// panics for a tensor of another type.
func (t Tensor) Float32s() []float32 { return view[float32](t, Float32) }
func (t Tensor) Float16s() []uint16  { return view[uint16](t, Float16) }
func (t Tensor) Int64s() []int64     { return view[int64](t, Int64) }
func (t Tensor) Int32s() []int32     { return view[int32](t, Int32) }
func (t Tensor) Int8s() []int8       { return view[int8](t, Int8) }
func (t Tensor) Uint8s() []uint8     { return view[uint8](t, Uint8) }
func (t Tensor) Bools() []bool       { return view[bool](t, Bool) }

func view[T any](t Tensor, want ElementType) []T {
	if t.Type != want {
		panic(fmt.Sprintf("dataset.Tensor of %v viewed as %v", t.Type, want))
	}
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(t.Data))), len(t.Data)/int(unsafe.Sizeof(zero)))
}

// NativeLittleEndian reports whether the machine's byte order is
// little-endian, the order of .npy files and of the wire: values then copy
// as they are.
var NativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// CopyLittleEndian copies little-endian values of size bytes each from src
// into dst in the machine's byte order, or the other way round (the
// conversion is its own inverse), and returns the bytes copied.
func CopyLittleEndian(dst, src []byte, size int) int {
	n := min(len(dst), len(src)) / size * size
	if NativeLittleEndian || size == 1 {
		return copy(dst[:n], src[:n])
	}
	for i := 0; i < n; i += size {
		for k := range size {
			dst[i+k] = src[i+size-1-k]
		}
	}
	return n
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// TensorStream is a data set whose samples are several named inputs of
// any ElementType (token ids, masks, images), served over
// int8cal.batchstream.v2. It is BatchStream with Open describing
// Meta.Inputs (SampleShape unset) and ReadTensors in place of Read: it
// writes samples [first, first+n) into inputs, one Tensor per
// Meta.Inputs entry in that order, each sized for n samples and of the
// input's type, and, when Meta.Labels is set, their class indices into
// labels (nil otherwise). The same sample always reads the same, whatever
// the batch.
type TensorStream interface {
	Info() Info
	Open(options map[string]string) (Meta, error)
	ReadTensors(first, n int, inputs []Tensor, labels []int32) error
	Close() error
}
