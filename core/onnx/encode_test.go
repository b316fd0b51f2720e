package onnx

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/int8cal/int8cal/core/tensor"
)

// diffModels returns the first difference between two models, "" if they
// are deeply equal.
func diffModels(a, b *Model) string {
	if reflect.DeepEqual(a, b) {
		return ""
	}
	switch {
	case a.IRVersion != b.IRVersion || a.ProducerName != b.ProducerName || a.ProducerVersion != b.ProducerVersion:
		return fmt.Sprintf("header %d %q %q vs %d %q %q", a.IRVersion, a.ProducerName, a.ProducerVersion,
			b.IRVersion, b.ProducerName, b.ProducerVersion)
	case !reflect.DeepEqual(a.Opsets, b.Opsets):
		return fmt.Sprintf("opsets %v vs %v", a.Opsets, b.Opsets)
	}
	ga, gb := a.Graph, b.Graph
	if ga.Name != gb.Name {
		return fmt.Sprintf("graph name %q vs %q", ga.Name, gb.Name)
	}
	if len(ga.Nodes) != len(gb.Nodes) {
		return fmt.Sprintf("%d vs %d nodes", len(ga.Nodes), len(gb.Nodes))
	}
	for i := range ga.Nodes {
		if !reflect.DeepEqual(ga.Nodes[i], gb.Nodes[i]) {
			na, nb := ga.Nodes[i], gb.Nodes[i]
			if len(na.Attrs) == len(nb.Attrs) {
				for j := range na.Attrs {
					if !reflect.DeepEqual(na.Attrs[j], nb.Attrs[j]) {
						return fmt.Sprintf("node[%d] attribute[%d]: %+v vs %+v", i, j, *na.Attrs[j], *nb.Attrs[j])
					}
				}
			}
			return fmt.Sprintf("node[%d]: %+v vs %+v", i, *ga.Nodes[i], *gb.Nodes[i])
		}
	}
	if len(ga.Initializers) != len(gb.Initializers) {
		return fmt.Sprintf("%d vs %d initializers", len(ga.Initializers), len(gb.Initializers))
	}
	for i := range ga.Initializers {
		if !reflect.DeepEqual(ga.Initializers[i], gb.Initializers[i]) {
			return fmt.Sprintf("initializer[%d] %q differs", i, ga.Initializers[i].Name)
		}
	}
	for _, l := range []struct {
		what string
		a, b []*ValueInfo
	}{{"input", ga.Inputs, gb.Inputs}, {"output", ga.Outputs, gb.Outputs}, {"value_info", ga.ValueInfo, gb.ValueInfo}} {
		if !reflect.DeepEqual(l.a, l.b) {
			if len(l.a) != len(l.b) {
				return fmt.Sprintf("%d vs %d %s", len(l.a), len(l.b), l.what)
			}
			for i := range l.a {
				if !reflect.DeepEqual(l.a[i], l.b[i]) {
					return fmt.Sprintf("%s[%d]: %+v vs %+v", l.what, i, *l.a[i], *l.b[i])
				}
			}
		}
	}
	return "models differ"
}

// roundTrip checks Decode(Encode(m)) == m and that encoding is stable.
func roundTrip(t *testing.T, m *Model) *Model {
	t.Helper()
	data, err := Encode(m)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode(Encode(m)): %v", err)
	}
	if d := diffModels(m, back); d != "" {
		t.Fatalf("Decode(Encode(m)) != m: %s", d)
	}
	again, err := Encode(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Errorf("Encode(Decode(Encode(m))) differs from Encode(m): %d vs %d bytes", len(again), len(data))
	}
	return back
}

func TestEncodeRealModels(t *testing.T) {
	for _, path := range []string{
		"../../data/mnist/lenet.onnx",
		"../../testdata/models/resnet20.onnx",
		"../../testdata/models/mnist_zoo.onnx",
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			m, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, m)
		})
	}
}

// handModel builds a model that uses every attribute type the decoder
// keeps, every tensor element type, symbolic and unknown dims, scalars,
// empty tensors, omitted optional inputs and a custom domain.
func handModel() *Model {
	f16 := tensor.New(tensor.Float16, 3)
	f16.F32 = []float32{1.5, -0.099975586, 65504}
	f64 := tensor.New(tensor.Float64, 2)
	f64.F32 = []float32{math.Pi, -1e-30}
	i8 := &tensor.Tensor{DType: tensor.Int8, Shape: []int{4}, I64: []int64{-128, -1, 0, 127}}
	u8 := &tensor.Tensor{DType: tensor.Uint8, Shape: []int{2, 2}, I64: []int64{0, 1, 128, 255}}
	i32 := &tensor.Tensor{DType: tensor.Int32, Shape: []int{3}, I64: []int64{math.MinInt32, 0, math.MaxInt32}}
	i64 := tensor.FromInt64([]int64{math.MinInt64, -1, math.MaxInt64}, 3)
	bl := &tensor.Tensor{DType: tensor.Bool, Shape: []int{3}, I64: []int64{1, 0, 1}}
	scalar := &tensor.Tensor{DType: tensor.Float32, Shape: []int{}, F32: []float32{2.5}} // decoded scalars have an empty, non-nil shape
	empty := tensor.New(tensor.Float32, 0, 3)
	emptyI := tensor.New(tensor.Int64, 0)

	attrs := []*Attribute{
		{Name: "f", Type: AttrFloat, F: -0.25},
		{Name: "f0", Type: AttrFloat},
		{Name: "i", Type: AttrInt, I: -7},
		{Name: "i0", Type: AttrInt},
		{Name: "s", Type: AttrString, S: "NOTSET"},
		{Name: "s0", Type: AttrString},
		{Name: "t", Type: AttrTensor, T: tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)},
		{Name: "ti", Type: AttrTensor, T: &tensor.Tensor{DType: tensor.Int64, Shape: []int{}, I64: []int64{7}}},
		{Name: "floats", Type: AttrFloats, Floats: []float32{1, -2.5, float32(math.Inf(1))}},
		{Name: "floats0", Type: AttrFloats},
		{Name: "ints", Type: AttrInts, Ints: []int64{0, -1, math.MaxInt64, math.MinInt64}},
		{Name: "ints0", Type: AttrInts},
		{Name: "strings", Type: AttrStrings, Strings: []string{"a", "", "ü"}},
	}
	return &Model{
		IRVersion: 9, ProducerName: "int8cal", ProducerVersion: "test",
		Opsets: map[string]int64{"": 21, "com.microsoft": 1, "ai.onnx.ml": 3},
		Graph: &Graph{
			Name: "hand",
			Nodes: []*Node{
				{Name: "all_attrs", OpType: "Custom", Domain: "com.microsoft",
					Inputs: []string{"x", "", "w"}, Outputs: []string{"y", ""}, Attrs: attrs},
				{OpType: "Relu", Inputs: []string{"y"}, Outputs: []string{"z"}},
				{Name: "noio", OpType: "Constant", Outputs: []string{"c"},
					Attrs: []*Attribute{{Name: "value", Type: AttrTensor, T: i8}}},
			},
			Initializers: []*Initializer{
				{Name: "w", Tensor: tensor.FromFloat32([]float32{0, -0, 1e-45, math.MaxFloat32, -3.5, 42}, 2, 3)},
				{Name: "f16", Tensor: f16},
				{Name: "f64", Tensor: f64},
				{Name: "i8", Tensor: i8},
				{Name: "u8", Tensor: u8},
				{Name: "i32", Tensor: i32},
				{Name: "i64", Tensor: i64},
				{Name: "bool", Tensor: bl},
				{Name: "scalar", Tensor: scalar},
				{Name: "empty", Tensor: empty},
				{Name: "emptyI", Tensor: emptyI},
			},
			Inputs: []*ValueInfo{
				{Name: "x", DType: tensor.Float32, HasShape: true,
					Dims: []Dim{{Param: "N"}, {Value: 3}, {}, {Value: 5}}},
				{Name: "w", DType: tensor.Float32, HasShape: true, Dims: []Dim{{Value: 2}, {Value: 3}}},
			},
			Outputs: []*ValueInfo{
				{Name: "z", DType: tensor.Float32},                             // unknown rank
				{Name: "c", DType: tensor.Int8, HasShape: true, Dims: []Dim{}}, // scalar
			},
			ValueInfo: []*ValueInfo{
				{Name: "y", DType: tensor.Float16, HasShape: true, Dims: []Dim{{Param: "batch"}, {Value: 1 << 40}}},
				{Name: "seq"}, // not a tensor (a sequence, say): no type kept
				{Name: "notype", HasShape: true, Dims: []Dim{{Value: 2}}},
				{Name: "bf16", DType: tensor.DType(16)}, // a type the tensor package cannot hold
			},
		},
	}
}

func TestEncodeHandModel(t *testing.T) {
	m := handModel()
	back := roundTrip(t, m)
	n := back.Graph.Nodes[0]
	if got := n.Attr("f0"); got == nil || got.Type != AttrFloat {
		t.Errorf("zero FLOAT attribute lost: %+v", got)
	}
	if got := n.Attr("ints0"); got == nil || got.Type != AttrInts || got.Ints != nil {
		t.Errorf("empty INTS attribute: %+v", got)
	}
}

// TestEncodeOldModel: a model without opset_import, IR version or producer
// (IR version 1 style) round-trips without gaining any of them.
func TestEncodeOldModel(t *testing.T) {
	m := &Model{Opsets: map[string]int64{}, Graph: &Graph{
		Nodes:   []*Node{{OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
		Inputs:  []*ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true, Dims: []Dim{{Value: 1}}}},
		Outputs: []*ValueInfo{{Name: "y"}},
	}}
	roundTrip(t, m)
}

func TestEncodeErrors(t *testing.T) {
	base := func() *Model {
		return &Model{Opsets: map[string]int64{"": 13}, Graph: &Graph{
			Nodes: []*Node{{Name: "n0", OpType: "If", Inputs: []string{"c"}, Outputs: []string{"y"}}},
		}}
	}
	tests := []struct {
		name string
		edit func(m *Model)
		want string
	}{
		{"no graph", func(m *Model) { m.Graph = nil }, "model has no graph"},
		{"graph attr", func(m *Model) {
			m.Graph.Nodes[0].Attrs = []*Attribute{{Name: "then_branch", Type: AttrGraph, HasGraph: true}}
		}, `graph.node[0] (name "n0").attribute[0] "then_branch": attribute of type GRAPH cannot be encoded`},
		{"tensors attr", func(m *Model) {
			m.Graph.Nodes[0].Attrs = []*Attribute{{Name: "ts", Type: AttrTensors}}
		}, "TENSORS cannot be encoded"},
		{"tensor attr without tensor", func(m *Model) {
			m.Graph.Nodes[0].Attrs = []*Attribute{{Name: "value", Type: AttrTensor}}
		}, "has no tensor"},
		{"int8 out of range", func(m *Model) {
			m.Graph.Initializers = []*Initializer{{Name: "q", Tensor: &tensor.Tensor{DType: tensor.Int8, Shape: []int{2}, I64: []int64{1, 200}}}}
		}, `graph.initializer[0] "q": value [1] = 200 is out of range for int8`},
		{"uint8 negative", func(m *Model) {
			m.Graph.Initializers = []*Initializer{{Name: "q", Tensor: &tensor.Tensor{DType: tensor.Uint8, Shape: []int{1}, I64: []int64{-1}}}}
		}, "out of range for uint8"},
		{"length mismatch", func(m *Model) {
			m.Graph.Initializers = []*Initializer{{Name: "w", Tensor: &tensor.Tensor{DType: tensor.Float32, Shape: []int{2, 2}, F32: []float32{1}}}}
		}, "float32 [2,2] holds 1 float values, want 4"},
		{"unsupported dtype", func(m *Model) {
			m.Graph.Initializers = []*Initializer{{Name: "w", Tensor: &tensor.Tensor{DType: tensor.DType(16), Shape: []int{}}}}
		}, "cannot be encoded; supported types"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(m)
			_, err := Encode(m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Encode error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	m := handModel()
	if err := WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffModels(m, back); d != "" {
		t.Fatal(d)
	}
	// A failed encoding leaves the existing file alone.
	bad := handModel()
	bad.Graph = nil
	if err := WriteFile(path, bad); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Fatalf("WriteFile of a bad model: %v, want an error starting with the path", err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatalf("file damaged by a failed write: %v", err)
	}
	// An unwritable directory is reported with the path.
	err = WriteFile(filepath.Join(dir, "missing", "m.onnx"), m)
	if err == nil || !strings.Contains(err.Error(), "cannot write model") {
		t.Fatalf("WriteFile into a missing directory: %v", err)
	}
}
