package ops

import (
	"fmt"
	"math"

	"github.com/int8cal/int8cal/core/internal/parallel"
	"github.com/int8cal/int8cal/core/onnx"
	"github.com/int8cal/int8cal/core/tensor"
)

func init() {
	poolAttrs := []string{"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides"}
	register("MaxPool", 1, buildPool(true), append(poolAttrs, "storage_order")...)
	register("AveragePool", 1, buildPool(false), append(poolAttrs, "count_include_pad")...)
	register("GlobalAveragePool", 1, func(n *onnx.Node, opset int64) (Op, error) { return &globalAvgPool{}, nil })
}

// pool is MaxPool or AveragePool over 1-D or 2-D windows.
type pool struct {
	win        *window
	max        bool
	includePad bool
	int8       bool // PassInt8: MaxPool of an int8 tensor (I8)
}

// CanPassInt8: max pooling commutes with quantization, a monotonic map
// (the max of the quantized values is the quantized max, ±Inf included),
// so an INT8 plan can pool the int8 tensor its producer wrote and hand the
// result, at the same scale, to the INT8 layer that reads it: the same
// bytes, a quarter of the traffic. The one exception is NaN: it quantizes
// to 0 before the max instead of after. Averages do not commute.
func (p *pool) CanPassInt8() bool { return p.max }

// PassInt8 makes the max pooling read and write int8.
func (p *pool) PassInt8() { p.int8 = true }

func buildPool(isMax bool) builder {
	return func(n *onnx.Node, opset int64) (Op, error) {
		w, err := readWindow(n, true)
		if err != nil {
			return nil, err
		}
		if attrInt(n, "storage_order", 0) != 0 {
			return nil, fmt.Errorf("storage_order=1 (column-major indices) not supported")
		}
		return &pool{win: w, max: isMax, includePad: attrInt(n, "count_include_pad", 0) != 0}, nil
	}
}

func (p *pool) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if !in[0].DType.IsFloat() {
		return nil, fmt.Errorf("input type %v not supported", in[0].DType)
	}
	n, c, hw, err := spatialDims(in[0].Shape)
	if err != nil {
		return nil, err
	}
	if len(in[0].Shape)-2 != p.win.rank {
		return nil, fmt.Errorf("kernel_shape has %d dims for a %d-D input", p.win.rank, len(in[0].Shape)-2)
	}
	_, out, err := p.win.geometry(hw)
	if err != nil {
		return nil, err
	}
	outs := one(in[0].DType, spatialShape(n, c, out, len(in[0].Shape)))
	if p.max {
		// The Indices output is not computed; refuse it in Run if wired.
		outs = append(outs, Meta{DType: tensor.Int64, Shape: outs[0].Shape})
	}
	return outs, nil
}

func (p *pool) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	if len(out) > 1 && out[1] != nil {
		return fmt.Errorf("MaxPool's Indices output is not supported")
	}
	x, y := in[0], out[0]
	n, c, hw, _ := spatialDims(x.Shape)
	win, ohw, err := p.win.geometry(hw)
	if err != nil {
		return err
	}
	ih, iw, oh, ow := hw[0], hw[1], ohw[0], ohw[1]
	planes := n * c
	if p.int8 {
		if err := checkLinked("MaxPool", true, true, x, y); err != nil {
			return err
		}
		parallel.For(planes, ctx.Workers, max(1, 4096/(oh*ow)), func(lo, hi int) {
			var rows maxRows
			for pl := lo; pl < hi; pl++ {
				src, dst := x.I8[pl*ih*iw:(pl+1)*ih*iw], y.I8[pl*oh*ow:(pl+1)*oh*ow]
				if !rows.pool(src, dst, hw, ohw, &win) {
					maxPoolPlane(src, dst, hw, ohw, &win, -128)
				}
			}
		})
		return nil
	}
	parallel.For(planes, ctx.Workers, max(1, 4096/(oh*ow)), func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x.F32[pl*ih*iw : (pl+1)*ih*iw]
			dst := y.F32[pl*oh*ow : (pl+1)*oh*ow]
			if p.max {
				maxPoolPlane(src, dst, hw, ohw, &win, float32(math.Inf(-1)))
				continue
			}
			eachWindow(hw, ohw, &win, func(o, y0, x0 int, inside bool) {
				if inside {
					dst[o] = p.reduceInside(src, iw, y0, x0, &win)
				} else {
					dst[o] = p.reduce(src, ih, iw, y0, x0, &win)
				}
			})
		}
	})
	return nil
}

// eachWindow calls f for every output o of a plane with its window's
// top-left tap (y0, x0) in input coordinates, and whether the window lies
// wholly inside the input (the common case, reduced without per-tap
// bounds checks).
func eachWindow(hw, ohw [2]int, win *window, f func(o, y0, x0 int, inside bool)) {
	ih, iw, oh, ow := hw[0], hw[1], ohw[0], ohw[1]
	for oy := 0; oy < oh; oy++ {
		y0 := oy*win.stride[0] - win.padBegin[0]
		rowInside := y0 >= 0 && y0+(win.kernel[0]-1)*win.dilation[0] < ih
		for ox := 0; ox < ow; ox++ {
			x0 := ox*win.stride[1] - win.padBegin[1]
			f(oy*ow+ox, y0, x0, rowInside && x0 >= 0 && x0+(win.kernel[1]-1)*win.dilation[1] < iw)
		}
	}
}

// maxPoolPlane max-pools one plane of float32 or int8 values; lowest is
// the type's least value, what taps outside the input leave.
func maxPoolPlane[T float32 | int8](src, dst []T, hw, ohw [2]int, win *window, lowest T) {
	ih, iw, oh, ow := hw[0], hw[1], ohw[0], ohw[1]
	if win.kernel == [2]int{2, 2} && win.stride == [2]int{2, 2} && win.dilation == [2]int{1, 1} &&
		win.padBegin == [2]int{} && 2*oh <= ih && 2*ow <= iw {
		maxPool2x2(src, dst, iw, oh, ow)
		return
	}
	if f, ok := any(src).([]float32); ok && maxPoolRowsF32(f, any(dst).([]float32), hw, ohw, win, any(lowest).(float32)) {
		return
	}
	eachWindow(hw, ohw, win, func(o, y0, x0 int, inside bool) {
		if inside {
			dst[o] = maxInside(src, iw, y0, x0, win)
		} else {
			dst[o] = maxPartial(src, ih, iw, y0, x0, win, lowest)
		}
	})
}

// maxPoolRowsF32 max-pools a float plane with the vector kernel
// (maxWindowsFast) over each output row's windows that lie inside the
// input, the others as maxPoolPlane does, and reports whether it did:
// not for strides other than 1 and 2 along a row, windows of more than
// 64 taps, or where there is no vector kernel. The kernel takes each
// window's taps in maxInside's order with maxInside's comparison, so
// NaNs and signed zeros come out the same.
func maxPoolRowsF32(src, dst []float32, hw, ohw [2]int, win *window, lowest float32) bool {
	ih, iw, oh, ow := hw[0], hw[1], ohw[0], ohw[1]
	kh, kw, dh, dw := win.kernel[0], win.kernel[1], win.dilation[0], win.dilation[1]
	sw, left := win.stride[1], win.padBegin[1]
	if sw != 1 && sw != 2 || kh*kw > 64 || !maxWindowsAvailable() {
		return false
	}
	var taps [64]int
	offs := taps[:0]
	for ky := 0; ky < kh; ky++ {
		for kx := 0; kx < kw; kx++ {
			offs = append(offs, ky*dh*iw+kx*dw)
		}
	}
	// Output columns [xa, xb) have their windows inside the input's
	// columns.
	xa := min(ow, ceilDiv(left, sw))
	xb := max(xa, min(ow, floorDiv(iw-1-(kw-1)*dw+left, sw)+1))
	for oy := 0; oy < oh; oy++ {
		y0 := oy*win.stride[0] - win.padBegin[0]
		rowInside := y0 >= 0 && y0+(kh-1)*dh < ih
		out := dst[oy*ow : (oy+1)*ow]
		done := 0 // outputs from xa on that the kernel did
		if rowInside && xb > xa {
			done = maxWindowsFast(out[xa:xb], src[y0*iw+xa*sw-left:], offs, xb-xa, sw)
		}
		for ox := 0; ox < ow; ox++ {
			if ox == xa {
				ox += done
				if ox == ow {
					break
				}
			}
			if x0 := ox*sw - left; rowInside && x0 >= 0 && x0+(kw-1)*dw < iw {
				out[ox] = maxInside(src, iw, y0, x0, win)
			} else {
				out[ox] = maxPartial(src, ih, iw, y0, x0, win, lowest)
			}
		}
	}
	return true
}

// maxRows pools int8 planes in two passes of whole rows, as max is
// separable: each output row's window rows are maxed into one padded row
// (the vertical pass), whose window columns are then maxed at every
// position (the horizontal pass), keeping every stride-th. Both passes
// are maxTaps over contiguous runs (32 bytes a step with AVX2), where a
// window at a time compared byte by byte, a branch each that mispredicts
// half the time (ResNet-50's 3×3 stride-2 pooling: 6% of its INT8 run
// with AVX2). Its rows are one worker's scratch, kept across planes.
type maxRows struct {
	padded, wide []int8
	rows, cols   []int // the offsets of a window's rows in the input, of its columns in padded
}

// pool pools src into dst and reports whether it did: windows without
// dilation, other than the 2×2 stride-2 ones maxPool2x2 does faster.
func (m *maxRows) pool(src, dst []int8, hw, ohw [2]int, win *window) bool {
	if win.dilation != [2]int{1, 1} || win.kernel == [2]int{2, 2} && win.stride == [2]int{2, 2} && win.padBegin == [2]int{} {
		return false
	}
	ih, iw, oh, ow := hw[0], hw[1], ohw[0], ohw[1]
	kh, kw, sh, sw, top, left := win.kernel[0], win.kernel[1], win.stride[0], win.stride[1], win.padBegin[0], win.padBegin[1]
	// The padded row spans every window of an output row: input column x
	// at left+x, -128 (what taps outside the input leave) around it.
	span := (ow-1)*sw + kw
	if len(m.padded) != max(span, left+iw) {
		m.padded = make([]int8, max(span, left+iw))
		for i := range m.padded {
			m.padded[i] = -128
		}
	}
	wide := (ow-1)*sw + 1
	m.wide = grow(m.wide, wide)
	m.cols = m.cols[:0]
	for kx := 0; kx < kw; kx++ {
		m.cols = append(m.cols, kx)
	}
	for oy := 0; oy < oh; oy++ {
		out := dst[oy*ow : (oy+1)*ow]
		y0 := oy*sh - top
		m.rows = m.rows[:0]
		for y := max(0, y0); y < min(ih, y0+kh); y++ {
			m.rows = append(m.rows, y*iw)
		}
		if len(m.rows) == 0 { // a window row wholly in the padding
			for i := range out {
				out[i] = -128
			}
			continue
		}
		maxTaps(m.padded[left:left+iw], src, m.rows, iw)
		maxTaps(m.wide, m.padded, m.cols, wide)
		for ox := range out {
			out[ox] = m.wide[ox*sw]
		}
	}
	return true
}

// maxTaps sets dst[i] to the max of src[offs[t]+i] over the offsets, for
// i < n.
func maxTaps(dst, src []int8, offs []int, n int) {
	if maxTapsFast(dst, src, offs, n) {
		return
	}
	for i := 0; i < n; i++ {
		best := src[offs[0]+i]
		for _, o := range offs[1:] {
			best = max(best, src[o+i])
		}
		dst[i] = best
	}
}

// maxPool2x2 is the common 2×2, stride-2 max pooling without padding, one
// plane. Each float32 row's outputs go to the vector kernel where there
// is one (a data-dependent branch per comparison mispredicts about half
// the time: this loop was half of LeNet's run time), the rest to the Go
// loop, whose comparisons the kernel repeats in the same order (so NaN
// and ±0 give the same bits).
func maxPool2x2[T float32 | int8](src, dst []T, iw, oh, ow int) {
	// done outputs of every row are pooled already: the int8 kernel does
	// all but up to 3 of each row of the plane in one call (the branches
	// below mispredict on half the bytes: Go's max builtin branches too).
	done := 0
	if s, ok := any(src).([]int8); ok {
		if done = maxPool2x2Int8Fast(any(dst).([]int8), s, iw, oh, ow); done == ow {
			return
		}
	}
	for oy := 0; oy < oh; oy++ {
		r0 := src[2*oy*iw : 2*oy*iw+2*ow]
		r1 := src[(2*oy+1)*iw : (2*oy+1)*iw+2*ow]
		out := dst[oy*ow : (oy+1)*ow]
		ox := done
		if o, ok := any(out).([]float32); ok {
			ox = maxPool2x2Fast(o, any(r0).([]float32), any(r1).([]float32))
		}
		for ; ox < len(out); ox++ {
			a, b, c, d := r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1]
			if b > a {
				a = b
			}
			if d > c {
				c = d
			}
			if c > a {
				a = c
			}
			out[ox] = a
		}
	}
}

// vectorPool lets tests turn maxPool2x2's vector kernel off.
var vectorPool = true

// maxInside is the max of a window that lies wholly inside the input,
// the common case, without per-tap bounds checks. (The first tap starts
// the max, and later ones replace it only when greater, so a NaN there
// stays: the vector kernel's order.)
func maxInside[T float32 | int8](src []T, iw, y0, x0 int, win *window) T {
	kh, kw, dh, dw := win.kernel[0], win.kernel[1], win.dilation[0], win.dilation[1]
	best := src[y0*iw+x0]
	for ky := 0; ky < kh; ky++ {
		row := src[(y0+ky*dh)*iw+x0:]
		for kx := 0; kx < kw; kx++ {
			if v := row[kx*dw]; v > best {
				best = v
			}
		}
	}
	return best
}

// maxPartial is the max of the taps of a window that lie inside the input
// (lowest when none does).
func maxPartial[T float32 | int8](src []T, ih, iw, y0, x0 int, win *window, lowest T) T {
	best := lowest
	for ky := 0; ky < win.kernel[0]; ky++ {
		y := y0 + ky*win.dilation[0]
		for kx := 0; kx < win.kernel[1]; kx++ {
			if x := x0 + kx*win.dilation[1]; y >= 0 && y < ih && x >= 0 && x < iw && src[y*iw+x] > best {
				best = src[y*iw+x]
			}
		}
	}
	return best
}

// reduceInside is reduce for a window that lies wholly inside the input,
// the common case, without per-tap bounds checks.
func (p *pool) reduceInside(src []float32, iw, y0, x0 int, win *window) float32 {
	kh, kw, dh, dw := win.kernel[0], win.kernel[1], win.dilation[0], win.dilation[1]
	var sum float32
	for ky := 0; ky < kh; ky++ {
		row := src[(y0+ky*dh)*iw+x0:]
		for kx := 0; kx < kw; kx++ {
			sum += row[kx*dw]
		}
	}
	return sum / float32(kh*kw)
}

// reduce computes one output of the average pooling window whose top-left
// tap is at (y0, x0) in input coordinates.
func (p *pool) reduce(src []float32, ih, iw, y0, x0 int, win *window) float32 {
	var sum float32
	count, padded := 0, 0
	for ky := 0; ky < win.kernel[0]; ky++ {
		y := y0 + ky*win.dilation[0]
		for kx := 0; kx < win.kernel[1]; kx++ {
			x := x0 + kx*win.dilation[1]
			if y < 0 || y >= ih || x < 0 || x >= iw {
				// Taps in the explicit padding count for count_include_pad;
				// taps past it (ceil_mode overhang) never do.
				if y >= -win.padBegin[0] && y < ih+win.padEnd[0] && x >= -win.padBegin[1] && x < iw+win.padEnd[1] {
					padded++
				}
				continue
			}
			sum += src[y*iw+x]
			count++
		}
	}
	if p.includePad {
		count += padded
	}
	if count == 0 {
		return 0
	}
	return sum / float32(count)
}

// globalAvgPool averages each channel plane to one value.
type globalAvgPool struct{}

func (globalAvgPool) Infer(in []Meta, _ []*tensor.Tensor) ([]Meta, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := wantFloat(in); err != nil {
		return nil, err
	}
	s := in[0].Shape
	if len(s) < 3 {
		return nil, fmt.Errorf("input rank %d, want at least 3 (N,C,spatial...)", len(s))
	}
	out := []int{s[0], s[1]}
	for range s[2:] {
		out = append(out, 1)
	}
	return one(in[0].DType, out), nil
}

func (globalAvgPool) Run(ctx *Ctx, in, out []*tensor.Tensor) error {
	s := in[0].Shape
	planes := s[0] * s[1]
	size := tensor.NumElements(s[2:])
	x, y := in[0].F32, out[0].F32
	parallel.For(planes, ctx.Workers, max(1, minParallel/size), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			var sum float32
			for _, v := range x[p*size : (p+1)*size] {
				sum += v
			}
			y[p] = sum / float32(size)
		}
	})
	return nil
}
