package ops

import (
	"fmt"

	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

// window holds the sliding-window geometry shared by Conv and the pooling
// operators, for two spatial dimensions (a 1-D operator is run as 2-D with
// height 1).
type window struct {
	kernel    [2]int
	stride    [2]int
	dilation  [2]int
	padBegin  [2]int
	padEnd    [2]int
	autoPad   string
	ceilMode  bool
	explicitK bool // kernel_shape given as an attribute
	rank      int  // number of spatial dims in the model (1 or 2), 0 until known
}

func readWindow(n *onnx.Node, needKernel bool) (*window, error) {
	w := &window{autoPad: attrString(n, "auto_pad", "NOTSET"), ceilMode: attrInt(n, "ceil_mode", 0) != 0}
	switch w.autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return nil, fmt.Errorf("auto_pad %q not supported", w.autoPad)
	}
	k := attrInts(n, "kernel_shape")
	if needKernel && k == nil {
		return nil, fmt.Errorf("kernel_shape is required")
	}
	rank := len(k)
	check := func(name string, v []int) error {
		if v != nil && rank != 0 && len(v) != rank {
			return fmt.Errorf("%s has %d values, kernel_shape has %d", name, len(v), rank)
		}
		if rank == 0 {
			rank = len(v)
		}
		return nil
	}
	s, d, p := attrInts(n, "strides"), attrInts(n, "dilations"), attrInts(n, "pads")
	for _, c := range []struct {
		name string
		v    []int
	}{{"strides", s}, {"dilations", d}} {
		if err := check(c.name, c.v); err != nil {
			return nil, err
		}
	}
	if p != nil {
		if rank == 0 {
			rank = len(p) / 2
		}
		if len(p) != 2*rank {
			return nil, fmt.Errorf("pads has %d values, want %d", len(p), 2*rank)
		}
	}
	if rank > 2 {
		return nil, fmt.Errorf("%d-D windows not supported (1-D and 2-D only)", rank)
	}
	w.rank = rank
	w.explicitK = k != nil
	for i := 0; i < 2; i++ {
		w.kernel[i], w.stride[i], w.dilation[i] = 1, 1, 1
	}
	// Right-align 1-D parameters onto the width axis.
	off := 2 - rank
	for i := 0; i < rank; i++ {
		if k != nil {
			w.kernel[off+i] = k[i]
		}
		if s != nil {
			w.stride[off+i] = s[i]
		}
		if d != nil {
			w.dilation[off+i] = d[i]
		}
		if p != nil {
			w.padBegin[off+i] = p[i]
			w.padEnd[off+i] = p[rank+i]
		}
	}
	for i := 0; i < 2; i++ {
		if w.kernel[i] < 1 || w.stride[i] < 1 || w.dilation[i] < 1 || w.padBegin[i] < 0 || w.padEnd[i] < 0 {
			return nil, fmt.Errorf("kernel, strides and dilations must be positive and pads non-negative")
		}
		// Bounded so that the window arithmetic in geometry cannot
		// overflow (sums of a few such values and of a dimension).
		if max(w.kernel[i], w.stride[i], w.dilation[i], w.padBegin[i], w.padEnd[i]) > tensor.MaxElements {
			return nil, fmt.Errorf("kernel %v, strides %v, dilations %v or pads %v exceed %d, the most elements a tensor may have",
				k, s, d, p, tensor.MaxElements)
		}
	}
	return w, nil
}

// geometry resolves padding and output size for input extent in[i] in each
// spatial dimension. It returns a copy with resolved pads and the output
// extents.
func (w *window) geometry(in [2]int) (window, [2]int, error) {
	r := *w
	var out [2]int
	for i := 0; i < 2; i++ {
		// The dilated kernel's extent (k-1)·d + 1, its product checked
		// like a shape's size.
		reach, err := tensor.CheckShape([]int{w.kernel[i] - 1, w.dilation[i]})
		if err != nil {
			return r, out, fmt.Errorf("kernel %d dilated by %d: %w", w.kernel[i], w.dilation[i], err)
		}
		ext := reach + 1
		switch w.autoPad {
		case "VALID":
			r.padBegin[i], r.padEnd[i] = 0, 0
		case "SAME_UPPER", "SAME_LOWER":
			o := (in[i] + w.stride[i] - 1) / w.stride[i]
			total := max(0, (o-1)*w.stride[i]+ext-in[i])
			if w.autoPad == "SAME_UPPER" {
				r.padBegin[i] = total / 2
			} else {
				r.padBegin[i] = (total + 1) / 2
			}
			r.padEnd[i] = total - r.padBegin[i]
		}
		span := in[i] + r.padBegin[i] + r.padEnd[i] - ext
		if span < 0 {
			return r, out, fmt.Errorf("window %d (dilated) is larger than the padded input %d", ext, in[i]+r.padBegin[i]+r.padEnd[i])
		}
		if w.ceilMode {
			out[i] = (span+w.stride[i]-1)/w.stride[i] + 1
			// A window may not start in the end padding.
			if (out[i]-1)*w.stride[i] >= in[i]+r.padBegin[i] {
				out[i]--
			}
		} else {
			out[i] = span/w.stride[i] + 1
		}
	}
	return r, out, nil
}

// spatialDims maps an NCHW or NCL shape onto (N, C, [H, W]).
func spatialDims(shape []int) (n, c int, hw [2]int, err error) {
	switch len(shape) {
	case 4:
		return shape[0], shape[1], [2]int{shape[2], shape[3]}, nil
	case 3:
		return shape[0], shape[1], [2]int{1, shape[2]}, nil
	}
	return 0, 0, hw, fmt.Errorf("input rank %d not supported (want N,C,H,W or N,C,L)", len(shape))
}

func spatialShape(n, c int, out [2]int, rank int) []int {
	if rank == 3 {
		return []int{n, c, out[1]}
	}
	return []int{n, c, out[0], out[1]}
}

// Window is a Conv's or pooling node's sliding window resolved for one
// input size (auto_pad applied), for backends that run these operators
// with kernels of their own (core/cuda). Two spatial dimensions; 1-D
// operators have height 1.
type Window struct {
	Kernel, Stride, Dilation, PadBegin, PadEnd, Out [2]int
}

// ResolveWindow reads n's window attributes and resolves them for an
// input of spatial size in. weightKernel gives the kernel's spatial size
// when the node has no kernel_shape (a Conv's weights); pooling nodes
// pass nil.
func ResolveWindow(n *onnx.Node, weightKernel []int, in [2]int) (Window, error) {
	w, err := readWindow(n, weightKernel == nil)
	if err != nil {
		return Window{}, err
	}
	if !w.explicitK {
		off := 2 - len(weightKernel)
		for i, k := range weightKernel {
			w.kernel[off+i] = k
		}
	}
	r, out, err := w.geometry(in)
	if err != nil {
		return Window{}, err
	}
	return Window{Kernel: r.kernel, Stride: r.stride, Dilation: r.dilation, PadBegin: r.padBegin, PadEnd: r.padEnd, Out: out}, nil
}
