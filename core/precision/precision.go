// Package precision names the arithmetic a model runs in — FP32, FP16 or
// INT8 — once for every backend (core/engine, core/cuda, core/tensorrt)
// and for the command line, with one parser and one printed form.
package precision

import (
	"fmt"
	"strings"
)

// Precision is the arithmetic a model runs in.
type Precision int

const (
	// FP32 computes and stores everything in float32.
	FP32 Precision = iota
	// FP16 stores tensors as IEEE binary16 and accumulates in float32,
	// as TensorRT's FP16 kernels do.
	FP16
	// INT8 runs the layers whose input has a calibrated scale with int8
	// operands and int32 accumulation; the rest stays in float.
	INT8
)

// String is the sample's spelling: "FP32", "FP16", "INT8".
func (p Precision) String() string {
	switch p {
	case FP32:
		return "FP32"
	case FP16:
		return "FP16"
	case INT8:
		return "INT8"
	}
	return fmt.Sprintf("precision(%d)", int(p))
}

// Parse reads a precision's name in any case ("fp32", "FP32"), surrounding
// spaces ignored.
func Parse(s string) (Precision, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "fp32":
		return FP32, nil
	case "fp16":
		return FP16, nil
	case "int8":
		return INT8, nil
	}
	return 0, fmt.Errorf("%q unknown (fp32, fp16, int8)", s)
}

// ParseList reads a comma-separated list of precisions, in order.
func ParseList(s string) ([]Precision, error) {
	var out []Precision
	for _, name := range strings.Split(s, ",") {
		p, err := Parse(name)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
