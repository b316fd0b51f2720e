package onnx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/int8cal/int8cal/core/tensor"
	"google.golang.org/protobuf/encoding/protowire"
)

var modelFields = fieldNames{
	1: "ir_version", 2: "producer_name", 3: "producer_version", 4: "domain",
	5: "model_version", 6: "doc_string", 7: "graph", 8: "opset_import",
}

var opsetFields = fieldNames{1: "domain", 2: "version"}

var graphFields = fieldNames{
	1: "node", 2: "name", 5: "initializer", 10: "doc_string", 11: "input",
	12: "output", 13: "value_info", 15: "sparse_initializer",
}

var nodeFields = fieldNames{
	1: "input", 2: "output", 3: "name", 4: "op_type", 5: "attribute",
	6: "doc_string", 7: "domain",
}

var attrFields = fieldNames{
	1: "name", 2: "f", 3: "i", 4: "s", 5: "t", 6: "g", 7: "floats", 8: "ints",
	9: "strings", 10: "tensors", 11: "graphs", 13: "doc_string", 14: "tp",
	15: "type_protos", 20: "type", 21: "ref_attr_name", 22: "sparse_tensor",
	23: "sparse_tensors",
}

var valueInfoFields = fieldNames{1: "name", 2: "type", 3: "doc_string"}

var typeFields = fieldNames{
	1: "tensor_type", 4: "sequence_type", 5: "map_type", 6: "denotation",
	8: "sparse_tensor_type", 9: "optional_type",
}

var tensorTypeFields = fieldNames{1: "elem_type", 2: "shape"}

var shapeFields = fieldNames{1: "dim"}

var dimFields = fieldNames{1: "dim_value", 2: "dim_param", 3: "denotation"}

// normDomain maps the default operator set's two spellings to "".
func normDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

// ReadFile reads and decodes an ONNX model file. Its errors start with the
// path, as in "<path>: onnx: graph.node[7] (name "Conv_3"): truncated field 5 (attribute)".
func ReadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: onnx: cannot read model: %w", path, err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode decodes a serialized onnx.ModelProto. It fails if the model has no
// graph, if any part of the wire data is malformed, or if an initializer or
// tensor attribute cannot be represented as a tensor.Tensor.
func Decode(data []byte) (*Model, error) {
	m := &Model{Opsets: map[string]int64{}}
	var graph []byte
	hasGraph := false
	opsetIndex := 0
	err := forEachField(data, modelFields, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			m.IRVersion, err = f.int64v()
		case 2:
			m.ProducerName, err = f.str()
		case 3:
			m.ProducerVersion, err = f.str()
		case 7:
			var b []byte
			if b, err = f.message(); err == nil {
				graph = mergeMessage(graph, b)
				hasGraph = true
			}
		case 8:
			var b []byte
			if b, err = f.message(); err != nil {
				return err
			}
			if err = m.addOpset(b); err != nil {
				err = within(err, fmt.Sprintf("opset_import[%d]", opsetIndex))
			}
			opsetIndex++
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !hasGraph {
		if len(data) == 0 {
			return nil, errorf("empty input: no model")
		}
		return nil, errorf("model has no graph (field 7); is this an ONNX model file?")
	}
	if m.Graph, err = decodeGraph(graph); err != nil {
		return nil, within(err, "graph")
	}
	return m, nil
}

func (m *Model) addOpset(b []byte) error {
	var domain string
	var version int64
	err := forEachField(b, opsetFields, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			domain, err = f.str()
		case 2:
			version, err = f.int64v()
		}
		return err
	})
	if err != nil {
		return err
	}
	domain = normDomain(domain)
	if old, ok := m.Opsets[domain]; ok && old != version {
		return errorf("domain %q imported twice, with versions %d and %d", domain, old, version)
	}
	m.Opsets[domain] = version
	return nil
}

func decodeGraph(b []byte) (*Graph, error) {
	g := &Graph{}
	err := forEachField(b, graphFields, func(f *field) error {
		var err error
		var m []byte
		switch f.num {
		case 2:
			g.Name, err = f.str()
			return err
		case 1, 5, 11, 12, 13, 15:
			if m, err = f.message(); err != nil {
				return err
			}
		default:
			return nil
		}
		switch f.num {
		case 1:
			i := len(g.Nodes)
			n, err := decodeNode(m)
			if err != nil {
				return within(err, nodeSeg(i, n))
			}
			g.Nodes = append(g.Nodes, n)
		case 5:
			i := len(g.Initializers)
			t, name, err := decodeTensor(m)
			if err != nil {
				return within(err, tensorSeg("initializer", i, name))
			}
			g.Initializers = append(g.Initializers, &Initializer{Name: name, Tensor: t})
		case 11, 12, 13:
			var list *[]*ValueInfo
			var what string
			switch f.num {
			case 11:
				list, what = &g.Inputs, "input"
			case 12:
				list, what = &g.Outputs, "output"
			default:
				list, what = &g.ValueInfo, "value_info"
			}
			v, err := decodeValueInfo(m)
			if err != nil {
				return within(err, tensorSeg(what, len(*list), v.Name))
			}
			*list = append(*list, v)
		case 15:
			return within(errorf("sparse initializers are not supported; "+
				"convert them to dense initializers before importing the model"), "sparse_initializer[0]")
		}
		return nil
	})
	return g, err
}

// nodeSeg formats a path segment such as `node[7] (name "Conv_3")`, using
// whatever of the node was decoded before an error.
func nodeSeg(i int, n *Node) string {
	seg := fmt.Sprintf("node[%d]", i)
	switch {
	case n == nil:
	case n.Name != "":
		seg += fmt.Sprintf(" (name %q)", n.Name)
	case n.OpType != "":
		seg += fmt.Sprintf(" (op_type %q)", n.OpType)
	}
	return seg
}

// decodeNode decodes a NodeProto. On error it returns the part decoded so
// far, for the error message.
func decodeNode(b []byte) (*Node, error) {
	n := &Node{}
	err := forEachField(b, nodeFields, func(f *field) error {
		var err error
		switch f.num {
		case 1, 2:
			var s string
			if s, err = f.str(); err != nil {
				return err
			}
			if f.num == 1 {
				n.Inputs = append(n.Inputs, s)
			} else {
				n.Outputs = append(n.Outputs, s)
			}
		case 3:
			n.Name, err = f.str()
		case 4:
			n.OpType, err = f.str()
		case 7:
			var d string
			d, err = f.str()
			n.Domain = normDomain(d)
		case 5:
			var m []byte
			if m, err = f.message(); err != nil {
				return err
			}
			i := len(n.Attrs)
			a, err := decodeAttribute(m)
			if err != nil {
				return within(err, tensorSeg("attribute", i, a.Name))
			}
			n.Attrs = append(n.Attrs, a)
		}
		return err
	})
	return n, err
}

// decodeAttribute decodes an AttributeProto. On error it returns the part
// decoded so far, for the error message.
func decodeAttribute(b []byte) (*Attribute, error) {
	a := &Attribute{}
	var t []byte
	var hasT bool
	var refAttr string
	var hasRef bool
	var present [24]bool // which value fields were present, for old models without type
	err := forEachField(b, attrFields, func(f *field) error {
		var err error
		if int(f.num) < len(present) {
			present[f.num] = true
		}
		switch f.num {
		case 1:
			a.Name, err = f.str()
		case 2:
			a.F, err = f.float32v()
		case 3:
			a.I, err = f.int64v()
		case 4:
			a.S, err = f.str()
		case 5:
			var m []byte
			if m, err = f.message(); err == nil {
				t = mergeMessage(t, m)
				hasT = true
			}
		case 6, 11:
			if err = f.want(protowire.BytesType); err == nil {
				a.HasGraph = true
			}
		case 7:
			a.Floats, err = f.appendFloats(a.Floats)
		case 8:
			a.Ints, err = appendVarints(f, a.Ints)
		case 9:
			var s string
			if s, err = f.str(); err == nil {
				a.Strings = append(a.Strings, s)
			}
		case 20:
			var v int32
			v, err = f.int32v()
			a.Type = AttrType(v)
		case 21:
			refAttr, err = f.str()
			hasRef = true
		}
		return err
	})
	if err != nil {
		return a, err
	}
	if hasRef {
		return a, errorf("refers to the enclosing function's attribute %q (ref_attr_name); "+
			"attribute references are only valid inside ONNX functions and are not supported", refAttr)
	}
	if a.Type == AttrUndefined {
		a.Type = inferAttrType(present[:])
	}
	if hasT {
		tt, name, err := decodeTensor(t)
		if err != nil {
			return a, within(err, tensorSeg("t", -1, name))
		}
		a.T = tt
	}
	if a.Type == AttrTensor && a.T == nil {
		return a, errorf("attribute of type TENSOR has no tensor (field 5, t)")
	}
	return a, nil
}

// inferAttrType guesses the type of an attribute from IR version 1, which
// had no type field, from the value field that is present.
func inferAttrType(present []bool) AttrType {
	for _, c := range []struct {
		num int
		t   AttrType
	}{
		{2, AttrFloat}, {3, AttrInt}, {4, AttrString}, {5, AttrTensor}, {6, AttrGraph},
		{7, AttrFloats}, {8, AttrInts}, {9, AttrStrings}, {10, AttrTensors}, {11, AttrGraphs},
		{22, AttrSparseTensor}, {23, AttrSparseTensors}, {14, AttrTypeProto}, {15, AttrTypeProtos},
	} {
		if present[c.num] {
			return c.t
		}
	}
	return AttrUndefined
}

// decodeValueInfo decodes a ValueInfoProto. On error it returns the part
// decoded so far, for the error message.
func decodeValueInfo(b []byte) (*ValueInfo, error) {
	v := &ValueInfo{}
	var typ []byte
	err := forEachField(b, valueInfoFields, func(f *field) error {
		var err error
		switch f.num {
		case 1:
			v.Name, err = f.str()
		case 2:
			var m []byte
			if m, err = f.message(); err == nil {
				typ = mergeMessage(typ, m)
			}
		}
		return err
	})
	if err != nil {
		return v, err
	}
	if typ == nil {
		return v, nil
	}
	err = forEachField(typ, typeFields, func(f *field) error {
		if f.num != 1 {
			return nil // sequence, map, optional, sparse: not a dense tensor
		}
		m, err := f.message()
		if err != nil {
			return err
		}
		if err := decodeTensorType(v, m); err != nil {
			return within(err, "tensor_type")
		}
		return nil
	})
	if err != nil {
		return v, within(err, "type")
	}
	return v, nil
}

func decodeTensorType(v *ValueInfo, b []byte) error {
	return forEachField(b, tensorTypeFields, func(f *field) error {
		switch f.num {
		case 1:
			dt, err := f.int32v()
			v.DType = tensor.DType(dt)
			return err
		case 2:
			m, err := f.message()
			if err != nil {
				return err
			}
			if v.Dims == nil {
				v.Dims = []Dim{}
			}
			v.HasShape = true
			err = forEachField(m, shapeFields, func(f *field) error {
				if f.num != 1 {
					return nil
				}
				m, err := f.message()
				if err != nil {
					return err
				}
				var d Dim
				err = forEachField(m, dimFields, func(f *field) error {
					var err error
					switch f.num {
					case 1:
						d.Value, err = f.int64v()
					case 2:
						d.Param, err = f.str()
					}
					return err
				})
				if err != nil {
					return within(err, fmt.Sprintf("dim[%d]", len(v.Dims)))
				}
				v.Dims = append(v.Dims, d)
				return nil
			})
			if err != nil {
				return within(err, "shape")
			}
		}
		return nil
	})
}
