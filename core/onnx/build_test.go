package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Helpers that build protobuf wire bytes by hand for the tests. Each
// returns one encoded field (tag and value); cat joins fields into a
// message body.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

func fBytes(num protowire.Number, v []byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func fStr(num protowire.Number, s string) []byte { return fBytes(num, []byte(s)) }

func fVarint(num protowire.Number, v int64) []byte {
	b := protowire.AppendTag(nil, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func fFloat(num protowire.Number, f float32) []byte {
	b := protowire.AppendTag(nil, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(f))
}

func fDouble(num protowire.Number, f float64) []byte {
	b := protowire.AppendTag(nil, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(f))
}

// Repeated fields, unpacked: one field per value.

func fVarints(num protowire.Number, vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, fVarint(num, v)...)
	}
	return b
}

func fFloats(num protowire.Number, vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, fFloat(num, v)...)
	}
	return b
}

func fDoubles(num protowire.Number, vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, fDouble(num, v)...)
	}
	return b
}

// Repeated fields, packed into one bytes field.

func packedVarints(num protowire.Number, vs ...int64) []byte {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, uint64(v))
	}
	return fBytes(num, p)
}

func packedFloats(num protowire.Number, vs ...float32) []byte {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendFixed32(p, math.Float32bits(v))
	}
	return fBytes(num, p)
}

func packedDoubles(num protowire.Number, vs ...float64) []byte {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendFixed64(p, math.Float64bits(v))
	}
	return fBytes(num, p)
}

// unknownFields holds one field of every wire type under numbers ONNX does
// not use, which every decoder must skip.
func unknownFields() []byte {
	group := protowire.AppendTag(nil, 1001, protowire.StartGroupType)
	group = append(group, fVarint(1, 5)...)
	group = protowire.AppendTag(group, 1001, protowire.EndGroupType)
	return cat(fVarint(999, 7), fFloat(998, 1.5), fDouble(997, 2.5), fStr(996, "junk"), group)
}

// Message builders. The field numbers are those of onnx.proto.

// tensorProto builds a TensorProto with the given name, data_type and dims
// (unpacked, as the ONNX Python writer does) followed by data fields.
func tensorProto(name string, dtype int64, dims []int64, data ...[]byte) []byte {
	return cat(fVarints(1, dims...), fVarint(2, dtype), cat(data...), fStr(8, name))
}

func rawData(b ...byte) []byte { return fBytes(9, b) }

// valueInfo builds a ValueInfoProto of a tensor with a shape; a dim is an
// int64 value or a string parameter.
func valueInfo(name string, elem int64, dims ...any) []byte {
	var shape []byte
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			shape = append(shape, fBytes(1, fVarint(1, int64(d)))...)
		case string:
			shape = append(shape, fBytes(1, fStr(2, d))...)
		case nil:
			shape = append(shape, fBytes(1, nil)...)
		}
	}
	tt := cat(fVarint(1, elem), fBytes(2, shape))
	return cat(fStr(1, name), fBytes(2, fBytes(1, tt)))
}

// node builds a NodeProto.
func node(name, op string, inputs, outputs []string, attrs ...[]byte) []byte {
	var b []byte
	for _, s := range inputs {
		b = append(b, fStr(1, s)...)
	}
	for _, s := range outputs {
		b = append(b, fStr(2, s)...)
	}
	b = append(b, fStr(3, name)...)
	b = append(b, fStr(4, op)...)
	for _, a := range attrs {
		b = append(b, fBytes(5, a)...)
	}
	return b
}

// model wraps graph body fields in ModelProto.graph behind a header (IR 8,
// ai.onnx opset 17).
func model(graphFields ...[]byte) []byte {
	return cat(fVarint(1, 8), fStr(2, "test"), fStr(3, "0.1"),
		fBytes(8, cat(fStr(1, ""), fVarint(2, 17))),
		fBytes(7, cat(graphFields...)))
}

// graphInit wraps a TensorProto as a GraphProto.initializer field.
func graphInit(t []byte) []byte { return fBytes(5, t) }

// graphNode wraps a NodeProto as a GraphProto.node field.
func graphNode(n []byte) []byte { return fBytes(1, n) }

// modelWithInit is a minimal model whose graph holds one initializer.
func modelWithInit(t []byte) []byte {
	return model(fStr(2, "g"), graphInit(t))
}
