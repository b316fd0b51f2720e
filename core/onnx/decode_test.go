package onnx

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
	"google.golang.org/protobuf/encoding/protowire"
)

// le builds little-endian raw_data from values of one Go type.
func le(vs ...any) []byte {
	var b []byte
	for _, v := range vs {
		b, _ = binary.Append(b, binary.LittleEndian, v)
	}
	return b
}

// ONNX data_type numbers used by the tests.
const (
	dtFloat   = 1
	dtUint8   = 2
	dtInt8    = 3
	dtUint16  = 4
	dtInt16   = 5
	dtInt32   = 6
	dtInt64   = 7
	dtString  = 8
	dtBool    = 9
	dtFloat16 = 10
	dtDouble  = 11
	dtBF16    = 16
)

type tensorCase struct {
	name  string
	proto []byte // serialized TensorProto
	dtype tensor.DType
	shape []int
	f32   []float32
	i64   []int64
}

var tensorCases = []tensorCase{
	{
		name:  "float_data packed",
		proto: tensorProto("w", dtFloat, []int64{2, 2}, packedFloats(4, 1, -2.5, 3e-8, 65504)),
		dtype: tensor.Float32, shape: []int{2, 2}, f32: []float32{1, -2.5, 3e-8, 65504},
	},
	{
		name:  "float_data unpacked",
		proto: tensorProto("w", dtFloat, []int64{3}, fFloats(4, 0.5, -0, 7)),
		dtype: tensor.Float32, shape: []int{3}, f32: []float32{0.5, 0, 7},
	},
	{
		name:  "float_data packed and unpacked mixed",
		proto: tensorProto("w", dtFloat, []int64{3}, packedFloats(4, 1, 2), fFloats(4, 3)),
		dtype: tensor.Float32, shape: []int{3}, f32: []float32{1, 2, 3},
	},
	{
		name:  "dims packed",
		proto: cat(packedVarints(1, 1, 2), fVarint(2, dtFloat), packedFloats(4, 1, 2), fStr(8, "w")),
		dtype: tensor.Float32, shape: []int{1, 2}, f32: []float32{1, 2},
	},
	{
		name:  "scalar (no dims)",
		proto: tensorProto("s", dtFloat, nil, fFloats(4, 42)),
		dtype: tensor.Float32, shape: []int{}, f32: []float32{42},
	},
	{
		name:  "empty tensor without data",
		proto: tensorProto("e", dtFloat, []int64{0, 3}),
		dtype: tensor.Float32, shape: []int{0, 3}, f32: []float32{},
	},
	{
		name:  "empty int64 tensor",
		proto: tensorProto("e", dtInt64, []int64{2, 0}),
		dtype: tensor.Int64, shape: []int{2, 0}, i64: []int64{},
	},
	{
		name:  "raw float32",
		proto: tensorProto("r", dtFloat, []int64{3}, rawData(le(float32(1.5), float32(-3), float32(math.Inf(1)))...)),
		dtype: tensor.Float32, shape: []int{3}, f32: []float32{1.5, -3, float32(math.Inf(1))},
	},
	{
		name:  "raw float16",
		proto: tensorProto("r", dtFloat16, []int64{5}, rawData(le(uint16(0x3c00), uint16(0xc000), uint16(0x7bff), uint16(0x0001), uint16(0x3555))...)),
		dtype: tensor.Float16, shape: []int{5}, f32: []float32{1, -2, 65504, 5.9604645e-08, 0.333251953125},
	},
	{
		name:  "raw float64",
		proto: tensorProto("r", dtDouble, []int64{2}, rawData(le(0.25, -1e300)...)),
		dtype: tensor.Float64, shape: []int{2}, f32: []float32{0.25, float32(math.Inf(-1))},
	},
	{
		name:  "raw int64",
		proto: tensorProto("r", dtInt64, []int64{3}, rawData(le(int64(-1), int64(math.MaxInt64), int64(5))...)),
		dtype: tensor.Int64, shape: []int{3}, i64: []int64{-1, math.MaxInt64, 5},
	},
	{
		name:  "raw int32",
		proto: tensorProto("r", dtInt32, []int64{2}, rawData(le(int32(-7), int32(math.MaxInt32))...)),
		dtype: tensor.Int32, shape: []int{2}, i64: []int64{-7, math.MaxInt32},
	},
	{
		name:  "raw int8",
		proto: tensorProto("r", dtInt8, []int64{3}, rawData(0x80, 0x7f, 0xff)),
		dtype: tensor.Int8, shape: []int{3}, i64: []int64{-128, 127, -1},
	},
	{
		name:  "raw uint8",
		proto: tensorProto("r", dtUint8, []int64{3}, rawData(0, 200, 255)),
		dtype: tensor.Uint8, shape: []int{3}, i64: []int64{0, 200, 255},
	},
	{
		name:  "raw bool",
		proto: tensorProto("r", dtBool, []int64{3}, rawData(0, 1, 2)),
		dtype: tensor.Bool, shape: []int{3}, i64: []int64{0, 1, 1},
	},
	{
		name:  "int32_data int8",
		proto: tensorProto("i", dtInt8, []int64{3}, packedVarints(5, -128, 127, 0)),
		dtype: tensor.Int8, shape: []int{3}, i64: []int64{-128, 127, 0},
	},
	{
		name:  "int32_data uint8 unpacked",
		proto: tensorProto("i", dtUint8, []int64{2}, fVarints(5, 255, 3)),
		dtype: tensor.Uint8, shape: []int{2}, i64: []int64{255, 3},
	},
	{
		name:  "int32_data bool",
		proto: tensorProto("i", dtBool, []int64{2}, packedVarints(5, 1, 0)),
		dtype: tensor.Bool, shape: []int{2}, i64: []int64{1, 0},
	},
	{
		name:  "int32_data float16 bit patterns",
		proto: tensorProto("h", dtFloat16, []int64{4}, packedVarints(5, 0x3c00, 0xfc00, 0x0400, 0x8000)),
		dtype: tensor.Float16, shape: []int{4}, f32: []float32{1, float32(math.Inf(-1)), 6.1035156e-05, float32(math.Copysign(0, -1))},
	},
	{
		name:  "int32_data int32",
		proto: tensorProto("i", dtInt32, []int64{2}, packedVarints(5, math.MinInt32, 9)),
		dtype: tensor.Int32, shape: []int{2}, i64: []int64{math.MinInt32, 9},
	},
	{
		name:  "int64_data packed",
		proto: tensorProto("l", dtInt64, []int64{2, 1}, packedVarints(7, math.MinInt64, -1)),
		dtype: tensor.Int64, shape: []int{2, 1}, i64: []int64{math.MinInt64, -1},
	},
	{
		name:  "int64_data unpacked",
		proto: tensorProto("l", dtInt64, []int64{2}, fVarints(7, 1<<40, -3)),
		dtype: tensor.Int64, shape: []int{2}, i64: []int64{1 << 40, -3},
	},
	{
		name:  "double_data packed",
		proto: tensorProto("d", dtDouble, []int64{2}, packedDoubles(10, 1.0/3, -2)),
		dtype: tensor.Float64, shape: []int{2}, f32: []float32{1.0 / 3, -2},
	},
	{
		name:  "double_data unpacked",
		proto: tensorProto("d", dtDouble, []int64{1}, fDoubles(10, 1e-3)),
		dtype: tensor.Float64, shape: []int{1}, f32: []float32{1e-3},
	},
	{
		name:  "unknown fields skipped",
		proto: cat(unknownFields(), tensorProto("u", dtFloat, []int64{1}, fFloats(4, 9)), unknownFields()),
		dtype: tensor.Float32, shape: []int{1}, f32: []float32{9},
	},
	{
		name:  "data_location DEFAULT",
		proto: tensorProto("u", dtFloat, []int64{1}, fFloats(4, 9), fVarint(14, 0)),
		dtype: tensor.Float32, shape: []int{1}, f32: []float32{9},
	},
}

func sameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func checkTensorCase(t *testing.T, tc tensorCase, got *tensor.Tensor) {
	t.Helper()
	if err := checkTensor(got); err != nil {
		t.Fatal(err)
	}
	if got.DType != tc.dtype || !tensor.EqualShape(got.Shape, tc.shape) {
		t.Fatalf("got %v %v, want %v %v", got.DType, got.Shape, tc.dtype, tc.shape)
	}
	if tc.f32 != nil && !sameFloats(got.F32, tc.f32) {
		t.Errorf("F32 = %v, want %v", got.F32, tc.f32)
	}
	if tc.i64 != nil && !reflect.DeepEqual(got.I64, tc.i64) {
		t.Errorf("I64 = %v, want %v", got.I64, tc.i64)
	}
}

// TestTensorData decodes each hand-built tensor both alone (DecodeTensor)
// and as an initializer of a model (Decode).
func TestTensorData(t *testing.T) {
	for _, tc := range tensorCases {
		t.Run(tc.name, func(t *testing.T) {
			got, name, err := DecodeTensor(tc.proto)
			if err != nil {
				t.Fatal(err)
			}
			checkTensorCase(t, tc, got)

			m, err := Decode(modelWithInit(tc.proto))
			if err != nil {
				t.Fatal(err)
			}
			in := m.Graph.Initializers[0]
			if in.Name != name || name == "" {
				t.Errorf("initializer name %q, DecodeTensor name %q", in.Name, name)
			}
			checkTensorCase(t, tc, in.Tensor)
		})
	}
}

// attributeNode is a node with attributes of every type, the first ones
// with an explicit type field, the last ones without (IR version 1 style).
func attributeNode() []byte {
	attr := func(name string, typ int64, value ...[]byte) []byte {
		b := cat(fStr(1, name), cat(value...))
		if typ != 0 {
			b = append(b, fVarint(20, typ)...)
		}
		return b
	}
	return node("all_attrs", "Custom", []string{"x", "", "z"}, []string{"y", ""},
		attr("f", 1, fFloat(2, 0.125)),
		attr("i", 2, fVarint(3, -42)),
		attr("s", 3, fStr(4, "SAME_UPPER")),
		attr("t", 4, fBytes(5, tensorProto("tv", dtInt64, []int64{2}, packedVarints(7, 3, 4)))),
		attr("g", 5, fBytes(6, cat(fStr(2, "body")))),
		attr("floats", 6, packedFloats(7, 1, 2.5)),
		attr("floats_unpacked", 6, fFloats(7, -1, 0.5)),
		attr("ints", 7, fVarints(8, 1, -1, 1<<40)),
		attr("ints_packed", 7, packedVarints(8, 5, 6)),
		attr("strings", 8, fStr(9, "a"), fStr(9, ""), fStr(9, "c")),
		attr("graphs", 10, fBytes(11, nil), fBytes(11, nil)),
		attr("tensors", 9, fBytes(10, tensorProto("x", dtFloat, nil, fFloats(4, 1)))),
		attr("empty_ints", 7),
		attr("old_int", 0, fVarint(3, 7)),
		attr("old_floats", 0, fFloats(7, 3)),
		attr("old_tensor", 0, fBytes(5, tensorProto("", dtFloat, []int64{1}, fFloats(4, 2)))),
		attr("old_graph", 0, fBytes(6, nil)),
	)
}

// attributeModel is a model around attributeNode, with opsets spelt
// both ways.
func attributeModel() []byte {
	nodeBytes := cat(attributeNode(), unknownFields(), fStr(7, "ai.onnx"))
	other := cat(node("", "MyOp", []string{"y"}, []string{"w"}), fStr(7, "com.example"))
	return cat(
		fVarint(1, 3),
		fBytes(8, cat(fStr(1, "ai.onnx"), fVarint(2, 11))),
		fBytes(8, cat(fStr(1, "com.example"), fVarint(2, 1))),
		fBytes(8, cat(fStr(1, ""), fVarint(2, 11))), // repeated, same version: accepted
		fBytes(7, cat(graphNode(nodeBytes), graphNode(other), fStr(2, "attrs"))),
	)
}

func TestNodeAndAttributes(t *testing.T) {
	data := attributeModel()
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkModel(m); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{"": 11, "com.example": 1}; !reflect.DeepEqual(m.Opsets, want) {
		t.Errorf("opsets %v, want %v", m.Opsets, want)
	}
	if len(m.Graph.Nodes) != 2 {
		t.Fatalf("%d nodes", len(m.Graph.Nodes))
	}
	n := m.Graph.Nodes[0]
	if n.Name != "all_attrs" || n.OpType != "Custom" || n.Domain != "" {
		t.Errorf("node %q %q domain %q", n.Name, n.OpType, n.Domain)
	}
	if !reflect.DeepEqual(n.Inputs, []string{"x", "", "z"}) || !reflect.DeepEqual(n.Outputs, []string{"y", ""}) {
		t.Errorf("inputs %q outputs %q: empty names must be kept", n.Inputs, n.Outputs)
	}
	if d := m.Graph.Nodes[1].Domain; d != "com.example" {
		t.Errorf("second node domain %q", d)
	}

	tv := tensor.FromInt64([]int64{3, 4}, 2)
	x := tensor.FromFloat32([]float32{2}, 1)
	tests := []struct {
		name string
		want Attribute
	}{
		{"f", Attribute{Type: AttrFloat, F: 0.125}},
		{"i", Attribute{Type: AttrInt, I: -42}},
		{"s", Attribute{Type: AttrString, S: "SAME_UPPER"}},
		{"t", Attribute{Type: AttrTensor, T: tv}},
		{"g", Attribute{Type: AttrGraph, HasGraph: true}},
		{"floats", Attribute{Type: AttrFloats, Floats: []float32{1, 2.5}}},
		{"floats_unpacked", Attribute{Type: AttrFloats, Floats: []float32{-1, 0.5}}},
		{"ints", Attribute{Type: AttrInts, Ints: []int64{1, -1, 1 << 40}}},
		{"ints_packed", Attribute{Type: AttrInts, Ints: []int64{5, 6}}},
		{"strings", Attribute{Type: AttrStrings, Strings: []string{"a", "", "c"}}},
		{"graphs", Attribute{Type: AttrGraphs, HasGraph: true}},
		{"tensors", Attribute{Type: AttrTensors}},
		{"empty_ints", Attribute{Type: AttrInts}},
		{"old_int", Attribute{Type: AttrInt, I: 7}},
		{"old_floats", Attribute{Type: AttrFloats, Floats: []float32{3}}},
		{"old_tensor", Attribute{Type: AttrTensor, T: x}},
		{"old_graph", Attribute{Type: AttrGraph, HasGraph: true}},
	}
	if len(n.Attrs) != len(tests) {
		t.Errorf("%d attributes, want %d", len(n.Attrs), len(tests))
	}
	for i, tc := range tests {
		a := n.Attr(tc.name)
		if a == nil {
			t.Errorf("attribute %s missing", tc.name)
			continue
		}
		if i < len(n.Attrs) && n.Attrs[i] != a {
			t.Errorf("attribute %s out of order", tc.name)
		}
		tc.want.Name = tc.name
		if !reflect.DeepEqual(*a, tc.want) {
			t.Errorf("attribute %s (%v) = %+v\nwant %+v", tc.name, a.Type, *a, tc.want)
		}
	}
	if n.Attr("missing") != nil {
		t.Error("Attr(missing) is not nil")
	}
	if s := AttrInts.String() + " " + AttrType(99).String(); s != "INTS AttrType(99)" {
		t.Errorf("AttrType names: %s", s)
	}
}

// oldIRModel is a model written the IR 3 way: initializers are also
// listed as inputs, and value_info carries symbolic, unknown and absent
// shapes.
func oldIRModel() []byte {
	noShape := cat(fStr(1, "noshape"), fBytes(2, fBytes(1, fVarint(1, dtFloat))))
	scalar := cat(fStr(1, "scalar"), fBytes(2, fBytes(1, cat(fVarint(1, dtInt64), fBytes(2, nil)))))
	seq := cat(fStr(1, "seq"), fBytes(2, fBytes(4, fBytes(1, fBytes(1, fVarint(1, dtFloat))))))
	untyped := fStr(1, "untyped")
	return cat(
		fVarint(1, 3), fStr(2, "CNTK"),
		fBytes(8, cat(fVarint(2, 7))), // domain absent: the default domain
		fBytes(7, cat(
			fStr(2, "old"),
			graphNode(node("conv", "Conv", []string{"x", "W"}, []string{"y"},
				cat(fStr(1, "kernel_shape"), fVarints(8, 3, 3)))),
			graphInit(tensorProto("W", dtFloat, []int64{1, 1, 3, 3}, packedFloats(4, 1, 2, 3, 4, 5, 6, 7, 8, 9))),
			graphInit(tensorProto("shape", dtInt64, []int64{2}, packedVarints(7, 1, -1))),
			fBytes(11, valueInfo("x", dtFloat, "N", 1, nil, -1)),
			fBytes(11, valueInfo("W", dtFloat, 1, 1, 3, 3)),
			fBytes(11, valueInfo("shape", dtInt64, 2)),
			fBytes(12, valueInfo("y", dtFloat, "N", 1, 1, 1)),
			fBytes(13, noShape), fBytes(13, scalar), fBytes(13, seq), fBytes(13, untyped),
			fBytes(13, valueInfo("f16", dtFloat16, 4)),
			fBytes(13, valueInfo("bf16", dtBF16, 4)),
		)),
	)
}

// TestOldIRGraph checks oldIRModel.
func TestOldIRGraph(t *testing.T) {
	data := oldIRModel()
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkModel(m); err != nil {
		t.Fatal(err)
	}
	g := m.Graph
	if m.IRVersion != 3 || m.ProducerName != "CNTK" || m.Opsets[""] != 7 || g.Name != "old" {
		t.Errorf("model header: %+v", m)
	}
	if len(g.Inputs) != 3 || len(g.Initializers) != 2 || g.Initializers[0].Name != "W" || g.Initializers[1].Name != "shape" {
		t.Fatalf("inputs %d, initializers %v", len(g.Inputs), g.Initializers)
	}
	if got := g.Initializers[1].Tensor.I64; !reflect.DeepEqual(got, []int64{1, -1}) {
		t.Errorf("shape initializer %v", got)
	}
	if a := g.Nodes[0].Attr("kernel_shape"); a == nil || a.Type != AttrInts || !reflect.DeepEqual(a.Ints, []int64{3, 3}) {
		t.Errorf("kernel_shape %+v", a)
	}
	x := g.Inputs[0]
	wantDims := []Dim{{Param: "N"}, {Value: 1}, {}, {Value: -1}}
	if x.Name != "x" || x.DType != tensor.Float32 || !x.HasShape || !reflect.DeepEqual(x.Dims, wantDims) {
		t.Errorf("input x = %+v", x)
	}
	if got := dimsString(x); got != "[N,1,?,?]" {
		t.Errorf("dims of x print as %s", got)
	}
	if !x.Dims[1].Known() || x.Dims[0].Known() || x.Dims[2].Known() || x.Dims[3].Known() {
		t.Error("Dim.Known wrong")
	}
	vi := map[string]*ValueInfo{}
	for _, v := range g.ValueInfo {
		vi[v.Name] = v
	}
	tests := []struct {
		name     string
		dtype    tensor.DType
		hasShape bool
		dims     []Dim
	}{
		{"noshape", tensor.Float32, false, nil},
		{"scalar", tensor.Int64, true, []Dim{}},
		{"seq", 0, false, nil},
		{"untyped", 0, false, nil},
		{"f16", tensor.Float16, true, []Dim{{Value: 4}}},
		{"bf16", tensor.DType(dtBF16), true, []Dim{{Value: 4}}}, // kept as is; the graph layer decides
	}
	for _, tc := range tests {
		v := vi[tc.name]
		if v == nil {
			t.Errorf("value_info %s missing", tc.name)
			continue
		}
		if v.DType != tc.dtype || v.HasShape != tc.hasShape || !reflect.DeepEqual(v.Dims, tc.dims) {
			t.Errorf("value_info %s = %+v, want %v %v %v", tc.name, v, tc.dtype, tc.hasShape, tc.dims)
		}
	}
}

// TestMergedMessages checks protobuf's rule that a singular message field
// given twice is merged: two graph fields make one graph.
func TestMergedMessages(t *testing.T) {
	data := cat(
		fVarint(1, 7),
		fBytes(7, cat(fStr(2, "first"), graphNode(node("a", "Relu", []string{"x"}, []string{"y"})))),
		fBytes(7, cat(fStr(2, "second"), graphNode(node("b", "Relu", []string{"y"}, []string{"z"})))),
	)
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Graph.Name != "second" || len(m.Graph.Nodes) != 2 {
		t.Errorf("graph %q with %d nodes, want \"second\" with 2", m.Graph.Name, len(m.Graph.Nodes))
	}
}

// truncatedNode is a node whose attribute field claims 10 bytes but holds 3.
func truncatedNode() []byte {
	b := cat(fStr(1, "x"), fStr(3, "Conv_3"), fStr(4, "Conv"))
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	b = protowire.AppendVarint(b, 10)
	return append(b, fStr(1, "a")...)
}

// conv1Weight is a [20,1,5,5] float32 tensor with only 100 bytes of raw_data.
func conv1Weight() []byte {
	return tensorProto("conv1.weight", dtFloat, []int64{20, 1, 5, 5}, fBytes(9, make([]byte, 100)))
}

func okInit(name string) []byte {
	return tensorProto(name, dtFloat, []int64{1}, fFloats(4, 1))
}

// cut drops the last n bytes of b.
func cut(b []byte, n int) []byte { return b[: len(b)-n : len(b)-n] }

type errorCase struct {
	name   string
	data   []byte
	tensor bool   // decode with DecodeTensor instead of Decode
	exact  string // the whole message, if set
	want   []string
}

func errorCases() []errorCase {
	constNode := func(t []byte) []byte {
		return graphNode(node("c", "Constant", nil, []string{"y"},
			cat(fStr(1, "value"), fBytes(5, t), fVarint(20, 4))))
	}
	endGroup := protowire.AppendTag(nil, 3, protowire.EndGroupType)
	overflow := append(protowire.AppendTag(nil, 1, protowire.VarintType), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)
	return []errorCase{
		{name: "empty input", data: []byte{}, exact: "onnx: empty input: no model"},
		{name: "no graph", data: cat(fVarint(1, 8), fStr(2, "x")),
			exact: "onnx: model has no graph (field 7); is this an ONNX model file?"},
		{name: "truncated node", data: model(graphNode(truncatedNode())),
			exact: `onnx: graph.node[0] (name "Conv_3"): truncated field 5 (attribute)`},
		{name: "truncated tag", data: cat(fVarint(1, 8), []byte{0x80}),
			exact: "onnx: truncated field tag"},
		{name: "truncated graph", data: cut(model(graphNode(node("a", "Relu", []string{"x"}, []string{"y"}))), 5),
			exact: "onnx: truncated field 7 (graph)"},
		{name: "truncated fixed32", data: model(graphNode(node("n", "LeakyRelu", nil, nil,
			cat(fStr(1, "alpha"), []byte{0x15, 0x01, 0x02})))),
			exact: `onnx: graph.node[0] (name "n").attribute[0] "alpha": truncated field 2 (f)`},
		{name: "wrong wire type op_type", data: model(graphNode(cat(fStr(3, "n"), fVarint(4, 1)))),
			exact: `onnx: graph.node[0] (name "n"): field 4 (op_type) has wire type varint, want bytes`},
		{name: "wrong wire type ir_version", data: cat(fStr(1, "8")),
			exact: "onnx: field 1 (ir_version) has wire type bytes, want varint"},
		{name: "wrong wire type graph", data: cat(fVarint(7, 1)),
			exact: "onnx: field 7 (graph) has wire type varint, want bytes"},
		{name: "wrong wire type float_data", data: modelWithInit(tensorProto("w", dtFloat, []int64{1}, fVarint(4, 1))),
			exact: `onnx: graph.initializer[0]: field 4 (float_data) has wire type varint, want fixed32 or bytes (packed)`},
		{name: "wrong wire type attribute f", data: model(graphNode(node("n", "Elu", nil, nil, cat(fStr(1, "alpha"), fDouble(2, 1))))),
			exact: `onnx: graph.node[0] (name "n").attribute[0] "alpha": field 2 (f) has wire type fixed64, want fixed32`},
		{name: "group at known field", data: model(graphNode(cat(fStr(3, "n"),
			protowire.AppendTag(nil, 4, protowire.StartGroupType), protowire.AppendTag(nil, 4, protowire.EndGroupType)))),
			exact: `onnx: graph.node[0] (name "n"): field 4 (op_type) has wire type start-group, want bytes`},
		{name: "stray end group", data: cat(fVarint(1, 8), endGroup),
			exact: "onnx: malformed field 3 (producer_version): mismatching end group marker"},
		{name: "field number zero", data: []byte{0x00, 0x01},
			exact: "onnx: malformed field tag: invalid field number"},
		{name: "varint overflow", data: overflow,
			exact: "onnx: malformed field 1 (ir_version): variable length integer overflow"},
		{name: "raw_data size mismatch", data: model(graphInit(okInit("a")), graphInit(okInit("b")), graphInit(okInit("c")), graphInit(conv1Weight())),
			exact: `onnx: graph.initializer[3] "conv1.weight": raw_data holds 100 bytes, want 2000 for float32 [20,1,5,5]`},
		{name: "float_data count mismatch", data: modelWithInit(tensorProto("b", dtFloat, []int64{2, 3}, packedFloats(4, 1, 2, 3, 4, 5))),
			exact: `onnx: graph.initializer[0] "b": float_data holds 5 values, want 6 for float32 [2,3]`},
		{name: "no data", data: modelWithInit(tensorProto("b", dtInt64, []int64{4})),
			exact: `onnx: graph.initializer[0] "b": tensor has no data (neither raw_data nor int64_data), want 4 values for int64 [4]`},
		{name: "int32_data count mismatch", data: modelWithInit(tensorProto("q", dtUint8, []int64{3}, packedVarints(5, 1))),
			exact: `onnx: graph.initializer[0] "q": int32_data holds 1 values, want 3 for uint8 [3]`},
		{name: "raw float16 odd length", data: modelWithInit(tensorProto("h", dtFloat16, []int64{2}, rawData(1, 2, 3))),
			exact: `onnx: graph.initializer[0] "h": raw_data holds 3 bytes, want 4 for float16 [2]`},
		{name: "packed float not multiple of 4", data: modelWithInit(tensorProto("w", dtFloat, []int64{1}, fBytes(4, []byte{1, 2, 3, 4, 5}))),
			exact: `onnx: graph.initializer[0]: packed field 4 (float_data) holds 5 bytes, not a multiple of 4`},
		{name: "external data", data: modelWithInit(cat(
			tensorProto("big.weight", dtFloat, []int64{1000, 1000}),
			fBytes(13, cat(fStr(1, "location"), fStr(2, "weights.bin"))),
			fBytes(13, cat(fStr(1, "offset"), fStr(2, "0"))),
			fVarint(14, 1))),
			want: []string{`onnx: graph.initializer[0] "big.weight": tensor data is stored in an external file (in "weights.bin"), which is not supported`,
				"save_as_external_data=False"}},
		{name: "data_location external only", data: modelWithInit(cat(tensorProto("w", dtFloat, []int64{2}), fVarint(14, 1))),
			want: []string{`graph.initializer[0] "w": tensor data is stored in an external file, which is not supported`}},
		{name: "external data in DecodeTensor", tensor: true, data: cat(tensorProto("w", dtFloat, []int64{2}), fBytes(13, fStr(1, "location"))),
			want: []string{`onnx: tensor "w": tensor data is stored in an external file`}},
		{name: "unsupported dtype string", data: modelWithInit(tensorProto("names", dtString, []int64{1}, fStr(6, "hello"))),
			exact: `onnx: graph.initializer[0] "names": data_type 8 (STRING) is not supported; supported types: ` +
				`FLOAT (1), FLOAT16 (10), DOUBLE (11), INT64 (7), INT32 (6), INT8 (3), UINT8 (2), BOOL (9)`},
		{name: "unsupported dtype bfloat16", data: modelWithInit(tensorProto("bf", dtBF16, []int64{1}, rawData(0, 0))),
			want: []string{`graph.initializer[0] "bf": data_type 16 (BFLOAT16) is not supported`}},
		{name: "unsupported dtype int16", data: modelWithInit(tensorProto("s", dtInt16, []int64{1}, packedVarints(5, 1))),
			want: []string{`graph.initializer[0] "s": data_type 5 (INT16) is not supported`}},
		{name: "unknown dtype", data: modelWithInit(tensorProto("u", 99, []int64{1}, rawData(0))),
			want: []string{`data_type 99 (unknown) is not supported`}},
		{name: "missing dtype", data: modelWithInit(cat(fVarint(1, 1), fFloats(4, 1), fStr(8, "nodtype"))),
			want: []string{`graph.initializer[0] "nodtype": data_type 0 (UNDEFINED) is not supported`}},
		{name: "unsupported dtype in attribute", data: model(constNode(tensorProto("cv", dtUint16, []int64{1}, packedVarints(5, 1)))),
			exact: `onnx: graph.node[0] (name "c").attribute[0] "value".t "cv": data_type 4 (UINT16) is not supported; supported types: ` +
				`FLOAT (1), FLOAT16 (10), DOUBLE (11), INT64 (7), INT32 (6), INT8 (3), UINT8 (2), BOOL (9)`},
		{name: "bad tensor in attribute", data: model(constNode(tensorProto("", dtFloat, []int64{2}, fFloats(4, 1)))),
			exact: `onnx: graph.node[0] (name "c").attribute[0] "value".t: float_data holds 1 values, want 2 for float32 [2]`},
		{name: "tensor attribute without tensor", data: model(graphNode(node("c", "Constant", nil, nil, cat(fStr(1, "value"), fVarint(20, 4))))),
			exact: `onnx: graph.node[0] (name "c").attribute[0] "value": attribute of type TENSOR has no tensor (field 5, t)`},
		{name: "negative dim", data: modelWithInit(tensorProto("n", dtFloat, []int64{2, -3}, fFloats(4, 1))),
			exact: `onnx: graph.initializer[0] "n": dims[1] = -3 is negative (dims [2,-3])`},
		{name: "dims product overflow", data: modelWithInit(tensorProto("o", dtFloat, []int64{1 << 32, 1 << 32, 1 << 32}, fFloats(4, 1))),
			exact: `onnx: graph.initializer[0] "o": dims [4294967296,4294967296,4294967296] describe more than 2^46 elements`},
		{name: "huge dim", data: modelWithInit(tensorProto("o", dtFloat, []int64{math.MaxInt64}, rawData(1, 2, 3, 4))),
			exact: `onnx: graph.initializer[0] "o": dims[0] = 9223372036854775807 is too large (dims [9223372036854775807])`},
		{name: "huge dims, little data", data: modelWithInit(tensorProto("o", dtFloat, []int64{1 << 20, 1 << 20}, rawData(1, 2, 3, 4))),
			exact: `onnx: graph.initializer[0] "o": raw_data holds 4 bytes, want 4398046511104 for float32 [1048576,1048576]`},
		{name: "int8 out of range", data: modelWithInit(tensorProto("q", dtInt8, []int64{2}, packedVarints(5, 1, 300))),
			exact: `onnx: graph.initializer[0] "q": int32_data[1] = 300 is out of range for int8`},
		{name: "uint8 negative", data: modelWithInit(tensorProto("q", dtUint8, []int64{1}, packedVarints(5, -1))),
			exact: `onnx: graph.initializer[0] "q": int32_data[0] = -1 is out of range for uint8`},
		{name: "float16 pattern out of range", data: modelWithInit(tensorProto("h", dtFloat16, []int64{1}, packedVarints(5, 0x10000))),
			exact: `onnx: graph.initializer[0] "h": int32_data[0] = 65536 is not a 16-bit float16 bit pattern`},
		{name: "raw_data and float_data", data: modelWithInit(tensorProto("w", dtFloat, []int64{1}, fFloats(4, 1), rawData(0, 0, 0, 0))),
			exact: `onnx: graph.initializer[0] "w": both raw_data and float_data are set`},
		{name: "wrong data field for dtype", data: modelWithInit(tensorProto("w", dtInt64, []int64{1}, fFloats(4, 1))),
			exact: `onnx: graph.initializer[0] "w": float_data is not valid for data_type 7 (INT64)`},
		{name: "segment", data: modelWithInit(tensorProto("w", dtFloat, []int64{1}, fFloats(4, 1), fBytes(3, cat(fVarint(1, 0), fVarint(2, 1))))),
			exact: `onnx: graph.initializer[0] "w": segmented tensors (field 3, segment) are not supported`},
		{name: "data_location unknown", data: modelWithInit(tensorProto("w", dtFloat, []int64{1}, fFloats(4, 1), fVarint(14, 5))),
			exact: `onnx: graph.initializer[0] "w": data_location = 5 is not supported (want 0, DEFAULT)`},
		{name: "ref_attr_name", data: model(graphNode(node("f", "LeakyRelu", []string{"x"}, []string{"y"},
			cat(fStr(1, "alpha"), fVarint(20, 1), fStr(21, "slope"))))),
			exact: `onnx: graph.node[0] (name "f").attribute[0] "alpha": refers to the enclosing function's attribute "slope" (ref_attr_name); ` +
				`attribute references are only valid inside ONNX functions and are not supported`},
		{name: "sparse initializer", data: model(fBytes(15, nil)),
			exact: "onnx: graph.sparse_initializer[0]: sparse initializers are not supported; convert them to dense initializers before importing the model"},
		{name: "conflicting opsets", data: cat(fBytes(8, cat(fStr(1, "ai.onnx"), fVarint(2, 11))), model()),
			exact: `onnx: opset_import[1]: domain "" imported twice, with versions 11 and 17`},
		{name: "node without name uses op_type", data: model(graphNode(cat(fStr(4, "Relu"), fVarint(1, 3)))),
			exact: `onnx: graph.node[0] (op_type "Relu"): field 1 (input) has wire type varint, want bytes`},
		{name: "bad value_info shape", data: model(fBytes(11, cat(fStr(1, "x"), fBytes(2, fBytes(1, fBytes(2, fBytes(1, fStr(1, "N")))))))),
			exact: `onnx: graph.input[0] "x".type.tensor_type.shape.dim[0]: field 1 (dim_value) has wire type bytes, want varint`},
		{name: "bad elem_type", data: model(fBytes(12, cat(fStr(1, "y"), fBytes(2, fBytes(1, fVarint(1, 1<<40)))))),
			exact: `onnx: graph.output[0] "y".type.tensor_type: field 1 (elem_type) = 1099511627776 does not fit in int32`},
		{name: "bad opset", data: cat(fBytes(8, fStr(2, "x")), model()),
			exact: `onnx: opset_import[0]: field 2 (version) has wire type bytes, want varint`},
		{name: "DecodeTensor truncated", tensor: true, data: cut(conv1Weight(), 20),
			want: []string{"onnx: tensor: truncated field 9 (raw_data)"}},
		{name: "DecodeTensor mismatch", tensor: true, data: conv1Weight(),
			exact: `onnx: tensor "conv1.weight": raw_data holds 100 bytes, want 2000 for float32 [20,1,5,5]`},
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.tensor {
				_, _, err = DecodeTensor(tc.data)
			} else {
				_, err = Decode(tc.data)
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if tc.exact != "" && msg != tc.exact {
				t.Errorf("error\n  %s\nwant\n  %s", msg, tc.exact)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n  %s\ndoes not contain\n  %s", msg, w)
				}
			}
			if !strings.HasPrefix(msg, "onnx: ") {
				t.Errorf("error %q does not start with \"onnx: \"", msg)
			}
		})
	}
}

// TestTruncatedModels cuts a real model at many points: every cut must give
// an error (or, at a field boundary, a consistent model), never a panic.
func TestTruncatedModels(t *testing.T) {
	data, err := os.ReadFile("../../data/mnist/lenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for cut := 0; cut < len(data); cut += 1 + cut/8 {
		m, err := Decode(data[:cut])
		if err != nil {
			failures++
			if !strings.HasPrefix(err.Error(), "onnx: ") {
				t.Fatalf("cut at %d: %v", cut, err)
			}
			continue
		}
		if err := checkModel(m); err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
	if failures == 0 {
		t.Error("no truncation was detected")
	}
	// The graph is the last big field, so cutting inside it is an error
	// that names it.
	_, err = Decode(data[:len(data)/2])
	if err == nil || !strings.Contains(err.Error(), "truncated field 7 (graph)") {
		t.Errorf("cut in half: %v", err)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.onnx")
	_, err := ReadFile(missing)
	if err == nil || !strings.HasPrefix(err.Error(), missing+": onnx: ") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, model(graphInit(conv1Weight())), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(bad)
	want := bad + `: onnx: graph.initializer[0] "conv1.weight": raw_data holds 100 bytes, want 2000 for float32 [20,1,5,5]`
	if err == nil || err.Error() != want {
		t.Errorf("bad file:\n  %v\nwant\n  %s", err, want)
	}

	text := filepath.Join(dir, "model.txt")
	if err := os.WriteFile(text, []byte("this is not a model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(text); err == nil || !strings.HasPrefix(err.Error(), text+": onnx: ") {
		t.Errorf("text file: %v", err)
	}
}
