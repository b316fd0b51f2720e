package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/int8cal/int8cal/core/tensor"
	"github.com/int8cal/int8cal/internal/atomicfile"
	"github.com/int8cal/int8cal/internal/float16"
	"google.golang.org/protobuf/encoding/protowire"
)

// WriteFile encodes m and writes it to path atomically: readers see either
// the old file or the complete new one. Errors start with the path.
func WriteFile(path string, m *Model) error {
	data, err := Encode(m)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("%s: onnx: cannot write model: %w", path, err)
	}
	return nil
}

// Encode serializes m as an onnx.ModelProto, the inverse of Decode: for a
// model Decode returned, Decode(Encode(m)) equals m (an attribute is
// written with the value field of its Type only, as ONNX writers do, so a
// file whose attributes carried stray extra fields loses those). It
// writes what the Model holds and nothing else: ir_version, producer name
// and version, opset_import (sorted by domain, the default domain first),
// and the graph with its nodes, initializers, inputs, outputs and
// value_info (element type and shape, with dim_value and dim_param).
//
// Tensors (initializers and TENSOR attributes) are written as little-endian
// raw_data in their own element type; float16 values are rounded to
// float16 and float64 ones widened from the float32 the Model holds.
// Integer values must fit their type. Attributes whose values the decoder
// does not keep (GRAPH, GRAPHS, TENSORS, SPARSE_TENSOR(S), TYPE_PROTO(S))
// cannot be written back and make Encode fail, naming the node.
func Encode(m *Model) ([]byte, error) {
	if m == nil || m.Graph == nil {
		return nil, errorf("model has no graph")
	}
	var b []byte
	if m.IRVersion != 0 {
		b = appendVarintField(b, 1, uint64(m.IRVersion))
	}
	if m.ProducerName != "" {
		b = appendStringField(b, 2, m.ProducerName)
	}
	if m.ProducerVersion != "" {
		b = appendStringField(b, 3, m.ProducerVersion)
	}
	g, err := encodeGraph(m.Graph)
	if err != nil {
		return nil, within(err, "graph")
	}
	b = appendBytesField(b, 7, g)
	domains := make([]string, 0, len(m.Opsets))
	for d := range m.Opsets {
		domains = append(domains, d)
	}
	sort.Strings(domains) // "" (ai.onnx) sorts first
	for _, d := range domains {
		var o []byte
		o = appendStringField(o, 1, d)
		o = appendVarintField(o, 2, uint64(m.Opsets[d]))
		b = appendBytesField(b, 8, o)
	}
	return b, nil
}

func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return protowire.AppendTag(b, num, typ)
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(appendTag(b, num, protowire.VarintType), v)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(appendTag(b, num, protowire.BytesType), v)
}

func appendStringField(b []byte, num protowire.Number, s string) []byte {
	return protowire.AppendString(appendTag(b, num, protowire.BytesType), s)
}

func appendFloatField(b []byte, num protowire.Number, f float32) []byte {
	return protowire.AppendFixed32(appendTag(b, num, protowire.Fixed32Type), math.Float32bits(f))
}

func encodeGraph(g *Graph) ([]byte, error) {
	var b []byte
	for i, n := range g.Nodes {
		nb, err := encodeNode(n)
		if err != nil {
			return nil, within(err, nodeSeg(i, n))
		}
		b = appendBytesField(b, 1, nb)
	}
	if g.Name != "" {
		b = appendStringField(b, 2, g.Name)
	}
	for i, in := range g.Initializers {
		if in == nil {
			return nil, errorf("initializer[%d] is nil", i)
		}
		tb, err := encodeTensor(in.Name, in.Tensor)
		if err != nil {
			return nil, within(err, tensorSeg("initializer", i, in.Name))
		}
		b = appendBytesField(b, 5, tb)
	}
	for _, list := range []struct {
		num  protowire.Number
		what string
		vs   []*ValueInfo
	}{{11, "input", g.Inputs}, {12, "output", g.Outputs}, {13, "value_info", g.ValueInfo}} {
		for i, v := range list.vs {
			if v == nil {
				return nil, errorf("%s[%d] is nil", list.what, i)
			}
			b = appendBytesField(b, list.num, encodeValueInfo(v))
		}
	}
	return b, nil
}

func encodeNode(n *Node) ([]byte, error) {
	if n == nil {
		return nil, errorf("nil node")
	}
	var b []byte
	for _, s := range n.Inputs {
		b = appendStringField(b, 1, s)
	}
	for _, s := range n.Outputs {
		b = appendStringField(b, 2, s)
	}
	if n.Name != "" {
		b = appendStringField(b, 3, n.Name)
	}
	b = appendStringField(b, 4, n.OpType)
	for i, a := range n.Attrs {
		if a == nil {
			return nil, errorf("attribute[%d] is nil", i)
		}
		ab, err := encodeAttribute(a)
		if err != nil {
			return nil, within(err, tensorSeg("attribute", i, a.Name))
		}
		b = appendBytesField(b, 5, ab)
	}
	if n.Domain != "" {
		b = appendStringField(b, 7, n.Domain)
	}
	return b, nil
}

// encodeAttribute writes the name, the value field that Type selects and
// the type. Scalar values are written even when zero (ONNX attributes are
// proto2 optionals: a missing value is not a zero value); empty lists are
// written as no field, which is how ONNX spells them.
func encodeAttribute(a *Attribute) ([]byte, error) {
	var b []byte
	b = appendStringField(b, 1, a.Name)
	switch a.Type {
	case AttrFloat:
		b = appendFloatField(b, 2, a.F)
	case AttrInt:
		b = appendVarintField(b, 3, uint64(a.I))
	case AttrString:
		b = appendStringField(b, 4, a.S)
	case AttrTensor:
		if a.T == nil {
			return nil, errorf("attribute of type TENSOR has no tensor")
		}
		tb, err := encodeTensor("", a.T)
		if err != nil {
			return nil, within(err, "t")
		}
		b = appendBytesField(b, 5, tb)
	case AttrFloats:
		for _, f := range a.Floats {
			b = appendFloatField(b, 7, f)
		}
	case AttrInts:
		for _, v := range a.Ints {
			b = appendVarintField(b, 8, uint64(v))
		}
	case AttrStrings:
		for _, s := range a.Strings {
			b = appendStringField(b, 9, s)
		}
	default:
		return nil, errorf("attribute of type %v cannot be encoded: the decoder does not keep its value", a.Type)
	}
	b = appendVarintField(b, 20, uint64(a.Type))
	return b, nil
}

func encodeValueInfo(v *ValueInfo) []byte {
	var b []byte
	b = appendStringField(b, 1, v.Name)
	if v.DType == tensor.Undefined && !v.HasShape {
		return b
	}
	var tt []byte
	if v.DType != tensor.Undefined {
		tt = appendVarintField(tt, 1, uint64(int64(v.DType)))
	}
	if v.HasShape {
		var shape []byte
		for _, d := range v.Dims {
			var db []byte
			if d.Value != 0 {
				db = appendVarintField(db, 1, uint64(d.Value))
			}
			if d.Param != "" {
				db = appendStringField(db, 2, d.Param)
			}
			shape = appendBytesField(shape, 1, db)
		}
		tt = appendBytesField(tt, 2, shape)
	}
	var typ []byte
	typ = appendBytesField(typ, 1, tt)
	return appendBytesField(b, 2, typ)
}

// encodeTensor writes a TensorProto: dims, data_type, name (if any) and the
// values as raw_data.
func encodeTensor(name string, t *tensor.Tensor) ([]byte, error) {
	if t == nil {
		return nil, errorf("nil tensor")
	}
	if !t.DType.Supported() {
		return nil, errorf("data type %v cannot be encoded; supported types: %s", t.DType, supportedTypes)
	}
	n := 1
	for i, d := range t.Shape {
		if d < 0 {
			return nil, errorf("dims[%d] = %d is negative", i, d)
		}
		n *= d
	}
	if t.DType.IsFloat() {
		if len(t.F32) != n {
			return nil, errorf("%v %s holds %d float values, want %d", t.DType, tensor.ShapeString(t.Shape), len(t.F32), n)
		}
	} else if len(t.I64) != n {
		return nil, errorf("%v %s holds %d integer values, want %d", t.DType, tensor.ShapeString(t.Shape), len(t.I64), n)
	}
	raw, err := rawBytes(t)
	if err != nil {
		return nil, err
	}
	var b []byte
	for _, d := range t.Shape {
		b = appendVarintField(b, tensorDims, uint64(d))
	}
	b = appendVarintField(b, tensorDataType, uint64(t.DType))
	if name != "" {
		b = appendStringField(b, tensorName, name)
	}
	b = appendBytesField(b, tensorRawData, raw)
	return b, nil
}

// rawBytes returns t's values as little-endian raw_data.
func rawBytes(t *tensor.Tensor) ([]byte, error) {
	le := binary.LittleEndian
	_, size := dataFieldFor(t.DType)
	switch t.DType {
	case tensor.Float32:
		out := make([]byte, 0, size*len(t.F32))
		for _, v := range t.F32 {
			out = le.AppendUint32(out, math.Float32bits(v))
		}
		return out, nil
	case tensor.Float16:
		out := make([]byte, 0, size*len(t.F32))
		for _, v := range t.F32 {
			out = le.AppendUint16(out, float16.FromFloat32(v))
		}
		return out, nil
	case tensor.Float64:
		out := make([]byte, 0, size*len(t.F32))
		for _, v := range t.F32 {
			out = le.AppendUint64(out, math.Float64bits(float64(v)))
		}
		return out, nil
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch t.DType {
	case tensor.Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	case tensor.Int8:
		lo, hi = math.MinInt8, math.MaxInt8
	case tensor.Uint8:
		lo, hi = 0, math.MaxUint8
	}
	out := make([]byte, 0, size*len(t.I64))
	for i, v := range t.I64 {
		if t.DType != tensor.Bool && (v < lo || v > hi) {
			return nil, errorf("value [%d] = %d is out of range for %v", i, v, t.DType)
		}
		switch t.DType {
		case tensor.Int64:
			out = le.AppendUint64(out, uint64(v))
		case tensor.Int32:
			out = le.AppendUint32(out, uint32(int32(v)))
		case tensor.Int8, tensor.Uint8:
			out = append(out, byte(v))
		case tensor.Bool:
			out = append(out, boolByte(v != 0))
		}
	}
	return out, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
