package onnx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// decodeError is the error type of the package. path runs from the model
// down to the value at fault, outermost first; it is filled in as the error
// travels up through the decoders.
type decodeError struct {
	path []string
	msg  string
	err  error // underlying cause, if any
}

func (e *decodeError) Error() string {
	if len(e.path) == 0 {
		return "onnx: " + e.msg
	}
	return "onnx: " + strings.Join(e.path, ".") + ": " + e.msg
}

func (e *decodeError) Unwrap() error { return e.err }

func errorf(format string, args ...any) error {
	return &decodeError{msg: fmt.Sprintf(format, args...)}
}

// within prefixes the path of err (a *decodeError) with seg.
func within(err error, seg string) error {
	var de *decodeError
	if !errors.As(err, &de) {
		return &decodeError{path: []string{seg}, msg: err.Error(), err: err}
	}
	de.path = append([]string{seg}, de.path...)
	return de
}

// fieldNames names the fields of one message type, for error messages.
type fieldNames map[protowire.Number]string

// field is one decoded wire field. Exactly one of u (varint, fixed32,
// fixed64) and b (bytes) is meaningful, according to typ.
type field struct {
	num  protowire.Number
	typ  protowire.Type
	name string // from fieldNames, "" for unknown fields
	u    uint64
	b    []byte
}

// label names the field in messages: `field 4 (op_type)`.
func (f *field) label() string {
	if f.name == "" {
		return fmt.Sprintf("field %d", f.num)
	}
	return fmt.Sprintf("field %d (%s)", f.num, f.name)
}

func wireTypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "bytes"
	case protowire.StartGroupType:
		return "start-group"
	case protowire.EndGroupType:
		return "end-group"
	}
	return fmt.Sprintf("wire type %d", t)
}

// wireError turns a negative protowire length into a message.
func wireError(n int, what string) error {
	err := protowire.ParseError(n)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &decodeError{msg: "truncated " + what, err: err}
	default:
		// protowire's messages read "proto:" and a (non-breaking) space
		// before the text; the prefix adds nothing here.
		msg := err.Error()
		if rest, ok := strings.CutPrefix(msg, "proto:"); ok {
			msg = strings.TrimLeft(rest, " \u00a0")
		}
		return &decodeError{msg: fmt.Sprintf("malformed %s: %s", what, msg), err: err}
	}
}

// forEachField decodes the fields of a message in order and calls fn for
// each. Groups (a deprecated encoding ONNX never uses) are skipped whole and
// passed to fn with wire type StartGroupType and no value, so a known field
// number reports a wrong wire type and an unknown one is ignored.
func forEachField(b []byte, names fieldNames, fn func(f *field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return wireError(n, "field tag")
		}
		b = b[n:]
		f := field{num: num, typ: typ, name: names[num]}
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		case protowire.Fixed64Type:
			f.u, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return wireError(n, f.label())
		}
		b = b[n:]
		if err := fn(&f); err != nil {
			return err
		}
	}
	return nil
}

func (f *field) wrongType(want string) error {
	return errorf("%s has wire type %s, want %s", f.label(), wireTypeName(f.typ), want)
}

func (f *field) want(t protowire.Type) error {
	if f.typ != t {
		return f.wrongType(wireTypeName(t))
	}
	return nil
}

// message returns the bytes of an embedded message field.
func (f *field) message() ([]byte, error) {
	if err := f.want(protowire.BytesType); err != nil {
		return nil, err
	}
	return f.b, nil
}

func (f *field) str() (string, error) {
	if err := f.want(protowire.BytesType); err != nil {
		return "", err
	}
	return string(f.b), nil
}

// int64v returns an int64 or int32 varint field (negative int32 values are
// sign-extended to 64 bits on the wire, so the conversion serves both).
func (f *field) int64v() (int64, error) {
	if err := f.want(protowire.VarintType); err != nil {
		return 0, err
	}
	return int64(f.u), nil
}

// int32v returns an int32 (or enum) varint field.
func (f *field) int32v() (int32, error) {
	v, err := f.int64v()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, errorf("%s = %d does not fit in int32", f.label(), v)
	}
	return int32(v), nil
}

func (f *field) float32v() (float32, error) {
	if err := f.want(protowire.Fixed32Type); err != nil {
		return 0, err
	}
	return math.Float32frombits(uint32(f.u)), nil
}

// appendVarints appends a repeated varint field, packed or not, converted
// to T (int64 fields, and int32 fields which protobuf also encodes as
// varints).
func appendVarints[T int32 | int64](f *field, dst []T) ([]T, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, T(f.u)), nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, wireError(n, "packed "+f.label())
			}
			dst = append(dst, T(v))
			b = b[n:]
		}
		return dst, nil
	}
	return dst, f.wrongType("varint or bytes (packed)")
}

// appendFloats appends a repeated float field, packed or not.
func (f *field) appendFloats(dst []float32) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.u))), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return dst, errorf("packed %s holds %d bytes, not a multiple of 4", f.label(), len(f.b))
		}
		dst = growFloat32(dst, len(f.b)/4)
		for b := f.b; len(b) > 0; b = b[4:] {
			v, _ := protowire.ConsumeFixed32(b)
			dst = append(dst, math.Float32frombits(v))
		}
		return dst, nil
	}
	return dst, f.wrongType("fixed32 or bytes (packed)")
}

// appendDoubles appends a repeated double field, packed or not.
func (f *field) appendDoubles(dst []float64) ([]float64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(f.u)), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return dst, errorf("packed %s holds %d bytes, not a multiple of 8", f.label(), len(f.b))
		}
		if dst == nil {
			dst = make([]float64, 0, len(f.b)/8)
		}
		for b := f.b; len(b) > 0; b = b[8:] {
			v, _ := protowire.ConsumeFixed64(b)
			dst = append(dst, math.Float64frombits(v))
		}
		return dst, nil
	}
	return dst, f.wrongType("fixed64 or bytes (packed)")
}

func growFloat32(s []float32, n int) []float32 {
	if cap(s)-len(s) >= n {
		return s
	}
	t := make([]float32, len(s), len(s)+n)
	copy(t, s)
	return t
}

// mergeMessage implements protobuf's rule that a singular message field
// seen more than once is merged: decoding the concatenation of the
// occurrences gives the merged message.
func mergeMessage(prev, b []byte) []byte {
	if prev == nil {
		return b
	}
	out := make([]byte, 0, len(prev)+len(b))
	return append(append(out, prev...), b...)
}
