package onnx

import (
	"fmt"

	"github.com/int8cal/int8cal/core/tensor"
)

// Model is a decoded onnx.ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	// Opsets maps an operator set domain to the version the model imports.
	// The default ai.onnx domain is the key "" (a model that spells it
	// "ai.onnx" is normalised). The map is never nil; it is empty for old
	// models (IR version 1 and 2) that predate opset_import.
	Opsets map[string]int64
	Graph  *Graph
}

// Graph is a decoded onnx.GraphProto.
type Graph struct {
	Name  string
	Nodes []*Node
	// Initializers are the graph's constant tensors, in file order. Models
	// written for IR version 3 and below also list every initializer among
	// Inputs; later ones usually do not.
	Initializers []*Initializer
	Inputs       []*ValueInfo
	Outputs      []*ValueInfo
	ValueInfo    []*ValueInfo
}

// Initializer is a named constant tensor of the graph.
type Initializer struct {
	Name   string
	Tensor *tensor.Tensor
}

// ValueInfo describes a graph input, output or intermediate value.
type ValueInfo struct {
	Name string
	// DType is the tensor element type, 0 if absent or if the value is not a
	// tensor (a sequence, map or optional). It may be a type the tensor
	// package does not support; the decoder keeps the number as it is.
	DType tensor.DType
	// Dims is the shape, nil if the shape is absent (unknown rank). A
	// scalar has a present, empty shape: HasShape is true and Dims is empty.
	Dims     []Dim
	HasShape bool
}

// Dim is one dimension of a ValueInfo shape. A fixed dimension has
// Value > 0 and no Param. A symbolic dimension such as a batch size "N" has
// Param set; a dimension with Value <= 0 and no Param is unknown. (ONNX
// does not distinguish an absent dim_value from dim_value 0, so a
// zero-sized dimension reads as unknown too.)
type Dim struct {
	Value int64
	Param string
}

// Known reports whether the dimension has a fixed size (Value > 0, no
// Param).
func (d Dim) Known() bool { return d.Param == "" && d.Value > 0 }

// String formats the dimension as its value, its parameter name, or "?".
func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Value > 0:
		return fmt.Sprint(d.Value)
	}
	return "?"
}

// Node is a decoded onnx.NodeProto: one operator application.
type Node struct {
	Name   string
	OpType string
	// Domain is the operator set domain, "" for the default ai.onnx domain
	// ("ai.onnx" is normalised to "").
	Domain string
	// Inputs and Outputs are value names in order. An empty string stands
	// for an omitted optional input or output and is kept, since the
	// position of every later name matters.
	Inputs  []string
	Outputs []string
	Attrs   []*Attribute
}

// Attr returns the attribute with the given name, or nil if the node has
// none.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttrInt returns the INT attribute name, or def when it is absent.
func (n *Node) AttrInt(name string, def int64) int64 {
	if a := n.Attr(name); a != nil {
		return a.I
	}
	return def
}

// AttrFloat returns the FLOAT attribute name, or def when it is absent.
func (n *Node) AttrFloat(name string, def float32) float32 {
	if a := n.Attr(name); a != nil {
		return a.F
	}
	return def
}

// AttrType is an ONNX AttributeProto.AttributeType value.
type AttrType int32

// The attribute types, numbered as in onnx.proto. Only FLOAT through
// STRINGS carry values in Attribute; GRAPH and GRAPHS set HasGraph; the
// others are kept with their type and no value so that the graph layer can
// report them as unsupported.
const (
	AttrUndefined     AttrType = 0
	AttrFloat         AttrType = 1
	AttrInt           AttrType = 2
	AttrString        AttrType = 3
	AttrTensor        AttrType = 4
	AttrGraph         AttrType = 5
	AttrFloats        AttrType = 6
	AttrInts          AttrType = 7
	AttrStrings       AttrType = 8
	AttrTensors       AttrType = 9
	AttrGraphs        AttrType = 10
	AttrSparseTensor  AttrType = 11
	AttrSparseTensors AttrType = 12
	AttrTypeProto     AttrType = 13
	AttrTypeProtos    AttrType = 14
)

var attrTypeNames = [...]string{
	"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
	"STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
	"TYPE_PROTO", "TYPE_PROTOS",
}

// String returns the ONNX name of the type, e.g. "INTS".
func (t AttrType) String() string {
	if t >= 0 && int(t) < len(attrTypeNames) {
		return attrTypeNames[t]
	}
	return fmt.Sprintf("AttrType(%d)", int32(t))
}

// Attribute is a decoded onnx.AttributeProto. Type says which value field
// is meaningful: F for FLOAT, I for INT, S for STRING, T for TENSOR,
// Floats, Ints and Strings for the list types.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *tensor.Tensor
	Floats  []float32
	Ints    []int64
	Strings []string
	// HasGraph reports that the attribute held a graph (GRAPH or GRAPHS,
	// the body of a control-flow operator). Subgraphs are not decoded.
	HasGraph bool
}
