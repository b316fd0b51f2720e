package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/float16"
	"google.golang.org/protobuf/encoding/protowire"
)

// TensorProto field numbers.
const (
	tensorDims         = 1
	tensorDataType     = 2
	tensorSegment      = 3
	tensorFloatData    = 4
	tensorInt32Data    = 5
	tensorStringData   = 6
	tensorInt64Data    = 7
	tensorName         = 8
	tensorRawData      = 9
	tensorDoubleData   = 10
	tensorUint64Data   = 11
	tensorExternalData = 13
	tensorDataLocation = 14
)

var tensorFields = fieldNames{
	tensorDims: "dims", tensorDataType: "data_type", tensorSegment: "segment",
	tensorFloatData: "float_data", tensorInt32Data: "int32_data",
	tensorStringData: "string_data", tensorInt64Data: "int64_data",
	tensorName: "name", tensorRawData: "raw_data", tensorDoubleData: "double_data",
	tensorUint64Data: "uint64_data", tensorExternalData: "external_data",
	tensorDataLocation: "data_location",
}

var stringEntryFields = fieldNames{1: "key", 2: "value"}

// maxElements bounds the element count a tensor's dims may describe. Data
// is only ever allocated for values present in the input, so this is a
// guard against overflow rather than a memory limit.
const maxElements = 1 << 46

// onnxTypeNames are the TensorProto.DataType names, for error messages.
var onnxTypeNames = map[int32]string{
	0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16",
	6: "INT32", 7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE",
	12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128",
	16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
	20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1",
}

// supportedTypes lists the element types a tensor.Tensor can hold, for the
// unsupported-type error.
var supportedTypes = func() string {
	var parts []string
	for _, d := range []tensor.DType{tensor.Float32, tensor.Float16, tensor.Float64,
		tensor.Int64, tensor.Int32, tensor.Int8, tensor.Uint8, tensor.Bool} {
		parts = append(parts, fmt.Sprintf("%s (%d)", onnxTypeNames[int32(d)], int32(d)))
	}
	return strings.Join(parts, ", ")
}()

// rawTensor holds the fields of a TensorProto before they are checked
// against each other.
type rawTensor struct {
	name       string
	dims       []int64
	dtype      int32
	floats     []float32
	int32s     []int32
	int64s     []int64
	doubles    []float64
	raw        []byte
	has        map[int]bool // which data fields were present
	external   bool
	location   string // external_data "location" entry
	dataLoc    int32
	hasSegment bool
}

// parseTensor reads the fields of a serialized TensorProto. It returns the
// name even on error when it was read before the error.
func parseTensor(b []byte) (*rawTensor, error) {
	r := &rawTensor{has: map[int]bool{}}
	err := forEachField(b, tensorFields, func(f *field) error {
		var err error
		switch f.num {
		case tensorDims:
			r.dims, err = appendVarints(f, r.dims)
		case tensorDataType:
			r.dtype, err = f.int32v()
		case tensorSegment:
			r.hasSegment = true
		case tensorFloatData:
			r.floats, err = f.appendFloats(r.floats)
			r.has[tensorFloatData] = true
		case tensorInt32Data:
			r.int32s, err = appendVarints(f, r.int32s)
			r.has[tensorInt32Data] = true
		case tensorInt64Data:
			r.int64s, err = appendVarints(f, r.int64s)
			r.has[tensorInt64Data] = true
		case tensorDoubleData:
			r.doubles, err = f.appendDoubles(r.doubles)
			r.has[tensorDoubleData] = true
		case tensorStringData, tensorUint64Data:
			r.has[int(f.num)] = true
		case tensorName:
			r.name, err = f.str()
		case tensorRawData:
			r.raw, err = f.message() // bytes; a later occurrence replaces an earlier one
			r.has[tensorRawData] = true
		case tensorExternalData:
			var m []byte
			if m, err = f.message(); err != nil {
				return err
			}
			r.external = true
			var key, value string
			err = forEachField(m, stringEntryFields, func(f *field) error {
				var err error
				switch f.num {
				case 1:
					key, err = f.str()
				case 2:
					value, err = f.str()
				}
				return err
			})
			if err != nil {
				return within(err, "external_data")
			}
			if key == "location" {
				r.location = value
			}
		case tensorDataLocation:
			r.dataLoc, err = f.int32v()
		}
		return err
	})
	return r, err
}

// dtypeName formats an ONNX data type number for messages, e.g. "16 (BFLOAT16)".
func dtypeName(dt int32) string {
	if s, ok := onnxTypeNames[dt]; ok {
		return fmt.Sprintf("%d (%s)", dt, s)
	}
	return fmt.Sprintf("%d (unknown)", dt)
}

// dataFieldFor returns the typed data field that carries values of dt when
// raw_data is not used, and the element size in raw_data.
func dataFieldFor(dt tensor.DType) (num int, rawSize int) {
	switch dt {
	case tensor.Float32:
		return tensorFloatData, 4
	case tensor.Float64:
		return tensorDoubleData, 8
	case tensor.Float16:
		return tensorInt32Data, 2
	case tensor.Int64:
		return tensorInt64Data, 8
	case tensor.Int32:
		return tensorInt32Data, 4
	case tensor.Int8, tensor.Uint8, tensor.Bool:
		return tensorInt32Data, 1
	}
	return 0, 0
}

// shapeString formats dims for messages like "float32 [20,1,5,5]".
func shapeString(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// build checks the fields against each other and makes the tensor.
func (r *rawTensor) build() (*tensor.Tensor, error) {
	if r.external || r.dataLoc == 1 {
		where := ""
		if r.location != "" {
			where = fmt.Sprintf(" (in %q)", r.location)
		}
		return nil, errorf("tensor data is stored in an external file%s, which is not supported; "+
			"re-save the model with all tensors inside the .onnx file, e.g. in Python "+
			"(with the data file next to the model): onnx.save(onnx.load(path), new_path, save_as_external_data=False)", where)
	}
	if r.dataLoc != 0 {
		return nil, errorf("data_location = %d is not supported (want 0, DEFAULT)", r.dataLoc)
	}
	if r.hasSegment {
		return nil, errorf("segmented tensors (field 3, segment) are not supported")
	}
	dt := tensor.DType(r.dtype)
	if !dt.Supported() {
		return nil, errorf("data_type %s is not supported; supported types: %s", dtypeName(r.dtype), supportedTypes)
	}

	// Shape, guarded against negative dims and overflow before anything is
	// allocated.
	shape := make([]int, len(r.dims))
	n := int64(1)
	zero := false
	for i, d := range r.dims {
		if d < 0 {
			return nil, errorf("dims[%d] = %d is negative (dims %s)", i, d, shapeString(r.dims))
		}
		if d == 0 {
			zero = true
		}
		if d > maxElements || int64(int(d)) != d {
			return nil, errorf("dims[%d] = %d is too large (dims %s)", i, d, shapeString(r.dims))
		}
		shape[i] = int(d)
	}
	if zero {
		n = 0
	} else {
		for _, d := range r.dims {
			if n > maxElements/d {
				return nil, errorf("dims %s describe more than 2^46 elements", shapeString(r.dims))
			}
			n *= d
		}
	}
	desc := fmt.Sprintf("%s %s", dt, shapeString(r.dims))

	want, size := dataFieldFor(dt)
	for _, num := range []int{tensorFloatData, tensorInt32Data, tensorStringData, tensorInt64Data,
		tensorDoubleData, tensorUint64Data} {
		if !r.has[num] || num == want {
			continue
		}
		return nil, errorf("%s is not valid for data_type %s", tensorFields[protowire.Number(num)], dtypeName(r.dtype))
	}
	t := &tensor.Tensor{DType: dt, Shape: shape}
	if r.has[tensorRawData] {
		if r.has[want] {
			return nil, errorf("both raw_data and %s are set", tensorFields[protowire.Number(want)])
		}
		if int64(len(r.raw)) != n*int64(size) {
			return nil, errorf("raw_data holds %d bytes, want %d for %s", len(r.raw), n*int64(size), desc)
		}
		fromRaw(t, r.raw)
		return t, nil
	}

	var got int
	switch want {
	case tensorFloatData:
		got = len(r.floats)
	case tensorDoubleData:
		got = len(r.doubles)
	case tensorInt64Data:
		got = len(r.int64s)
	case tensorInt32Data:
		got = len(r.int32s)
	}
	if int64(got) != n {
		if got == 0 {
			return nil, errorf("tensor has no data (neither raw_data nor %s), want %d values for %s",
				tensorFields[protowire.Number(want)], n, desc)
		}
		return nil, errorf("%s holds %d values, want %d for %s", tensorFields[protowire.Number(want)], got, n, desc)
	}
	switch dt {
	case tensor.Float32:
		t.F32 = r.floats
		if t.F32 == nil {
			t.F32 = []float32{}
		}
	case tensor.Float64:
		t.F32 = make([]float32, n)
		for i, v := range r.doubles {
			t.F32[i] = float32(v)
		}
	case tensor.Float16:
		t.F32 = make([]float32, n)
		for i, v := range r.int32s {
			if v < 0 || v > math.MaxUint16 {
				return nil, errorf("int32_data[%d] = %d is not a 16-bit float16 bit pattern", i, v)
			}
			t.F32[i] = float16.ToFloat32(uint16(v))
		}
	case tensor.Int64:
		t.I64 = r.int64s
		if t.I64 == nil {
			t.I64 = []int64{}
		}
	default: // int32, int8, uint8, bool from int32_data; bool is 0 or 1
		lo, hi := int32(math.MinInt32), int32(math.MaxInt32)
		switch dt {
		case tensor.Int8:
			lo, hi = math.MinInt8, math.MaxInt8
		case tensor.Uint8:
			lo, hi = 0, math.MaxUint8
		}
		t.I64 = make([]int64, n)
		for i, v := range r.int32s {
			if dt == tensor.Bool {
				if v != 0 {
					t.I64[i] = 1
				}
				continue
			}
			if v < lo || v > hi {
				return nil, errorf("int32_data[%d] = %d is out of range for %s", i, v, dt)
			}
			t.I64[i] = int64(v)
		}
	}
	return t, nil
}

// fromRaw fills t from little-endian raw_data whose length has been checked.
func fromRaw(t *tensor.Tensor, raw []byte) {
	le := binary.LittleEndian
	switch t.DType {
	case tensor.Float32:
		t.F32 = make([]float32, len(raw)/4)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case tensor.Float16:
		t.F32 = make([]float32, len(raw)/2)
		for i := range t.F32 {
			t.F32[i] = float16.ToFloat32(le.Uint16(raw[2*i:]))
		}
	case tensor.Float64:
		t.F32 = make([]float32, len(raw)/8)
		for i := range t.F32 {
			t.F32[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
		}
	case tensor.Int64:
		t.I64 = make([]int64, len(raw)/8)
		for i := range t.I64 {
			t.I64[i] = int64(le.Uint64(raw[8*i:]))
		}
	case tensor.Int32:
		t.I64 = make([]int64, len(raw)/4)
		for i := range t.I64 {
			t.I64[i] = int64(int32(le.Uint32(raw[4*i:])))
		}
	case tensor.Int8:
		t.I64 = make([]int64, len(raw))
		for i, v := range raw {
			t.I64[i] = int64(int8(v))
		}
	case tensor.Uint8:
		t.I64 = make([]int64, len(raw))
		for i, v := range raw {
			t.I64[i] = int64(v)
		}
	case tensor.Bool:
		t.I64 = make([]int64, len(raw))
		for i, v := range raw {
			if v != 0 {
				t.I64[i] = 1
			}
		}
	}
}

// decodeTensor decodes a serialized TensorProto, returning its name (as far
// as it was read) also on error.
func decodeTensor(b []byte) (*tensor.Tensor, string, error) {
	r, err := parseTensor(b)
	if err != nil {
		return nil, r.name, err
	}
	t, err := r.build()
	return t, r.name, err
}

// tensorSeg formats a path segment such as `initializer[3] "conv1.weight"`.
func tensorSeg(prefix string, i int, name string) string {
	if i >= 0 {
		prefix = fmt.Sprintf("%s[%d]", prefix, i)
	}
	if name == "" {
		return prefix
	}
	return fmt.Sprintf("%s %q", prefix, name)
}

// DecodeTensor decodes a serialized onnx.TensorProto on its own, such as
// the input_0.pb and output_0.pb files of an ONNX test_data_set directory.
// It returns the tensor and its name ("" if the proto has none).
func DecodeTensor(data []byte) (*tensor.Tensor, string, error) {
	t, name, err := decodeTensor(data)
	if err != nil {
		return nil, name, within(err, tensorSeg("tensor", -1, name))
	}
	return t, name, nil
}
